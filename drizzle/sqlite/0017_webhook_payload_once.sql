-- The outbox trigger of 0013 with the body built once per event instead of once per endpoint:
-- SQLite evaluated json_object (three timestamps, the message's fields) for every endpoint row
-- the join produced. The body and the type are now one row of a subquery that cannot be
-- flattened into the join (LIMIT 1), read first (CROSS JOIN keeps it the outer loop); an event
-- no enabled endpoint subscribes to builds nothing, as before. Same mapping, same rows.
DROP TRIGGER `webhook_outbox_on_event`;
--> statement-breakpoint
CREATE TRIGGER `webhook_outbox_on_event` AFTER INSERT ON `message_events`
WHEN EXISTS (SELECT 1 FROM `webhook_endpoints` WHERE `enabled` = 1)
BEGIN
  INSERT INTO `webhook_outbox` (`endpoint_id`, `webhook_id`, `event_type`, `payload`, `created_at`, `attempts`, `next_attempt_at`)
  SELECT e.`id`, 'msg_' || lower(hex(randomblob(12))), p.`type`, p.`payload`, new.`at`, 0, new.`at`
  FROM (
    SELECT t.`type`,
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
      ) AS `payload`
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
    WHERE t.`type` IS NOT NULL
      AND EXISTS (
        SELECT 1 FROM `webhook_endpoints` s, json_each(s.`events`)
        WHERE s.`enabled` = 1 AND json_each.`value` = t.`type`
      )
    LIMIT 1
  ) p
  CROSS JOIN `webhook_endpoints` e
  WHERE e.`enabled` = 1
    AND EXISTS (SELECT 1 FROM json_each(e.`events`) WHERE json_each.`value` = p.`type`);
END;
