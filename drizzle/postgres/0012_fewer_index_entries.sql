DROP INDEX "dispatches_error_code";--> statement-breakpoint
DROP INDEX "messages_ever_failed_id";--> statement-breakpoint
CREATE INDEX "dispatches_error_code" ON "dispatches" USING btree ("error_code","message_id") WHERE "dispatches"."error_code" is not null;--> statement-breakpoint
CREATE INDEX "messages_ever_failed_id" ON "messages" USING btree ("id") WHERE "messages"."ever_failed";