CREATE TABLE "webhook_tokens" (
	"token" text PRIMARY KEY NOT NULL,
	"event_key" text NOT NULL,
	"seen_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_tokens_seen_at" ON "webhook_tokens" USING btree ("seen_at");