import { createMemoryRates } from '../db/memory-rates.ts';
import type { RateBucketRequest, RateStore } from '../db/port.ts';

export interface SendRateLimiterOptions {
  /** Sends allowed per minute per key (per API token), refilled continuously; null: unlimited. */
  perMinute: number | null;
  /**
   * Sends allowed per minute over every key together, so that minting tokens cannot multiply
   * the per-token limit. @default null (no service-wide bucket)
   */
  totalPerMinute?: number | null;
  /**
   * Where the buckets live: the storage's (shared by every instance on PostgreSQL).
   * @default in this process's memory
   */
  rates?: RateStore;
  /** For the in-memory default. */
  now?: () => number;
}

export type RateDecision =
  | { ok: true }
  /** `serviceWide`: the service's bucket, shared by every token, is the one that is short. */
  | { ok: false; retryAfterMs: number; serviceWide?: true }
  /** More than a bucket ever holds: it can never be granted in one go. */
  | { ok: false; exceedsCapacity: number; serviceWide?: true };

const MINUTE_MS = 60_000;
const SERVICE = 'send:service';

/**
 * A token bucket per key (per API token) and one for the whole service: up to the limit in a
 * burst, then one every 60 s / limit. A send takes from both or from neither.
 */
export function createSendRateLimiter(options: SendRateLimiterOptions) {
  const rates = options.rates ?? createMemoryRates(options.now);
  const perKey = options.perMinute;
  const total = options.totalPerMinute ?? null;

  return {
    /** Whether any limit is on (no limit: no bucket is ever read). */
    limited: perKey !== null || total !== null,

    /**
     * Takes `count` sends from `key`'s bucket and the service's, all or none, or says how long
     * until they are available.
     */
    async take(key: string, count = 1): Promise<RateDecision> {
      if (perKey !== null && count > perKey) return { ok: false, exceedsCapacity: perKey };
      if (total !== null && count > total) {
        return { ok: false, exceedsCapacity: total, serviceWide: true };
      }
      const requests: RateBucketRequest[] = [];
      if (perKey !== null) {
        requests.push({ key: `send:${key}`, capacity: perKey, refillMs: MINUTE_MS, count });
      }
      if (total !== null) {
        requests.push({ key: SERVICE, capacity: total, refillMs: MINUTE_MS, count });
      }
      if (requests.length === 0) return { ok: true };
      const taken = await rates.take(requests);
      if (taken.ok) return { ok: true };
      const longest = taken.short.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
      return longest.key === SERVICE
        ? { ok: false, retryAfterMs: longest.retryAfterMs, serviceWide: true }
        : { ok: false, retryAfterMs: longest.retryAfterMs };
    },
  };
}

export type SendRateLimiter = ReturnType<typeof createSendRateLimiter>;
