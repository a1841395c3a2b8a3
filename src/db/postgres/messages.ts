import type pg from 'pg';
import type { DeliveryErrorCode } from '../../domain/delivery-error.ts';
import {
  zeroStatusCounts,
  type Message,
  type MessageEvent,
  type StatusCounts,
} from '../../domain/message.ts';
import type { MessageStatus } from '../../domain/message.ts';
import { createCounterBatch } from '../counters.ts';
import type { MessageActions, MessageReads, StoredTransition } from '../port.ts';
import { toMessage, type MessageRow } from '../rows.ts';
import { DB_NOW_MS, type PostgresClient } from './client.ts';
import { messageColumns } from './columns.ts';
import { appendEvents, writeCounters } from './event-writer.ts';
import { filterCondition } from './filters.ts';
import { statusesOnly } from '../message-filter.ts';

const FIND = {
  name: 'mailscope-find-message',
  text: `SELECT ${messageColumns()} FROM messages WHERE id = $1`,
};

const FIND_MANY = {
  name: 'mailscope-find-messages',
  text: `SELECT ${messageColumns()} FROM messages WHERE id = ANY($1::bigint[])`,
};

const NEXT_DUE = {
  name: 'mailscope-next-due',
  text: `SELECT
      (SELECT next_attempt_at FROM messages WHERE status = 'QUEUED'
        ORDER BY next_attempt_at LIMIT 1) AS "queuedAt",
      (SELECT lease_expires_at FROM messages WHERE status = 'PROCESSING'
        ORDER BY lease_expires_at LIMIT 1) AS "leaseEndsAt",
      ${DB_NOW_MS} AS "nowMs"`,
};

/**
 * Counts by status as the database keeps them (drizzle/postgres/0014): what the fold job has
 * added into stat_counters and the increments not folded yet, in one snapshot. A grouped count
 * of the table took 38 ms at 110,000 messages and grew with the history.
 */
const BY_STATUS = {
  name: 'mailscope-count-by-status',
  text: `SELECT key AS status, sum(count)::bigint AS n FROM (
      SELECT key, count FROM stat_counters
      WHERE resolution_ms = 0 AND bucket_start = 0 AND metric = 'status'
      UNION ALL
      SELECT key, count FROM stat_counter_deltas
      WHERE resolution_ms = 0 AND bucket_start = 0 AND metric = 'status') c
    GROUP BY key`,
};

/**
 * The oldest QUEUED message is the first in the queue's order: its lowest id (ids and creation
 * times follow each other up to the instances' clock skew), through the (status, id) index. One
 * pass over every QUEUED row for min(created_at) took ~110 ms per /metrics scrape beside a
 * backlog of 100,000 deferred retries.
 */
const OLDEST_QUEUED = {
  name: 'mailscope-oldest-queued',
  text: `SELECT created_at AS "createdAt" FROM messages
    WHERE id = (SELECT min(id) FROM messages WHERE status = 'QUEUED')`,
};

