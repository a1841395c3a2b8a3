CREATE TABLE "api_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	"last_used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "dispatches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"succeeded" boolean NOT NULL,
	"at" bigint NOT NULL,
	"duration_ms" integer NOT NULL,
	"response" text,
	"error" jsonb,
	"error_code" text,
	"smtp_config_version" integer,
	"transcript" text
);
--> statement-breakpoint
CREATE TABLE "message_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"message_id" bigint NOT NULL,
	"at" bigint NOT NULL,
	"status" text NOT NULL,
	"previous_status" text,
	"reason" text NOT NULL,
	"attempt" integer,
	"error" jsonb,
	"smtp_config_version" integer
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"recipient" text NOT NULL,
	"recipient_key" text NOT NULL,
	"subject" text NOT NULL,
	"subject_folded" text NOT NULL,
	"text" text,
	"html" text,
	"headers" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"attempts_at_retry" integer DEFAULT 0 NOT NULL,
	"message_id" text NOT NULL,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"next_attempt_at" bigint,
	"lease_expires_at" bigint,
	"last_error" jsonb,
	"smtp_config_version" integer,
	"ever_failed" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"pruned_through_xid" bigint NOT NULL,
	"pruned_through_seq" bigint NOT NULL,
	"pruned_messages" bigint NOT NULL,
	"last_pruned_at" bigint
);
--> statement-breakpoint
CREATE TABLE "smtp_configs" (
	"version" serial PRIMARY KEY NOT NULL,
	"connection_uri" text NOT NULL,
	"from_address" text NOT NULL,
	"from_name" text,
	"headers" jsonb NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stat_counter_deltas" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"resolution_ms" integer NOT NULL,
	"bucket_start" bigint NOT NULL,
	"metric" text NOT NULL,
	"key" text NOT NULL,
	"count" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stat_counters" (
	"resolution_ms" integer NOT NULL,
	"bucket_start" bigint NOT NULL,
	"metric" text NOT NULL,
	"key" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "stat_counters_resolution_ms_bucket_start_metric_key_pk" PRIMARY KEY("resolution_ms","bucket_start","metric","key")
);
--> statement-breakpoint
ALTER TABLE "dispatches" ADD CONSTRAINT "dispatches_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "dispatches_message" ON "dispatches" USING btree ("message_id","attempt");--> statement-breakpoint
CREATE INDEX "dispatches_error_code" ON "dispatches" USING btree ("error_code","message_id");--> statement-breakpoint
CREATE INDEX "dispatches_config" ON "dispatches" USING btree ("smtp_config_version","message_id");--> statement-breakpoint
CREATE INDEX "message_events_order" ON "message_events" USING btree ("xid","seq");--> statement-breakpoint
CREATE INDEX "message_events_message" ON "message_events" USING btree ("message_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_idempotency_key" ON "messages" USING btree ("idempotency_key") WHERE "messages"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "messages_due" ON "messages" USING btree ("next_attempt_at","id") WHERE "messages"."status" = 'QUEUED';--> statement-breakpoint
CREATE INDEX "messages_lease" ON "messages" USING btree ("lease_expires_at") WHERE "messages"."status" = 'PROCESSING';--> statement-breakpoint
CREATE INDEX "messages_status_id" ON "messages" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "messages_recipient_id" ON "messages" USING btree ("recipient_key","id");--> statement-breakpoint
CREATE INDEX "messages_created_at" ON "messages" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "messages_ever_failed_id" ON "messages" USING btree ("ever_failed","id");--> statement-breakpoint
CREATE INDEX "messages_subject_search" ON "messages" USING gin ("subject_folded" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "stat_counter_deltas_bucket" ON "stat_counter_deltas" USING btree ("resolution_ms","bucket_start");