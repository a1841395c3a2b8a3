import type { Db } from './client.ts';

/**
 * Fills the subject search index (an FTS5 trigram table, drizzle/0002 and 0005) in batches, off
 * the insert path: indexing a subject costs about as much as storing the message. Messages
 * with ids above `subject_search_state.indexed_through_id` are not indexed yet, and searches
 * read those directly (candidate-pages.ts).
 *
 * Raw statements: drizzle does not model the virtual table.
 */
export function createSubjectSearchIndexer(db: Db) {
  const sqlite = db.$client;
  const indexedThrough = sqlite.prepare<[], { id: number }>(
    'SELECT indexed_through_id AS id FROM subject_search_state WHERE id = 1',
  );
  const batchEnd = sqlite.prepare<[number, number], { id: number | null }>(
    'SELECT max(id) AS id FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)',
  );
  const index = sqlite.prepare<[number, number]>(
    'INSERT INTO messages_subject_search(rowid, subject) SELECT id, subject FROM messages WHERE id > ? AND id <= ?',
  );
  const advance = sqlite.prepare<[number]>(
    'UPDATE subject_search_state SET indexed_through_id = ? WHERE id = 1',
  );
  // IMMEDIATE: no message can be stored between reading the batch and recording how far it got,
  // and ids only grow, so nothing below `indexed_through_id` is ever missed.
  const indexBatch = sqlite.transaction((limit: number): number => {
    const from = indexedThrough.get()?.id ?? 0;
    const to = batchEnd.get(from, limit)?.id ?? null;
    if (to === null) return 0;
    const indexed = index.run(from, to).changes;
    advance.run(to);
    return indexed;
  });

  return {
    /**
     * Indexes up to `limit` messages not indexed yet, in one transaction; how many it did. It
     * takes the write lock only when there is something to index, and waits for it at most
     * `busyTimeoutMs`: this runs on the thread that answers HTTP, and another process holding
     * the lock (the sqlite3 shell, a backup) must not stall that thread for the connection's
     * whole busy timeout four times a second. A busy database is an error the next run retries.
     */
    indexPending(limit: number, busyTimeoutMs = 50): number {
      const from = indexedThrough.get()?.id ?? 0;
      if ((batchEnd.get(from, 1)?.id ?? null) === null) return 0;
      const usual = sqlite.pragma('busy_timeout', { simple: true }) as number;
      sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
      try {
        return indexBatch.immediate(limit);
      } finally {
        sqlite.pragma(`busy_timeout = ${usual}`);
      }
    },
  };
}

export type SubjectSearchIndexer = ReturnType<typeof createSubjectSearchIndexer>;
