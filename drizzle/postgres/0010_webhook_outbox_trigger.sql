-- Outgoing webhooks' outbox: each message event that maps to a webhook event type (CONTRACT.md,
-- "Outgoing webhooks") adds one row per enabled endpoint subscribed to it, in the transaction
-- that appended the event, so a crash loses none. Once per statement (the queue appends events
-- in batches); with no enabled endpoint it stops at one look at a tiny table. The body is the
-- request as signed: the message as of the change (never text, html, headers or secrets), plus
-- the event's error and report. The mapping is written again in
-- drizzle/sqlite/0013_webhook_outbox_trigger.sql; test/integration/webhook-event-types.test.ts
-- runs one table of cases against both.
CREATE FUNCTION webhook_outbox_on_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_outbox (endpoint_id, webhook_id, event_type, payload, created_at, attempts, next_attempt_at)
  SELECT e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), x.type,
    jsonb_build_object(
      'type', lower(replace(x.type, '_', '.')),
      'timestamp', to_char(to_timestamp(x.at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'data', jsonb_build_object(
        'message', jsonb_build_object(
          'id', m.id::text,
          'recipient', m.recipient,
          'subject', m.subject,
          'status', x.status,
          'outcome', m.outcome,
          'attempts', m.attempts,
          'messageId', m.message_id,
          'createdAt', to_char(to_timestamp(m.created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'updatedAt', to_char(to_timestamp(m.updated_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        ),
        'error', x.error,
        'report', x.report
      )
    )::text,
    x.at, 0, x.at
  FROM (
    SELECT ev.*, CASE
      WHEN ev.reason = 'queued' THEN 'MESSAGE_QUEUED'
      WHEN ev.reason = 'sent' THEN 'MESSAGE_SENT'
      WHEN ev.reason = 'retry_scheduled' THEN 'MESSAGE_DEFERRED'
      WHEN ev.reason IN ('failed_permanently', 'attempts_exhausted') THEN 'MESSAGE_ABANDONED'
      WHEN ev.reason = 'cancelled' THEN 'MESSAGE_CANCELLED'
      WHEN ev.reason = 'suppressed' THEN 'MESSAGE_SUPPRESSED'
      WHEN ev.reason LIKE 'report\_%' AND ev.outcome IS NOT NULL THEN 'MESSAGE_' || ev.outcome
    END AS type
    FROM new_events ev
  ) x
  JOIN messages m ON m.id = x.message_id
  JOIN webhook_endpoints e ON e.enabled AND x.type = ANY (e.events)
  WHERE x.type IS NOT NULL
  ORDER BY x.seq;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER webhook_outbox_on_events AFTER INSERT ON message_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION webhook_outbox_on_events();
