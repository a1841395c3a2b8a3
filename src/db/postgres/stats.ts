import { addTotals, counterRanges } from '../counters.ts';
import type { StatsStore } from '../port.ts';
import type { PostgresClient } from './client.ts';

const SUM_RANGE = {
  name: 'mailscope-sum-counters',
  text: `SELECT metric, key, sum(count) AS total FROM (
      SELECT metric, key, count FROM stat_counters
      WHERE resolution_ms = $1 AND bucket_start >= $2 AND bucket_start < $3
      UNION ALL
      SELECT metric, key, count FROM stat_counter_deltas
      WHERE resolution_ms = $1 AND bucket_start >= $2 AND bucket_start < $3) c
    GROUP BY metric, key`,
};

/** Any 64-bit key: one instance at a time folds the counters. */
const FOLD_LOCK = '7236011903214235397';

const FOLD = {
  name: 'mailscope-fold-counters',
  text: `WITH moved AS (
      DELETE FROM stat_counter_deltas WHERE id IN (
        SELECT id FROM stat_counter_deltas ORDER BY id LIMIT $1)
      RETURNING resolution_ms, bucket_start, metric, key, count)
    INSERT INTO stat_counters (resolution_ms, bucket_start, metric, key, count)
    SELECT resolution_ms, bucket_start, metric, key, sum(count) FROM moved
    GROUP BY resolution_ms, bucket_start, metric, key
    ORDER BY resolution_ms, bucket_start, metric, key
    ON CONFLICT (resolution_ms, bucket_start, metric, key)
      DO UPDATE SET count = stat_counters.count + excluded.count`,
};

export function createPostgresStats(client: PostgresClient): StatsStore & {
  /** Folds up to `limit` increments into the counters; 0 when another instance is at it. */
  fold(limit: number): Promise<number>;
} {
  return {
    async totals(sinceMs, untilMs) {
      const totals = new Map<string, number>();
      const ranges = counterRanges(sinceMs, untilMs);
      const results = await Promise.all(
        ranges.map((range) =>
          client.query<{ metric: string; key: string; total: number }>({
            ...SUM_RANGE,
            values: [range.resolutionMs, range.fromMs, range.toMs],
          }),
        ),
      );
      for (const result of results) addTotals(totals, result.rows);
      return totals;
    },

    // Readers sum both tables in one statement, so they see each increment exactly once
    // whether it was folded or not.
    fold(limit) {
      return client.transaction(async (tx) => {
        const { rows } = await tx.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [FOLD_LOCK],
        );
        if (!rows[0]?.locked) return 0;
        const result = await tx.query({ ...FOLD, values: [limit] });
        return result.rowCount ?? 0;
      });
    },
  };
}
