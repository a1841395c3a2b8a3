export interface SendRateLimiterOptions {
  /** Sends allowed per minute per key, refilled continuously; null: unlimited. */
  perMinute: number | null;
  now?: () => number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

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
    /** Takes one send from `key`'s bucket, or says how long until one is available. */
    take(key: string): RateDecision {
      if (options.perMinute === null) return { ok: true };
      const at = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at };
      bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.at) * refillPerMs);
      bucket.at = at;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / refillPerMs) };
    },
  };
}

export type SendRateLimiter = ReturnType<typeof createSendRateLimiter>;
