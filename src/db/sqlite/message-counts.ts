import { count } from 'drizzle-orm';
import { MESSAGE_STATUSES, type MessageStatus } from '../../domain/message.ts';
import type { Db } from './client.ts';
import { messages } from './schema.ts';

/** Counts for the metrics endpoint. */
export function createMessageCounts(db: Db) {
  // One pass over the (status, id) index, never the table: cheap enough for every scrape.
  const byStatus = db
    .select({ status: messages.status, n: count() })
    .from(messages)
    .groupBy(messages.status)
    .prepare();

  return {
    /** Messages in each status now; every status is present, 0 when none. */
    byStatus(): Record<MessageStatus, number> {
      const counts = Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0])) as Record<
        MessageStatus,
        number
      >;
      for (const row of byStatus.all()) counts[row.status] = row.n;
      return counts;
    },
  };
}

export type MessageCounts = ReturnType<typeof createMessageCounts>;
