ALTER TABLE `smtp_configs` ADD `dkim_domain` text;--> statement-breakpoint
ALTER TABLE `smtp_configs` ADD `dkim_selector` text;--> statement-breakpoint
ALTER TABLE `smtp_configs` ADD `dkim_private_key` text;