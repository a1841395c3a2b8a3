import type { MessageEvent } from '../domain/message.ts';

// Statistics counters: additive counts per time bucket, written in the same transaction as the
// events they count, so statistics over any period sum a few rows instead of scanning the
// history. Each change is counted at two resolutions: hours for long periods, minutes for their
// ragged edges. The rules live here once; each dialect stores and sums them.

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
  | 'latency'
  /** Delivery reports by outcome: DELIVERED, DEFERRED, BOUNCED_HARD, …, COMPLAINED. */
  | 'outcome'
  /** Reports that matched no message, by source. */
  | 'unmatched_report';

/** The `outcome` counter's key: bounces split by type (BOUNCED_HARD, BOUNCED_SOFT, …). */
export function outcomeKey(event: Pick<MessageEvent, 'outcome' | 'report'>): string {
  return event.outcome === 'BOUNCED'
    ? `BOUNCED_${event.report?.bounceType ?? 'UNDETERMINED'}`
    : String(event.outcome);
}

/** What an event needs besides itself to be counted. */
export interface EventContext {
  createdAtMs: number;
  /** Total attempts after this change. */
  attempts: number;
}

export type CounterEntry = {
  resolutionMs: number;
  bucketStart: number;
  metric: Metric;
  key: string;
  count: number;
};

/**
 * Collects counter increments during one transaction and writes them at its end with one row
 * per distinct (bucket, metric, key): a batch of 64 sends touches a handful of rows, not 64×6.
 */
export function createCounterBatch() {
  const pending = new Map<string, CounterEntry>();

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
      if (event.outcome !== null) {
        add(event.atMs, 'outcome', outcomeKey(event));
        return; // a report: the message's status did not change
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
    countUnmatched(atMs: number, source: string): void {
      add(atMs, 'unmatched_report', source);
    },
    /** In a fixed order (by bucket, metric, key), so concurrent writers lock rows alike. */
    entries: (): CounterEntry[] =>
      [...pending.values()].sort(
        (a, b) =>
          a.resolutionMs - b.resolutionMs ||
          a.bucketStart - b.bucketStart ||
          (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0) ||
          (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      ),
  };
}

export type CounterBatch = ReturnType<typeof createCounterBatch>;

export type CounterRange = {
  resolutionMs: number;
  fromMs: number;
  toMs: number;
};

/**
 * The bucket ranges whose sums are the totals over [sinceMs, untilMs), to the minute: the
 * minutes that contain the two ends count whole (so "until now" includes what happened this
 * minute); whole hours come from hour buckets, the edges from minute buckets.
 */
/** The window counters cover for [sinceMs, untilMs): whole minutes, rounded outward. */
export function countedWindow(
  sinceMs: number,
  untilMs: number,
): { sinceMs: number; untilMs: number } {
  return {
    sinceMs: Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS,
    untilMs: Math.ceil(untilMs / MINUTE_MS) * MINUTE_MS,
  };
}

export function counterRanges(sinceMs: number, untilMs: number): CounterRange[] {
  const { sinceMs: from, untilMs: to } = countedWindow(sinceMs, untilMs);
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  const ranges: CounterRange[] =
    firstHour < lastHour
      ? [
          { resolutionMs: MINUTE_MS, fromMs: from, toMs: firstHour },
          { resolutionMs: HOUR_MS, fromMs: firstHour, toMs: lastHour },
          { resolutionMs: MINUTE_MS, fromMs: lastHour, toMs: to },
        ]
      : [{ resolutionMs: MINUTE_MS, fromMs: from, toMs: to }];
  return ranges.filter((range) => range.toMs > range.fromMs);
}

/** Adds summed rows into totals keyed `${metric}|${key}`. */
export function addTotals(
  into: Map<string, number>,
  rows: readonly { metric: string; key: string; total: number }[],
): void {
  for (const row of rows) {
    const id = `${row.metric}|${row.key}`;
    into.set(id, (into.get(id) ?? 0) + Number(row.total));
  }
}
