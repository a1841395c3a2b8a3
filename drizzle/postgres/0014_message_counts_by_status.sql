-- Counts of messages by status (`/metrics`' mailscope_messages, the queue snapshot), kept by the
-- database instead of counted at every scrape: a grouped count of the whole table took 38 ms at
-- 110,000 messages and grows with the history. Every status change appends an event (the live
-- feed rests on it), so each statement's new events add +1 to their status and -1 to their
-- previous one (none for a new message); deleted messages (retention) take -1 from theirs. The
-- increments go to stat_counter_deltas, as the statistics counters' do: appended, never
-- updated in place, so concurrent writers never wait on one row; the fold job adds them into
-- stat_counters (metric 'status', resolution 0: all time), and readers sum both tables.
LOCK TABLE messages, message_events IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
CREATE FUNCTION status_counts_on_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stat_counter_deltas (resolution_ms, bucket_start, metric, key, count)
  SELECT 0, 0, 'status', c.status, sum(c.n) FROM (
    SELECT status, 1 AS n FROM new_events
    UNION ALL
    SELECT previous_status, -1 FROM new_events WHERE previous_status IS NOT NULL
  ) c
  GROUP BY c.status
  HAVING sum(c.n) <> 0
  ORDER BY c.status;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER status_counts_on_events AFTER INSERT ON message_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION status_counts_on_events();
--> statement-breakpoint
CREATE FUNCTION status_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stat_counter_deltas (resolution_ms, bucket_start, metric, key, count)
  SELECT 0, 0, 'status', status, -count(*) FROM deleted_messages
  GROUP BY status
  ORDER BY status;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER status_counts_on_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS deleted_messages
  FOR EACH STATEMENT EXECUTE FUNCTION status_counts_on_delete();
--> statement-breakpoint
-- What is stored now, counted once: the lock above keeps every writer out until this commits.
INSERT INTO stat_counters (resolution_ms, bucket_start, metric, key, count)
SELECT 0, 0, 'status', status, count(*) FROM messages GROUP BY status;
