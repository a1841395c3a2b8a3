-- Outgoing webhooks' outbox: each message event that maps to a webhook event type (CONTRACT.md,
-- "Outgoing webhooks") adds one row per enabled endpoint subscribed to it, in the transaction
-- that appended the event, so a crash loses none. With no enabled endpoint the WHEN clause stops
-- it at one look at a tiny table. The body is the request as signed: the message as of the change
-- (never text, html, headers or secrets), plus the event's error and report. The mapping is
-- written again in drizzle/postgres/0010_webhook_outbox_trigger.sql; test/integration/webhook-
-- event-types.test.ts runs one table of cases against both.
CREATE TRIGGER `webhook_outbox_on_event` AFTER INSERT ON `message_events`
WHEN EXISTS (SELECT 1 FROM `webhook_endpoints` WHERE `enabled` = 1)
BEGIN
  INSERT INTO `webhook_outbox` (`endpoint_id`, `webhook_id`, `event_type`, `payload`, `created_at`, `attempts`, `next_attempt_at`)
  SELECT e.`id`, 'msg_' || lower(hex(randomblob(12))), t.`type`,
    json_object(
      'type', lower(replace(t.`type`, '_', '.')),
      'timestamp', strftime('%Y-%m-%dT%H:%M:%S', new.`at` / 1000, 'unixepoch') || printf('.%03dZ', new.`at` % 1000),
      'data', json_object(
        'message', json_object(
          'id', CAST(m.`id` AS TEXT),
          'recipient', m.`recipient`,
          'subject', m.`subject`,
          'status', new.`status`,
          'outcome', m.`outcome`,
          'attempts', m.`attempts`,
          'messageId', m.`message_id`,
          'createdAt', strftime('%Y-%m-%dT%H:%M:%S', m.`created_at` / 1000, 'unixepoch') || printf('.%03dZ', m.`created_at` % 1000),
          'updatedAt', strftime('%Y-%m-%dT%H:%M:%S', m.`updated_at` / 1000, 'unixepoch') || printf('.%03dZ', m.`updated_at` % 1000)
        ),
        'error', json(new.`error`),
        'report', json(new.`report`)
      )
    ),
    new.`at`, 0, new.`at`
  FROM (
    SELECT CASE
      WHEN new.`reason` = 'queued' THEN 'MESSAGE_QUEUED'
      WHEN new.`reason` = 'sent' THEN 'MESSAGE_SENT'
      WHEN new.`reason` = 'retry_scheduled' THEN 'MESSAGE_DEFERRED'
      WHEN new.`reason` IN ('failed_permanently', 'attempts_exhausted') THEN 'MESSAGE_ABANDONED'
      WHEN new.`reason` = 'cancelled' THEN 'MESSAGE_CANCELLED'
      WHEN new.`reason` = 'suppressed' THEN 'MESSAGE_SUPPRESSED'
      WHEN new.`reason` LIKE 'report\_%' ESCAPE '\' AND new.`outcome` IS NOT NULL THEN 'MESSAGE_' || new.`outcome`
    END AS `type`
  ) t
  JOIN `messages` m ON m.`id` = new.`message_id`
  JOIN `webhook_endpoints` e ON e.`enabled` = 1
    AND EXISTS (SELECT 1 FROM json_each(e.`events`) WHERE json_each.`value` = t.`type`)
  WHERE t.`type` IS NOT NULL;
END;
