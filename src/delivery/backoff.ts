/**
 * Delay before retry number `retry` (1 for the first retry): `baseMs · 2^(retry-1)`, spread by
 * ±20% so messages that failed together don't retry in lockstep, and never more than `maxMs`
 * (DELIVERY_RETRY_MAX_MS is the longest delay, jitter included).
 */
export function retryDelayMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = baseMs * 2 ** Math.max(0, retry - 1);
  const jitter = 0.8 + 0.4 * random();
  return Math.max(1, Math.min(maxMs, Math.round(exponential * jitter)));
}
