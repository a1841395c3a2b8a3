CREATE TABLE "submissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"raw" "bytea" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "submission_id" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "submitted_by" text;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_submission" ON "messages" USING btree ("submission_id") WHERE "messages"."submission_id" is not null;--> statement-breakpoint
-- Added by hand: messages submitted before this version keep their bytes (one submission each).
INSERT INTO "submissions" ("id", "raw") SELECT "id", "raw_mime" FROM "messages" WHERE "raw_mime" IS NOT NULL;--> statement-breakpoint
UPDATE "messages" SET "submission_id" = "id" WHERE "raw_mime" IS NOT NULL;--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('submissions', 'id'), COALESCE((SELECT max("id") FROM "submissions"), 0) + 1, false);--> statement-breakpoint
ALTER TABLE "messages" DROP COLUMN "raw_mime";