import type { Db } from './client.ts';
import { createMessageActions } from './message-actions.ts';
import { createMessageWriter } from './message-events-writer.ts';
import { createMessageQueue } from './message-queue.ts';
import { createMessageReads } from './message-reads.ts';
import { createReportRepository } from './reports.ts';
import type { StatsRepository } from './stats.ts';

/**
 * The queue's storage. Every status change writes the message, its event and the statistics
 * counters in one transaction. The hot statements are prepared once: rebuilding them per call
 * cost more than running them.
 */
export function createMessageRepository(db: Db, stats: StatsRepository) {
  const writer = createMessageWriter(db, stats);
  return {
    ...createMessageReads(db, writer),
    ...createMessageQueue(db, writer),
    ...createMessageActions(db, writer),
    /** Reports and the suppression list: they write events and counters like the queue. */
    reports: createReportRepository(db, writer),
  };
}

export type MessageRepository = ReturnType<typeof createMessageRepository>;