/** Reads over messages on PostgreSQL; nothing here writes. */
export function createPostgresMessageReads(client: PostgresClient): MessageReads {
  async function countByStatus(): Promise<StatusCounts> {
    const counts = zeroStatusCounts();
    const { rows } = await client.query<{ status: MessageStatus; n: number }>(BY_STATUS);
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  return {
    async find(id) {
      const { rows } = await client.query<MessageRow>({ ...FIND, values: [id] });
      return rows[0] ? toMessage(rows[0]) : null;
    },

    async findMany(ids) {
      if (ids.length === 0) return [];
      const { rows } = await client.query<MessageRow>({ ...FIND_MANY, values: [[...ids]] });
      return rows.map(toMessage);
    },

    async list(filter, first, afterId) {
      const where = filterCondition(filter);
      const values = [...where.values, first + 1];
      let sql = `SELECT ${messageColumns('m.')} FROM messages m WHERE ${where.sql}`;
      if (afterId !== null) {
        values.push(afterId);
        sql += ` AND m.id < $${values.length}`;
      }
      sql += ` ORDER BY m.id DESC LIMIT $${where.values.length + 1}`;
      const { rows } = await client.query<MessageRow>(sql, values);
      return { messages: rows.slice(0, first).map(toMessage), hasNextPage: rows.length > first };
    },

    async idsMatching(filter, limit, afterId = 0) {
      const where = filterCondition(filter);
      const n = where.values.length;
      const { rows } = await client.query<{ id: number }>(
        `SELECT m.id FROM messages m WHERE ${where.sql} AND m.id > $${n + 1}
          ORDER BY m.id LIMIT $${n + 2}`,
        [...where.values, afterId, limit],
      );
      return rows.map((row) => row.id);
    },

    async countMatching(filter) {
      // The dashboard asks for totalCount with every list, mostly unfiltered or by status.
      const statuses = statusesOnly(filter);
      if (statuses !== null) {
        const counts = await countByStatus();
        return statuses.reduce((sum, status) => sum + counts[status], 0);
      }
      const where = filterCondition(filter);
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*) AS n FROM messages m WHERE ${where.sql}`,
        where.values,
      );
      return rows[0]?.n ?? 0;
    },

    async nextDueInMs() {
      const { rows } = await client.query<{
        queuedAt: number | null;
        leaseEndsAt: number | null;
        nowMs: number;
      }>(NEXT_DUE);
      const row = rows[0]!;
      const times = [row.queuedAt, row.leaseEndsAt].filter((at): at is number => at !== null);
      return times.length > 0 ? Math.min(...times) - row.nowMs : null;
    },

    async queueSnapshot() {
      const [counts, oldest] = await Promise.all([
        countByStatus(),
        client.query<{ createdAt: number }>(OLDEST_QUEUED),
      ]);
      return {
        queued: counts.QUEUED,
        processing: counts.PROCESSING,
        oldestQueuedAtMs: oldest.rows[0]?.createdAt ?? null,
      };
    },

    countByStatus,
  };
}

type Changed = { message: Message; event: MessageEvent };

const RETRY = {
  name: 'mailscope-retry',
  text: `WITH old AS (
      SELECT id, status, attempts FROM messages
      WHERE id = ANY($1::bigint[]) AND (status IN ('ABANDONED', 'CANCELLED')
        OR (status = 'SUPPRESSED' AND NOT EXISTS (SELECT 1 FROM suppressions s
          WHERE s.address_key = messages.recipient_key AND s.removed_at IS NULL)))
      ORDER BY id FOR UPDATE)
    UPDATE messages m SET status = 'QUEUED', max_attempts = $2, attempts_at_retry = old.attempts,
      next_attempt_at = ${DB_NOW_MS}, updated_at = $3::bigint
    FROM old WHERE m.id = old.id
    RETURNING ${messageColumns('m.')}, old.status AS "previousStatus"`,
};

const CANCEL = {
  name: 'mailscope-cancel',
  text: `WITH old AS (
      SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND status = 'QUEUED'
      ORDER BY id FOR UPDATE)
    UPDATE messages m SET status = 'CANCELLED', next_attempt_at = NULL, updated_at = $2::bigint
    FROM old WHERE m.id = old.id
    RETURNING ${messageColumns('m.')}, 'QUEUED' AS "previousStatus"`,
};

const EXPEDITE = {
  name: 'mailscope-expedite',
  text: `UPDATE messages SET next_attempt_at = ${DB_NOW_MS}
    WHERE status = 'QUEUED' AND next_attempt_at > ${DB_NOW_MS}
      AND (last_error ->> 'code') = ANY($1::text[])`,
};

/** What an operator does to messages outside the worker's loop, on PostgreSQL. */
export function createPostgresMessageActions(client: PostgresClient): MessageActions {
  /** Applies `statement` to `ids` and appends each changed message's event, in one transaction. */
  async function transition(
    statement: pg.QueryConfig,
    values: unknown[],
    change: { status: MessageStatus; reason: 'retried' | 'cancelled'; nowMs: number },
    smtpConfigVersion: number | null,
  ): Promise<Changed[]> {
    return client.transaction(async (tx) => {
      const { rows } = await tx.query<MessageRow & { previousStatus: MessageStatus }>({
        ...statement,
        values,
      });
      rows.sort((a, b) => a.id - b.id);
      const counters = createCounterBatch();
      const events = await appendEvents(
        tx,
        counters,
        rows.map((row) => ({
          subject: row,
          change: {
            atMs: change.nowMs,
            status: change.status,
            previousStatus: row.previousStatus,
            reason: change.reason,
            attempt: null,
            error: null,
            smtpConfigVersion,
          },
        })),
      );
      await writeCounters(tx, counters);
      return rows.map((row, index) => ({ message: toMessage(row), event: events[index]! }));
    });
  }

  async function single(id: number, changed: Changed[]): Promise<StoredTransition> {
    const [done] = changed;
    if (done) return { kind: 'changed', ...done };
    const { rows } = await client.query<MessageRow>({ ...FIND, values: [id] });
    return rows[0] ? { kind: 'conflict', message: toMessage(rows[0]) } : { kind: 'not_found' };
  }

  const retryMany = (
    ids: readonly number[],
    maxAttempts: number,
    nowMs: number,
    version: number | null,
  ) =>
    ids.length === 0
      ? Promise.resolve([])
      : transition(
          RETRY,
          [[...ids], maxAttempts, nowMs],
          { status: 'QUEUED', reason: 'retried', nowMs },
          version,
        );

  const cancelMany = (ids: readonly number[], nowMs: number, version: number | null) =>
    ids.length === 0
      ? Promise.resolve([])
      : transition(
          CANCEL,
          [[...ids], nowMs],
          { status: 'CANCELLED', reason: 'cancelled', nowMs },
          version,
        );

  return {
    retryMany,
    cancelMany,
    async retry(id, maxAttempts, nowMs, version) {
      return single(id, await retryMany([id], maxAttempts, nowMs, version));
    },
    async cancel(id, nowMs, version) {
      return single(id, await cancelMany([id], nowMs, version));
    },
    async expediteFailedWith(codes: readonly DeliveryErrorCode[]) {
      if (codes.length === 0) return 0;
      const result = await client.query({ ...EXPEDITE, values: [[...codes]] });
      return result.rowCount ?? 0;
    },
  };
}
