import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * True when no token is required, or `authorization` is exactly "Bearer <token>". Compares
 * digests in constant time so response timing says nothing about how much of a guess was right.
 */
export function isAuthorized(authorization: string | undefined, apiToken: string | null): boolean {
  if (apiToken === null) return true;
  if (authorization === undefined) return false;
  return timingSafeEqual(digest(authorization), digest(`Bearer ${apiToken}`));
}
