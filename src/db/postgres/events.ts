import { LOG_START, type EventPosition } from '../../domain/event-position.ts';
import type { MessageEvent } from '../../domain/message.ts';
import type { EventFilter, EventLog } from '../port.ts';
import { toEvent, type EventRow } from '../rows.ts';
import type { PostgresClient } from './client.ts';
import { eventColumns } from './columns.ts';

// The event log's one order on PostgreSQL is (xid, seq): the writing transaction's id, then the
// sequence number. A sequence value is taken before commit, so ordering by seq alone would let
// an event whose transaction commits late appear behind a reader that has already read past it,
// and be skipped for good. Transaction ids below the current snapshot's xmin belong to
// transactions that every snapshot sees as finished; reading only those, in (xid, seq) order,
// nothing can ever appear behind a reader. A transaction held open delays the log for everyone
// until it ends; it never makes anyone skip.

/** Events below this are final: their transactions are over, whatever they did. */
const SETTLED = `e.xid < pg_snapshot_xmin(pg_current_snapshot())`;

const LATEST = {
  name: 'mailscope-events-latest',
  text: `SELECT e.xid, e.seq FROM message_events e WHERE ${SETTLED}
    ORDER BY e.xid DESC, e.seq DESC LIMIT 1`,
};

const PRUNED_THROUGH = {
  name: 'mailscope-events-pruned-through',
  text: `SELECT pruned_through_xid AS xid, pruned_through_seq AS seq FROM retention_state
    WHERE id = 1`,
};

const FOR_MESSAGE = {
  name: 'mailscope-events-for-message',
  text: `SELECT ${eventColumns('e.')}, m.recipient FROM message_events e
    JOIN messages m ON m.id = e.message_id
    WHERE e.message_id = $1 ORDER BY e.xid, e.seq`,
};

// Ordered and limited, so the (xid, seq) index answers it whatever the table's statistics say
// (a fresh table, not analyzed yet, would otherwise be scanned whole on every look).
const ANY_AFTER = {
  name: 'mailscope-events-any-after',
  text: `SELECT true AS pending FROM message_events e
    WHERE (e.xid, e.seq) > ($1::text::xid8, $2::bigint)
    ORDER BY e.xid, e.seq LIMIT 1`,
};

type Row = EventRow & { xid: number; recipient: string };

export function createPostgresEventLog(client: PostgresClient): EventLog & {
  /** Whether any committed event lies after `after`, settled or not. */
  anyAfter(after: EventPosition): Promise<boolean>;
} {
  return {
    async latest() {
      const { rows } = await client.query<EventPosition>(LATEST);
      return rows[0] ?? LOG_START;
    },

    async prunedThrough() {
      const { rows } = await client.query<EventPosition>(PRUNED_THROUGH);
      return rows[0] ?? LOG_START;
    },

    async listAfter(after, limit, filter: EventFilter = {}) {
      const values: unknown[] = [String(after.xid), after.seq, limit];
      // Each event's recipient is looked up by the message's id, for the rows returned only (a
      // join would read the whole messages table while it is not analyzed yet).
      let sql = `SELECT ${eventColumns('e.')},
          (SELECT recipient FROM messages WHERE id = e.message_id) AS recipient
        FROM message_events e
        WHERE (e.xid, e.seq) > ($1::text::xid8, $2::bigint) AND ${SETTLED}`;
      if (filter.statuses && filter.statuses.length > 0) {
        values.push([...filter.statuses]);
        sql += ` AND e.status = ANY($${values.length}::text[])`;
      }
      if (filter.recipientKey !== undefined) {
        values.push(filter.recipientKey);
        sql += ` AND e.message_id IN (SELECT id FROM messages WHERE recipient_key = $${values.length})`;
      }
      sql += ` ORDER BY e.xid, e.seq LIMIT $3`;
      const { rows } = await client.query<Row>(sql, values);
      return rows.map((row) => toEvent(row, row.recipient, row.xid));
    },

    async listForMessage(messageId) {
      const { rows } = await client.query<Row>({ ...FOR_MESSAGE, values: [messageId] });
      return rows.map((row): MessageEvent => toEvent(row, row.recipient, row.xid));
    },

    async anyAfter(after) {
      const { rows } = await client.query<{ pending: boolean }>({
        ...ANY_AFTER,
        values: [String(after.xid), after.seq],
      });
      return rows[0]?.pending ?? false;
    },
  };
}
