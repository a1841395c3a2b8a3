CREATE TABLE `service_keys` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `suppressions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`address` text NOT NULL,
	`address_key` text NOT NULL,
	`reason` text NOT NULL,
	`source` text,
	`message_id` integer,
	`detail` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_by_token_id` integer,
	`removed_at` integer,
	`removed_by` text,
	`removed_by_token_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_active` ON `suppressions` (`address_key`) WHERE "suppressions"."removed_at" is null;--> statement-breakpoint
CREATE INDEX `suppressions_address` ON `suppressions` (`address_key`,`id`);--> statement-breakpoint
CREATE TABLE `unmatched_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`source` text NOT NULL,
	`outcome` text NOT NULL,
	`recipient` text,
	`detail` text,
	`report_key` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `unmatched_reports_key` ON `unmatched_reports` (`report_key`);--> statement-breakpoint
ALTER TABLE `message_events` ADD `outcome` text;--> statement-breakpoint
ALTER TABLE `message_events` ADD `report` text;--> statement-breakpoint
ALTER TABLE `message_events` ADD `report_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `message_events_report_key` ON `message_events` (`report_key`) WHERE "message_events"."report_key" is not null;--> statement-breakpoint
ALTER TABLE `messages` ADD `outcome` text;--> statement-breakpoint
CREATE INDEX `messages_outcome_id` ON `messages` (`outcome`,`id`);--> statement-breakpoint
CREATE INDEX `messages_message_id` ON `messages` (`message_id`);