CREATE TABLE "service_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"address_key" text NOT NULL,
	"reason" text NOT NULL,
	"source" text,
	"message_id" bigint,
	"detail" text,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL,
	"created_by_token_id" integer,
	"removed_at" bigint,
	"removed_by" text,
	"removed_by_token_id" integer
);
--> statement-breakpoint
CREATE TABLE "unmatched_reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"source" text NOT NULL,
	"outcome" text NOT NULL,
	"recipient" text,
	"detail" text,
	"report_key" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "message_events" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "message_events" ADD COLUMN "report" jsonb;--> statement-breakpoint
ALTER TABLE "message_events" ADD COLUMN "report_key" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "outcome" text;--> statement-breakpoint
CREATE UNIQUE INDEX "suppressions_active" ON "suppressions" USING btree ("address_key") WHERE "suppressions"."removed_at" is null;--> statement-breakpoint
CREATE INDEX "suppressions_address" ON "suppressions" USING btree ("address_key","id");--> statement-breakpoint
CREATE UNIQUE INDEX "unmatched_reports_key" ON "unmatched_reports" USING btree ("report_key");--> statement-breakpoint
CREATE UNIQUE INDEX "message_events_report_key" ON "message_events" USING btree ("report_key") WHERE "message_events"."report_key" is not null;--> statement-breakpoint
CREATE INDEX "messages_outcome_id" ON "messages" USING btree ("outcome","id") WHERE "messages"."outcome" is not null;--> statement-breakpoint
CREATE INDEX "messages_message_id" ON "messages" USING btree ("message_id");