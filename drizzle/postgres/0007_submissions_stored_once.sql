CREATE TABLE "submissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"raw" "bytea" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "submission_id" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "submitted_by" text;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_submission" ON "messages" USING btree ("submission_id") WHERE "messages"."submission_id" is not null;--> statement-breakpoint
ALTER TABLE "messages" DROP COLUMN "raw_mime";