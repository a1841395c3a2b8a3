/**
 * Delay before retry number `retry` (1 for the first retry): `baseMs · 2^(retry-1)`, capped at
 * `maxMs`, then spread by ±20% so messages that failed together don't retry in lockstep.
 */
export function retryDelayMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = baseMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(maxMs, exponential);
  const jitter = 0.8 + 0.4 * random();
  return Math.max(1, Math.round(capped * jitter));
}
