import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { addTotals, counterRanges, type CounterBatch } from '../counters.ts';
import type { Db } from './client.ts';
import { statCounters } from './schema.ts';

export function createStatsRepository(db: Db) {
  const upsert = db
    .insert(statCounters)
    .values({
      resolutionMs: sql.placeholder('resolutionMs'),
      bucketStart: sql.placeholder('bucketStart'),
      metric: sql.placeholder('metric'),
      key: sql.placeholder('key'),
      count: sql.placeholder('count'),
    })
    .onConflictDoUpdate({
      target: [
        statCounters.resolutionMs,
        statCounters.bucketStart,
        statCounters.metric,
        statCounters.key,
      ],
      set: { count: sql`${statCounters.count} + excluded.count` },
    })
    .prepare();

  const sumRange = db
    .select({
      metric: statCounters.metric,
      key: statCounters.key,
      total: sql<number>`sum(${statCounters.count})`,
    })
    .from(statCounters)
    .where(
      and(
        eq(statCounters.resolutionMs, sql.placeholder('resolutionMs')),
        gte(statCounters.bucketStart, sql.placeholder('fromMs')),
        lt(statCounters.bucketStart, sql.placeholder('toMs')),
      ),
    )
    .groupBy(statCounters.metric, statCounters.key)
    .prepare();

  return {
    /** Writes a transaction's increments; call inside that transaction. */
    write(batch: CounterBatch): void {
      for (const entry of batch.entries()) upsert.run(entry);
    },

    /** Totals of every metric and key over [sinceMs, untilMs) (counters.ts). */
    totals(sinceMs: number, untilMs: number): Map<string, number> {
      const totals = new Map<string, number>();
      for (const range of counterRanges(sinceMs, untilMs)) addTotals(totals, sumRange.all(range));
      return totals;
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
