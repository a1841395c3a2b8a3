DROP INDEX `messages_outcome_id`;--> statement-breakpoint
DROP INDEX `messages_due`;--> statement-breakpoint
DROP INDEX `messages_lease`;--> statement-breakpoint
CREATE INDEX `messages_outcome_id` ON `messages` (`outcome`,`id`) WHERE "messages"."outcome" is not null;--> statement-breakpoint
CREATE INDEX `messages_due` ON `messages` (`next_attempt_at`,`id`) WHERE "messages"."status" = 'QUEUED';--> statement-breakpoint
CREATE INDEX `messages_lease` ON `messages` (`lease_expires_at`) WHERE "messages"."status" = 'PROCESSING';