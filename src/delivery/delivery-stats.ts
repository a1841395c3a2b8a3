import { latencyBucketUpperMs } from '../db/counters.ts';
import type { MessageReads, StatsStore } from '../db/port.ts';
import { DELIVERY_ERROR_CODES, type DeliveryErrorCode } from '../domain/delivery-error.ts';
import { countedWindow } from '../db/counters.ts';

export interface DeliveryStatsReport {
  sinceMs: number;
  untilMs: number;
  queued: number;
  sent: number;
  abandoned: number;
  cancelled: number;
  retryScheduled: number;
  retried: number;
  attempts: number;
  failedAttempts: number;
  failuresByCode: { code: DeliveryErrorCode; count: number }[];
  failuresByDomain: { domain: string; count: number }[];
  attemptsPerMessage: { attempts: number; messages: number }[];
  timeToSent: { count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
  queueDepth: number;
  processing: number;
  oldestQueuedAgeMs: number | null;
  /** Delivery reports received in the period, by outcome (bounces by type). */
  delivered: number;
  deferred: number;
  bouncedHard: number;
  /** SOFT and UNDETERMINED bounces. */
  bouncedSoft: number;
  complained: number;
  /** Bounces / sent in the period; null when nothing was sent. */
  bounceRate: number | null;
  complaintRate: number | null;
  unmatchedReports: number;
  suppressed: number;
}

const TOP_DOMAINS = 20;

/** The smallest bucket bound below which `quantile` of the counted values lie. */
function quantileMs(histogram: [bucket: number, count: number][], total: number, quantile: number) {
  if (total === 0) return null;
  const rank = Math.ceil(quantile * total);
  let seen = 0;
  for (const [bucket, count] of histogram) {
    seen += count;
    if (seen >= rank) return latencyBucketUpperMs(bucket);
  }
  return null;
}

export interface DeliveryStatsDeps {
  stats: StatsStore;
  messages: Pick<MessageReads, 'queueSnapshot'>;
  now?: () => number;
}

/** Answers "how is delivery going?" from counters, never by scanning the history. */
export function createDeliveryStats(deps: DeliveryStatsDeps) {
  const now = deps.now ?? Date.now;

  return {
    async report(sinceMs: number, untilMs: number): Promise<DeliveryStatsReport> {
      const [totals, queue] = await Promise.all([
        deps.stats.totals(sinceMs, untilMs),
        deps.messages.queueSnapshot(),
      ]);
      const byMetric = (metric: string) =>
        [...totals]
          .filter(([id]) => id.startsWith(`${metric}|`))
          .map(([id, count]) => [id.slice(metric.length + 1), count] as const);
      const get = (metric: string, key: string) => totals.get(`${metric}|${key}`) ?? 0;

      const latency = byMetric('latency')
        .map(([bucket, count]): [number, number] => [Number(bucket), count])
        .sort((a, b) => a[0] - b[0]);
      const sentCount = latency.reduce((sum, [, count]) => sum + count, 0);
      const sent = get('reason', 'sent');
      const bouncedHard = get('outcome', 'BOUNCED_HARD');
      const bouncedSoft = get('outcome', 'BOUNCED_SOFT') + get('outcome', 'BOUNCED_UNDETERMINED');
      const complained = get('outcome', 'COMPLAINED');
      const rate = (count: number) => (sent === 0 ? null : count / sent);

      return {
        // The window the figures cover, not the one asked for: counters are kept per minute.
        ...countedWindow(sinceMs, untilMs),
        queued: get('reason', 'queued'),
        sent,
        abandoned: get('reason', 'failed_permanently') + get('reason', 'attempts_exhausted'),
        cancelled: get('reason', 'cancelled'),
        retryScheduled: get('reason', 'retry_scheduled'),
        retried: get('reason', 'retried'),
        attempts: get('attempt', 'ok') + get('attempt', 'failed'),
        failedAttempts: get('attempt', 'failed'),
        failuresByCode: DELIVERY_ERROR_CODES.map((code) => ({
          code,
          count: get('failure_code', code),
        })).filter((entry) => entry.count > 0),
        failuresByDomain: byMetric('failure_domain')
          .map(([domain, count]) => ({ domain, count }))
          .sort((a, b) => b.count - a.count || a.domain.localeCompare(b.domain))
          .slice(0, TOP_DOMAINS),
        attemptsPerMessage: byMetric('final_attempts')
          .map(([attempts, messages]) => ({ attempts: Number(attempts), messages }))
          .sort((a, b) => a.attempts - b.attempts),
        timeToSent: {
          count: sentCount,
          p50Ms: quantileMs(latency, sentCount, 0.5),
          p95Ms: quantileMs(latency, sentCount, 0.95),
          p99Ms: quantileMs(latency, sentCount, 0.99),
        },
        queueDepth: queue.queued,
        processing: queue.processing,
        oldestQueuedAgeMs:
          queue.oldestQueuedAtMs === null ? null : Math.max(0, now() - queue.oldestQueuedAtMs),
        delivered: get('outcome', 'DELIVERED'),
        deferred: get('outcome', 'DEFERRED'),
        bouncedHard,
        bouncedSoft,
        complained,
        bounceRate: rate(bouncedHard + bouncedSoft),
        complaintRate: rate(complained),
        unmatchedReports: byMetric('unmatched_report').reduce((sum, [, count]) => sum + count, 0),
        suppressed: get('reason', 'suppressed'),
      };
    },
  };
}

export type DeliveryStats = ReturnType<typeof createDeliveryStats>;
