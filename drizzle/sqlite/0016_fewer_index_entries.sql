DROP INDEX `messages_created_at`;--> statement-breakpoint
DROP INDEX `messages_ever_failed_id`;--> statement-breakpoint
CREATE INDEX `messages_ever_failed_id` ON `messages` (`id`) WHERE "messages"."ever_failed" = 1;--> statement-breakpoint
DROP INDEX `dispatches_error_code`;--> statement-breakpoint
CREATE INDEX `dispatches_error_code` ON `dispatches` (`error_code`,`message_id`) WHERE "dispatches"."error_code" is not null;