import type { Statement } from 'better-sqlite3';
import type { Db } from './client.ts';

/**
 * A creation time as an id boundary, found by bisection over the primary key.
 *
 * Creation times never decrease as ids grow: the insert takes the later of the clock and the
 * newest message's time (message-queue-statements.ts). So the messages created at or after a
 * time are exactly those from some id on, and that id can be found with ~log2(n) look-ups of
 * the primary key (about 20 for a million messages, a few microseconds each) instead of an
 * index on created_at. That index was one more page written by every commit that queues mail
 * (a WAL frame flushed before the answer) to serve only time filters and retention.
 */

type FirstFrom = Statement<[number], { id: number; createdAt: number }>;

const statements = new WeakMap<Db, { firstFrom: FirstFrom; bounds: Statement<[], Bounds> }>();

interface Bounds {
  low: number | null;
  high: number | null;
}

/**
 * The bisection's statements; test/integration/subject-index.sqlite.test.ts checks their plans.
 */
export const CREATION_ORDER_SQL = {
  firstFrom: 'SELECT id, created_at AS createdAt FROM messages WHERE id >= ? ORDER BY id LIMIT 1',
  // Two subqueries: SQLite answers a lone min() or max() from an end of the primary key, but
  // `SELECT min(id), max(id)` scans the whole table (50 ms on a million messages).
  bounds: 'SELECT (SELECT min(id) FROM messages) AS low, (SELECT max(id) FROM messages) AS high',
};

function statementsOf(db: Db) {
  let prepared = statements.get(db);
  if (prepared === undefined) {
    prepared = {
      firstFrom: db.$client.prepare(CREATION_ORDER_SQL.firstFrom) as FirstFrom,
      bounds: db.$client.prepare(CREATION_ORDER_SQL.bounds) as Statement<[], Bounds>,
    };
    statements.set(db, prepared);
  }
  return prepared;
}

/** Where `timeMs` falls in id order. */
export interface CreationBoundary {
  /** Messages with a lower id were created before `timeMs`; from it on, at or after it. */
  firstId: number;
  /**
   * No stored message was created at or after `timeMs` (`firstId` is one past the newest).
   * Messages queued after this look-up may still have been created before it, so "created at
   * or after" must then match nothing rather than every id from `firstId` on.
   */
  none: boolean;
}

export function creationBoundary(db: Db, timeMs: number): CreationBoundary {
  const { firstFrom, bounds } = statementsOf(db);
  const { low, high } = bounds.get() ?? { low: null, high: null };
  if (low === null || high === null) return { firstId: 1, none: true };
  // Invariant: every message with id < lo was created before timeMs; the first message with
  // id >= hi, if any, at or after it.
  let lo = low;
  let hi = high + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const row = firstFrom.get(mid);
    if (row === undefined || row.createdAt >= timeMs) {
      hi = mid;
    } else {
      // Ids are not dense (retention deletes): everything up to the row found is earlier too.
      lo = row.id + 1;
    }
  }
  return { firstId: lo, none: lo > high };
}
