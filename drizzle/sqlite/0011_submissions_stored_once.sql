CREATE TABLE `submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`raw` blob NOT NULL
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `submission_id` integer REFERENCES submissions(id);--> statement-breakpoint
ALTER TABLE `messages` ADD `submitted_by` text;--> statement-breakpoint
CREATE INDEX `messages_submission` ON `messages` (`submission_id`) WHERE "messages"."submission_id" is not null;--> statement-breakpoint
-- Added by hand: messages submitted before this version keep their bytes (one submission each).
INSERT INTO `submissions` (`id`, `raw`) SELECT `id`, `raw_mime` FROM `messages` WHERE `raw_mime` IS NOT NULL;--> statement-breakpoint
UPDATE `messages` SET `submission_id` = `id` WHERE `raw_mime` IS NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` DROP COLUMN `raw_mime`;