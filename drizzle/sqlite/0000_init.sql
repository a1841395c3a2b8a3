CREATE TABLE `dispatches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`succeeded` integer NOT NULL,
	`at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`response` text,
	`error` text,
	`error_code` text,
	`smtp_config_version` integer,
	`transcript` text,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `dispatches_message` ON `dispatches` (`message_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `dispatches_error_code` ON `dispatches` (`error_code`,`message_id`);--> statement-breakpoint
CREATE INDEX `dispatches_config` ON `dispatches` (`smtp_config_version`,`message_id`);--> statement-breakpoint
CREATE TABLE `message_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`previous_status` text,
	`reason` text NOT NULL,
	`attempt` integer,
	`error` text,
	`smtp_config_version` integer,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `message_events_message` ON `message_events` (`message_id`,`seq`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`recipient` text NOT NULL,
	`recipient_key` text NOT NULL,
	`subject` text NOT NULL,
	`text` text,
	`html` text,
	`headers` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`attempts_at_retry` integer DEFAULT 0 NOT NULL,
	`message_id` text NOT NULL,
	`idempotency_key` text,
	`request_hash` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`next_attempt_at` integer,
	`lease_expires_at` integer,
	`last_error` text,
	`smtp_config_version` integer,
	`ever_failed` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_ever_failed_id` ON `messages` (`ever_failed`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_idempotency_key` ON `messages` (`idempotency_key`) WHERE "messages"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX `messages_due` ON `messages` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `messages_lease` ON `messages` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `messages_status_id` ON `messages` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `messages_recipient_id` ON `messages` (`recipient_key`,`id`);--> statement-breakpoint
CREATE INDEX `messages_created_at` ON `messages` (`created_at`);--> statement-breakpoint
CREATE TABLE `smtp_configs` (
	`version` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_uri` text NOT NULL,
	`from_address` text NOT NULL,
	`from_name` text,
	`headers` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stat_counters` (
	`resolution_ms` integer NOT NULL,
	`bucket_start` integer NOT NULL,
	`metric` text NOT NULL,
	`key` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`resolution_ms`, `bucket_start`, `metric`, `key`)
);
