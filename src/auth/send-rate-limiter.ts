import { createTokenBuckets } from './token-bucket.ts';

export interface SendRateLimiterOptions {
  /** Sends allowed per minute per key (per API token), refilled continuously; null: unlimited. */
  perMinute: number | null;
  /**
   * Sends allowed per minute over every key together, so that minting tokens cannot multiply
   * the per-token limit. @default null (no service-wide bucket)
   */
  totalPerMinute?: number | null;
  now?: () => number;
}

export type RateDecision =
  | { ok: true }
  /** `serviceWide`: the service's bucket, shared by every token, is the one that is short. */
  | { ok: false; retryAfterMs: number; serviceWide?: true }
  /** More than a bucket ever holds: it can never be granted in one go. */
  | { ok: false; exceedsCapacity: number; serviceWide?: true };

const MINUTE_MS = 60_000;

/**
 * A token bucket per key (per API token) and one for the whole service: up to the limit in a
 * burst, then one every 60 s / limit. A send takes from both or from neither.
 */
export function createSendRateLimiter(options: SendRateLimiterOptions) {
  const perKey =
    options.perMinute === null
      ? null
      : createTokenBuckets({
          capacity: options.perMinute,
          refillMs: MINUTE_MS,
          ...(options.now ? { now: options.now } : {}),
        });
  const total =
    options.totalPerMinute == null
      ? null
      : createTokenBuckets({
          capacity: options.totalPerMinute,
          refillMs: MINUTE_MS,
          ...(options.now ? { now: options.now } : {}),
        });
  const SERVICE = 'service';

  return {
    /**
     * Takes `count` sends from `key`'s bucket and the service's, all or none, or says how long
     * until they are available.
     */
    take(key: string, count = 1): RateDecision {
      if (perKey !== null && count > perKey.capacity) {
        return { ok: false, exceedsCapacity: perKey.capacity };
      }
      if (total !== null && count > total.capacity) {
        return { ok: false, exceedsCapacity: total.capacity, serviceWide: true };
      }
      const keyWait = perKey?.waitMs(key, count) ?? 0;
      const totalWait = total?.waitMs(SERVICE, count) ?? 0;
      if (keyWait > 0 || totalWait > 0) {
        return totalWait > keyWait
          ? { ok: false, retryAfterMs: totalWait, serviceWide: true }
          : { ok: false, retryAfterMs: keyWait };
      }
      perKey?.take(key, count);
      total?.take(SERVICE, count);
      return { ok: true };
    },
  };
}

export type SendRateLimiter = ReturnType<typeof createSendRateLimiter>;
