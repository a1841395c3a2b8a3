/**
 * Idempotency keys are the caller's own: stored under the caller's token (`token:12/invoice-42`),
 * so that one application's key neither finds another application's message (which answered a
 * SEND token, which may read nothing, with that message and its text) nor blocks it (a key
 * taken first by someone else was a CONFLICT). Keys stored before this carry no scope and are
 * shown as they are.
 */
const SCOPE = /^(anonymous|bootstrap|token:\d+)\//;

/** The key as stored for a caller whose rate-limit key (auth/principal.ts) is `scope`. */
export function scopedIdempotencyKey(scope: string, key: string): string {
  return `${scope}/${key}`;
}

/** The key as the caller gave it. */
export function callersIdempotencyKey(stored: string | null): string | null {
  return stored === null ? null : stored.replace(SCOPE, '');
}
