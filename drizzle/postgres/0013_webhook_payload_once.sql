-- The outbox trigger of 0010 with each event's body built once instead of once per endpoint:
-- the join with webhook_endpoints repeated jsonb_build_object (three timestamps, the message's
-- fields) for every endpoint row. The bodies are a materialised CTE now, of the events some
-- enabled endpoint subscribes to; each subscribed endpoint gets its row of it. Same mapping, same
-- rows (drizzle/sqlite/0017_webhook_payload_once.sql does the same for SQLite).
CREATE OR REPLACE FUNCTION webhook_outbox_on_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) THEN
    RETURN NULL;
  END IF;
  WITH bodies AS MATERIALIZED (
    SELECT x.seq, x.type, x.at,
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
      )::text AS payload
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
    WHERE x.type IS NOT NULL
      AND EXISTS (SELECT 1 FROM webhook_endpoints s WHERE s.enabled AND x.type = ANY (s.events))
  )
  INSERT INTO webhook_outbox (endpoint_id, webhook_id, event_type, payload, created_at, attempts, next_attempt_at)
  SELECT e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), b.type, b.payload, b.at, 0, b.at
  FROM bodies b
  JOIN webhook_endpoints e ON e.enabled AND b.type = ANY (e.events)
  ORDER BY b.seq;
  RETURN NULL;
END
$$;
