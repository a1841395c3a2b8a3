/**
 * Delays before each retry (CONTRACT.md, the schedule Svix uses), at the default base of 5 s:
 * the first attempt is at once, then these; scaled by WEBHOOK_RETRY_BASE_MS / 5 s.
 */
const SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;
const DEFAULT_BASE_MS = SCHEDULE_MS[0];

const RETRY_AFTER_MAX_MS = 36_000_000;

/** Attempts in all: the first and one per delay. */
export const MAX_WEBHOOK_ATTEMPTS = SCHEDULE_MS.length + 1;

/**
 * How long after failed attempt number `attemptsMade` (1-based) to try again, ±20 % jitter; null
 * once the schedule is used up. `retryAfterMs` (the endpoint's Retry-After) replaces the
 * scheduled delay when it is longer.
 */
export function nextRetryDelayMs(
  attemptsMade: number,
  baseMs: number,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number | null {
  const scheduled = SCHEDULE_MS[attemptsMade - 1];
  if (scheduled === undefined) return null;
  const jittered = (scheduled * baseMs * (0.8 + 0.4 * random())) / DEFAULT_BASE_MS;
  // A Retry-After far in the future is held to the longest step of the schedule.
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, RETRY_AFTER_MAX_MS)));
}

/** A Retry-After header (seconds, or an HTTP date) in ms from `nowMs`; null when absent or bad. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
