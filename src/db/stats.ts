import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { MessageEvent } from '../domain/message.ts';
import type { Db } from './client.ts';
import { statCounters } from './schema.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const RESOLUTIONS = [MINUTE_MS, HOUR_MS] as const;

/** Latency histogram: bucket k holds durations in (1.1^(k-1), 1.1^k] ms, so quantiles are within 10%. */
const LATENCY_BASE = 1.1;
export function latencyBucket(ms: number): number {
  return Math.max(0, Math.ceil(Math.log(Math.max(ms, 1)) / Math.log(LATENCY_BASE)));
}
export function latencyBucketUpperMs(bucket: number): number {
  return Math.round(LATENCY_BASE ** bucket);
}

export type Metric =
  /** Events by reason: queued, claimed, sent, retry_scheduled, failed_permanently, … */
  | 'reason'
  /** Failed attempts by DeliveryErrorCode. */
  | 'failure_code'
  /** Failed attempts by recipient domain. */
  | 'failure_domain'
  /** Attempts by outcome: ok, failed. */
  | 'attempt'
  /** Messages that reached SENT or ABANDONED, by how many attempts they took. */
  | 'final_attempts'
  /** QUEUED-to-SENT time of sent messages, by latency bucket. */
  | 'latency';

/** What an event needs besides itself to be counted. */
export interface EventContext {
  createdAtMs: number;
  /** Total attempts after this change. */
  attempts: number;
}

/**
 * Collects counter increments during one transaction and writes them at its end with one upsert
 * per distinct (bucket, metric, key): a batch of 64 sends touches a handful of rows, not 64×6.
 */
export function createCounterBatch() {
  const pending = new Map<
    string,
    { bucketStart: number; resolutionMs: number; metric: Metric; key: string; count: number }
  >();

  function add(atMs: number, metric: Metric, key: string): void {
    for (const resolutionMs of RESOLUTIONS) {
      const bucketStart = atMs - (atMs % resolutionMs);
      const id = `${resolutionMs}|${bucketStart}|${metric}|${key}`;
      const entry = pending.get(id);
      if (entry) entry.count += 1;
      else pending.set(id, { bucketStart, resolutionMs, metric, key, count: 1 });
    }
  }

  return {
    countEvent(event: MessageEvent, context: EventContext): void {
      add(event.atMs, 'reason', event.reason);
      if (event.reason === 'sent' || event.error !== null) {
        add(event.atMs, 'attempt', event.error === null ? 'ok' : 'failed');
      }
      if (event.error !== null) {
        add(event.atMs, 'failure_code', event.error.code);
        add(
          event.atMs,
          'failure_domain',
          event.recipient.slice(event.recipient.lastIndexOf('@') + 1).toLowerCase(),
        );
      }
      if (
        event.status === 'SENT' ||
        (event.status === 'ABANDONED' && event.reason !== 'cancelled')
      ) {
        add(event.atMs, 'final_attempts', String(context.attempts));
      }
      if (event.status === 'SENT') {
        add(event.atMs, 'latency', String(latencyBucket(event.atMs - context.createdAtMs)));
      }
    },
    entries: () => [...pending.values()],
  };
}

export type CounterBatch = ReturnType<typeof createCounterBatch>;

export function createStatsRepository(db: Db) {
  const upsert = db
    .insert(statCounters)
    .values({
      resolutionMs: sql.placeholder('resolutionMs'),
      bucketStart: sql.placeholder('bucketStart'),
      metric: sql.placeholder('metric'),
      key: sql.placeholder('key'),
      count: sql.placeholder('count'),
    })
    .onConflictDoUpdate({
      target: [
        statCounters.resolutionMs,
        statCounters.bucketStart,
        statCounters.metric,
        statCounters.key,
      ],
      set: { count: sql`${statCounters.count} + excluded.count` },
    })
    .prepare();

  function sumRange(resolutionMs: number, fromMs: number, toMs: number, into: Map<string, number>) {
    if (toMs <= fromMs) return;
    const rows = db
      .select({
        metric: statCounters.metric,
        key: statCounters.key,
        total: sql<number>`sum(${statCounters.count})`,
      })
      .from(statCounters)
      .where(
        and(
          eq(statCounters.resolutionMs, resolutionMs),
          gte(statCounters.bucketStart, fromMs),
          lt(statCounters.bucketStart, toMs),
        ),
      )
      .groupBy(statCounters.metric, statCounters.key)
      .all();
    for (const row of rows) {
      const id = `${row.metric}|${row.key}`;
      into.set(id, (into.get(id) ?? 0) + row.total);
    }
  }

  return {
    /** Writes a transaction's increments; call inside that transaction. */
    write(batch: CounterBatch): void {
      for (const entry of batch.entries()) upsert.run(entry);
    },

    /**
     * Totals of every metric and key over [sinceMs, untilMs), to the minute: the minutes that
     * contain the two ends count whole (so "until now" includes what happened this minute);
     * whole hours come from hour buckets, the edges from minute buckets.
     */
    totals(sinceMs: number, untilMs: number): Map<string, number> {
      const from = Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS;
      const to = Math.ceil(untilMs / MINUTE_MS) * MINUTE_MS;
      const totals = new Map<string, number>();
      const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
      const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
      if (firstHour < lastHour) {
        sumRange(MINUTE_MS, from, firstHour, totals);
        sumRange(HOUR_MS, firstHour, lastHour, totals);
        sumRange(MINUTE_MS, lastHour, to, totals);
      } else {
        sumRange(MINUTE_MS, from, to, totals);
      }
      return totals;
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
