import type { RateStore } from './port.ts';

/**
 * Token buckets in this process's memory: enough where one instance is all there is (SQLite). A
 * restart refills every bucket, which is fine for guards against abuse of a leaked token.
 */
export function createMemoryRates(now: () => number = Date.now): RateStore {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    async take(requests) {
      const at = now();
      const levels = requests.map((request) => {
        const bucket = buckets.get(request.key);
        const refillPerMs = request.capacity / request.refillMs;
        const tokens =
          bucket === undefined
            ? request.capacity
            : Math.min(request.capacity, bucket.tokens + (at - bucket.atMs) * refillPerMs);
        return { request, tokens, refillPerMs };
      });
      const short = levels
        .filter(({ request, tokens }) => tokens < request.count)
        .map(({ request, tokens, refillPerMs }) => ({
          key: request.key,
          retryAfterMs: Math.ceil((request.count - tokens) / refillPerMs),
        }));
      if (short.length > 0) return { ok: false, short };
      for (const { request, tokens } of levels) {
        buckets.set(request.key, { tokens: tokens - request.count, atMs: at });
      }
      return { ok: true };
    },
  };
}
