export interface SendRateLimiterOptions {
  /** Sends allowed per minute per key, refilled continuously; null: unlimited. */
  perMinute: number | null;
  now?: () => number;
}

export type RateDecision =
  | { ok: true }
  | { ok: false; retryAfterMs: number }
  /** More than the bucket ever holds: it can never be granted in one go. */
  | { ok: false; exceedsCapacity: number };

/**
 * A token bucket per key (per API token): up to `perMinute` sends in a burst, then one every
 * 60 s / perMinute. In memory: a restart refills every bucket, which is fine for a guard against
 * a leaked token turning the service into a spam cannon.
 */
export function createSendRateLimiter(options: SendRateLimiterOptions) {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const capacity = options.perMinute ?? Infinity;
  const refillPerMs = capacity / 60_000;

  return {
    /**
     * Takes `count` sends from `key`'s bucket, all or none, or says how long until they are
     * available.
     */
    take(key: string, count = 1): RateDecision {
      if (options.perMinute === null) return { ok: true };
      if (count > capacity) return { ok: false, exceedsCapacity: capacity };
      const at = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at };
      bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.at) * refillPerMs);
      bucket.at = at;
      buckets.set(key, bucket);
      if (bucket.tokens >= count) {
        bucket.tokens -= count;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil((count - bucket.tokens) / refillPerMs) };
    },
  };
}

export type SendRateLimiter = ReturnType<typeof createSendRateLimiter>;
