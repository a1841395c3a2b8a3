ALTER TABLE `api_tokens` ADD `created_via` text;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `created_by_token_id` integer;--> statement-breakpoint
CREATE INDEX `api_tokens_created_by` ON `api_tokens` (`created_by_token_id`);