export interface TokenBucketsOptions {
  /** What a bucket holds when full: the burst allowed. */
  capacity: number;
  /** How long an empty bucket takes to fill again, continuously. */
  refillMs: number;
  now?: () => number;
}

/**
 * Token buckets by key, in memory: up to `capacity` at once, then `capacity` per `refillMs`. A
 * restart refills every bucket, which is fine for guards against abuse of a leaked token.
 */
export function createTokenBuckets(options: TokenBucketsOptions) {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = options.capacity / options.refillMs;

  function refilled(key: string, at: number) {
    const bucket = buckets.get(key) ?? { tokens: options.capacity, at };
    bucket.tokens = Math.min(options.capacity, bucket.tokens + (at - bucket.at) * refillPerMs);
    bucket.at = at;
    buckets.set(key, bucket);
    return bucket;
  }

  return {
    capacity: options.capacity,

    /** Milliseconds until `count` are available in `key`'s bucket; 0 when they are now. */
    waitMs(key: string, count = 1): number {
      const bucket = refilled(key, now());
      return bucket.tokens >= count ? 0 : Math.ceil((count - bucket.tokens) / refillPerMs);
    },

    /** Takes `count` from `key`'s bucket; call after `waitMs` said 0. */
    take(key: string, count = 1): void {
      refilled(key, now()).tokens -= count;
    },
  };
}

export type TokenBuckets = ReturnType<typeof createTokenBuckets>;
