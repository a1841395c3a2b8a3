import type pg from 'pg';
import type { MessageEvent } from '../../domain/message.ts';
import type { CounterBatch } from '../counters.ts';
import { toEvent, type EventRow } from '../rows.ts';
import { eventColumns } from './columns.ts';

/** An event as its writer describes it; the log assigns `seq` and `xid`. */
export type EventChange = Omit<
  MessageEvent,
  'seq' | 'xid' | 'messageId' | 'recipient' | 'outcome' | 'report'
> &
  Partial<Pick<MessageEvent, 'outcome' | 'report'>>;

/** The message an event is about, as far as the event and its counters need it. */
export interface EventSubject {
  id: number;
  recipient: string;
  createdAt: number;
  /** Attempts after this change. */
  attempts: number;
}

const APPEND = {
  name: 'mailscope-append-events',
  text: `INSERT INTO message_events
      (message_id, at, status, previous_status, reason, attempt, error, smtp_config_version,
        outcome, report)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
      $6::int[], $7::jsonb[], $8::int[], $9::text[], $10::jsonb[])
    RETURNING ${eventColumns()}`,
};

const ADD_COUNTERS = {
  name: 'mailscope-add-counters',
  text: `INSERT INTO stat_counter_deltas (resolution_ms, bucket_start, metric, key, count)
    SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])`,
};

/**
 * Appends events in one statement, in the order given, and counts them in `counters`. Their
 * transaction's id is the log's first ordering key (see events.ts).
 */
export async function appendEvents(
  client: pg.ClientBase,
  counters: CounterBatch,
  entries: readonly { subject: EventSubject; change: EventChange }[],
): Promise<MessageEvent[]> {
  if (entries.length === 0) return [];
  const { rows } = await client.query<EventRow & { xid: number }>({
    ...APPEND,
    values: [
      entries.map((entry) => entry.subject.id),
      entries.map((entry) => entry.change.atMs),
      entries.map((entry) => entry.change.status),
      entries.map((entry) => entry.change.previousStatus),
      entries.map((entry) => entry.change.reason),
      entries.map((entry) => entry.change.attempt),
      entries.map((entry) =>
        entry.change.error === null ? null : JSON.stringify(entry.change.error),
      ),
      entries.map((entry) => entry.change.smtpConfigVersion),
      entries.map((entry) => entry.change.outcome ?? null),
      entries.map((entry) => (entry.change.report ? JSON.stringify(entry.change.report) : null)),
    ],
  });
  // Sequence numbers are taken row by row in the order inserted: sorted, they line up with
  // `entries`.
  rows.sort((a, b) => a.seq - b.seq);
  return rows.map((row, index) => {
    const { subject } = entries[index]!;
    const event = toEvent(row, subject.recipient, row.xid);
    counters.countEvent(event, { createdAtMs: subject.createdAt, attempts: subject.attempts });
    return event;
  });
}

/** Writes a transaction's counter increments (inserts only: no row is ever contended). */
export async function writeCounters(client: pg.ClientBase, counters: CounterBatch): Promise<void> {
  const entries = counters.entries();
  if (entries.length === 0) return;
  await client.query({
    ...ADD_COUNTERS,
    values: [
      entries.map((entry) => entry.resolutionMs),
      entries.map((entry) => entry.bucketStart),
      entries.map((entry) => entry.metric),
      entries.map((entry) => entry.key),
      entries.map((entry) => entry.count),
    ],
  });
}
