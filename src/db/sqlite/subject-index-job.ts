import type { SubjectSearchIndexer } from './subject-search.ts';
import type { WriteTurns } from './write-turns.ts';

export interface SubjectIndexJobOptions {
  indexer: SubjectSearchIndexer;
  /** Messages indexed per transaction (~15 µs each). @default 500 */
  batchSize?: number;
  /** Pause between batches while behind: keeps the job to a small share of the thread. @default 50 */
  catchUpDelayMs?: number;
  /** Pause once everything is indexed. @default 250 */
  idleDelayMs?: number;
  onError: (error: unknown) => void;
  /** Turns at the write lock shared with the delivery thread. */
  writeTurns: WriteTurns;
}

/**
 * Keeps the subject search index close behind the messages table: a burst of sendEmails is
 * acknowledged without waiting for indexing, and searched within a second or so of it.
 */
export function startSubjectIndexJob(options: SubjectIndexJobOptions) {
  const batchSize = options.batchSize ?? 500;
  const catchUpDelayMs = options.catchUpDelayMs ?? 50;
  const idleDelayMs = options.idleDelayMs ?? 250;
  const { writeTurns } = options;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function schedule(delayMs: number) {
    timer = setTimeout(() => writeTurns.run(tick), delayMs);
    timer.unref();
  }

  function tick() {
    timer = null;
    if (stopped) return;
    let indexed = 0;
    try {
      indexed = options.indexer.indexPending(batchSize);
    } catch (error) {
      // A busy or full database: the next tick tries again; searches read the rest directly.
      options.onError(error);
    }
    schedule(indexed === batchSize ? catchUpDelayMs : idleDelayMs);
  }
  writeTurns.run(tick);

  return {
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
