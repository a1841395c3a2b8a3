CREATE TABLE `submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`raw` blob NOT NULL
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `submission_id` integer REFERENCES submissions(id);--> statement-breakpoint
ALTER TABLE `messages` ADD `submitted_by` text;--> statement-breakpoint
CREATE INDEX `messages_submission` ON `messages` (`submission_id`) WHERE "messages"."submission_id" is not null;--> statement-breakpoint
ALTER TABLE `messages` DROP COLUMN `raw_mime`;