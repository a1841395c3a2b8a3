ALTER TABLE "smtp_configs" ADD COLUMN "dkim_domain" text;--> statement-breakpoint
ALTER TABLE "smtp_configs" ADD COLUMN "dkim_selector" text;--> statement-breakpoint
ALTER TABLE "smtp_configs" ADD COLUMN "dkim_private_key" text;