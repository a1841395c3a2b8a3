import { asc, count, gt, max, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { messageEvents, messages } from './schema.ts';
import { zeroStatusCounts } from '../../domain/message.ts';
import type { CountedAt, StatusChange } from './status-totals.ts';

/** Every message counted by status (status-totals.ts keeps the count from there). */
export function createMessageCounts(db: Db) {
  // One pass over the (status, id) index, never the table.
  const byStatus = db
    .select({ status: messages.status, n: count() })
    .from(messages)
    .groupBy(messages.status)
    .prepare();
  const changesAfter = db
    .select({
      seq: messageEvents.seq,
      status: messageEvents.status,
      previousStatus: messageEvents.previousStatus,
    })
    .from(messageEvents)
    .where(gt(messageEvents.seq, sql.placeholder('seq')))
    .orderBy(asc(messageEvents.seq))
    .prepare();
  const latestSeq = db
    .select({ seq: max(messageEvents.seq) })
    .from(messageEvents)
    .prepare();

  return {
    /** What the events after `seq` say of their messages' status, in the log's order. */
    changesAfter(seq: number): StatusChange[] {
      return changesAfter.all({ seq });
    },
    /** Every status is present, 0 when none; with the newest event the count includes. */
    countedAt(): CountedAt {
      // One read transaction: the counts and the position are of the same snapshot.
      return db.transaction(
        () => {
          const counts = zeroStatusCounts();
          for (const row of byStatus.all()) counts[row.status] = row.n;
          return { counts, seq: latestSeq.get()?.seq ?? 0 };
        },
        { behavior: 'deferred' },
      );
    },
  };
}

export type MessageCounts = ReturnType<typeof createMessageCounts>;
