import type { RateStore } from '../port.ts';
import { DB_NOW_MS, type PostgresClient } from './client.ts';

/**
 * Token buckets in the database, shared by every instance, on the database's clock. The rows of
 * one take are locked in key order, so concurrent takes never deadlock.
 */
export function createPostgresRates(client: PostgresClient): RateStore {
  return {
    take(requests) {
      if (requests.length === 0) return Promise.resolve({ ok: true });
      const keys = requests.map((request) => request.key);
      return client.transaction(async (tx) => {
        // A bucket seen for the first time starts full.
        await tx.query(
          `INSERT INTO rate_buckets (key, tokens, updated_at)
            SELECT key, capacity, ${DB_NOW_MS} FROM unnest($1::text[], $2::float8[]) AS r(key, capacity)
            ON CONFLICT (key) DO NOTHING`,
          [keys, requests.map((request) => request.capacity)],
        );
        const { rows } = await tx.query<{
          key: string;
          tokens: number;
          updatedAt: number;
          nowMs: number;
        }>(
          `SELECT key, tokens, updated_at AS "updatedAt", ${DB_NOW_MS} AS "nowMs" FROM rate_buckets
            WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
          [keys],
        );
        const byKey = new Map(rows.map((row) => [row.key, row]));
        const levels = requests.map((request) => {
          const row = byKey.get(request.key)!;
          const refillPerMs = request.capacity / request.refillMs;
          const tokens = Math.min(
            request.capacity,
            row.tokens + Math.max(0, row.nowMs - row.updatedAt) * refillPerMs,
          );
          return { request, tokens, refillPerMs, nowMs: row.nowMs };
        });
        const short = levels
          .filter(({ request, tokens }) => tokens < request.count)
          .map(({ request, tokens, refillPerMs }) => ({
            key: request.key,
            retryAfterMs: Math.ceil((request.count - tokens) / refillPerMs),
          }));
        if (short.length > 0) return { ok: false as const, short };
        await tx.query(
          `UPDATE rate_buckets b SET tokens = r.tokens, updated_at = r.at
            FROM unnest($1::text[], $2::float8[], $3::bigint[]) AS r(key, tokens, at)
            WHERE b.key = r.key`,
          [
            keys,
            levels.map(({ request, tokens }) => tokens - request.count),
            levels.map(({ nowMs }) => nowMs),
          ],
        );
        return { ok: true as const };
      });
    },
  };
}
