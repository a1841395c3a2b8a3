import { comparePositions, type EventPosition } from '../../domain/event-position.ts';
import type { PruneRequest, PruneResult, RetentionStore } from '../port.ts';
import type { PostgresClient } from './client.ts';

/** Any 64-bit key: one instance at a time prunes. */
const PRUNE_LOCK = '7236011903214235398';

const NOTHING: PruneResult = { messages: 0, dispatches: 0, events: 0 };

/** As sqlite/retention.ts: old finished messages go with their dispatches and events. */
export function createPostgresRetention(client: PostgresClient): RetentionStore {
  return {
    async capId(keepNewest) {
      const { rows } = await client.query<{ id: number }>(
        'SELECT id FROM messages ORDER BY id DESC OFFSET $1 LIMIT 1',
        [keepNewest - 1],
      );
      return rows[0]?.id ?? null;
    },

    async pruneUnmatchedReports(olderThanMs) {
      const result = await client.query('DELETE FROM unmatched_reports WHERE at < $1', [
        olderThanMs,
      ]);
      return result.rowCount ?? 0;
    },

    async pruneWebhookDeliveries(olderThanMs) {
      // Attempts go with their delivery (ON DELETE CASCADE).
      const result = await client.query(
        'DELETE FROM webhook_outbox WHERE next_attempt_at IS NULL AND created_at < $1',
        [olderThanMs],
      );
      return result.rowCount ?? 0;
    },

    pruneBatch(request: PruneRequest) {
      return client.transaction(async (tx) => {
        const lock = await tx.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [PRUNE_LOCK],
        );
        if (!lock.rows[0]?.locked) return NOTHING;
        const ids = new Set<number>();
        if (request.olderThanMs !== null) {
          const { rows } = await tx.query<{ id: number }>(
            `SELECT id FROM messages WHERE created_at < $1 AND updated_at < $1
              AND status IN ('SENT', 'ABANDONED', 'CANCELLED', 'SUPPRESSED')
              ORDER BY created_at LIMIT $2 FOR UPDATE`,
            [request.olderThanMs, request.limit],
          );
          for (const row of rows) ids.add(row.id);
        }
        if (request.belowId !== null && ids.size < request.limit) {
          const { rows } = await tx.query<{ id: number }>(
            `SELECT id FROM messages WHERE id < $1 AND status IN ('SENT', 'ABANDONED', 'CANCELLED', 'SUPPRESSED')
              ORDER BY id LIMIT $2 FOR UPDATE`,
            [request.belowId, request.limit - ids.size],
          );
          for (const row of rows) ids.add(row.id);
        }
        // Not a message with an event the feed has not settled yet (written by a transaction
        // newer than the oldest one still running): pruned, it would raise pruned_through past
        // what readers have seen, and eventCursor (never below it) past events still to come.
        // The next run takes it.
        if (ids.size > 0) {
          const { rows: unsettled } = await tx.query<{ id: number }>(
            `SELECT DISTINCT message_id AS id FROM message_events
              WHERE message_id = ANY($1::bigint[]) AND NOT (xid < pg_snapshot_xmin(pg_current_snapshot()))`,
            [[...ids]],
          );
          for (const row of unsettled) ids.delete(Number(row.id));
        }
        if (ids.size === 0) return NOTHING;
        const list = [...ids];
        const newest = await tx.query<EventPosition>(
          `SELECT xid, seq FROM message_events WHERE message_id = ANY($1::bigint[])
            ORDER BY xid DESC, seq DESC LIMIT 1`,
          [list],
        );
        const events = await tx.query('DELETE FROM message_events WHERE message_id = ANY($1)', [
          list,
        ]);
        const dispatched = await tx.query('DELETE FROM dispatches WHERE message_id = ANY($1)', [
          list,
        ]);
        const deleted = await tx.query<{ submissionId: number | null }>(
          `DELETE FROM messages WHERE id = ANY($1) AND status IN ('SENT', 'ABANDONED', 'CANCELLED', 'SUPPRESSED')
            RETURNING submission_id AS "submissionId"`,
          [list],
        );
        // A submission goes with the last of its recipients' messages (one instance prunes at a
        // time, under the lock above, so two batches never each leave it to the other).
        const submitted = [...new Set(deleted.rows.flatMap((row) => row.submissionId ?? []))];
        if (submitted.length > 0) {
          await tx.query(
            `DELETE FROM submissions s WHERE s.id = ANY($1::bigint[])
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.submission_id = s.id)`,
            [submitted],
          );
        }
        const state = await tx.query<EventPosition & { messages: number }>(
          `SELECT pruned_through_xid AS xid, pruned_through_seq AS seq, pruned_messages AS messages
            FROM retention_state WHERE id = 1 FOR UPDATE`,
        );
        const before = state.rows[0] ?? { xid: 0, seq: 0, messages: 0 };
        const candidate = newest.rows[0] ?? before;
        const through = comparePositions(candidate, before) > 0 ? candidate : before;
        await tx.query(
          `INSERT INTO retention_state (id, pruned_through_xid, pruned_through_seq, pruned_messages,
              last_pruned_at)
            VALUES (1, $1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET pruned_through_xid = excluded.pruned_through_xid,
              pruned_through_seq = excluded.pruned_through_seq,
              pruned_messages = excluded.pruned_messages, last_pruned_at = excluded.last_pruned_at`,
          [through.xid, through.seq, before.messages + (deleted.rowCount ?? 0), request.nowMs],
        );
        return {
          messages: deleted.rowCount ?? 0,
          dispatches: dispatched.rowCount ?? 0,
          events: events.rowCount ?? 0,
        };
      });
    },
  };
}
