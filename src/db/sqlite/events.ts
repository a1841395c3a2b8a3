import { and, asc, eq, gt, inArray, max, sql, type SQL } from 'drizzle-orm';
import type { MessageEvent } from '../../domain/message.ts';
import type { EventFilter } from '../port.ts';
import type { Db } from './client.ts';
import { toEvent } from '../rows.ts';
import { messageEvents, messages, retentionState } from './schema.ts';

export function createEventRepository(db: Db) {
  const forMessage = db
    .select({ event: messageEvents, recipient: messages.recipient })
    .from(messageEvents)
    .innerJoin(messages, eq(messages.id, messageEvents.messageId))
    .where(eq(messageEvents.messageId, sql.placeholder('id')))
    .orderBy(asc(messageEvents.seq))
    .prepare();
  // The feed's catch-up read (event-feed.ts) runs after most commits: prepared once.
  const unfilteredAfter = db
    .select({ event: messageEvents, recipient: messages.recipient })
    .from(messageEvents)
    .innerJoin(messages, eq(messages.id, messageEvents.messageId))
    .where(gt(messageEvents.seq, sql.placeholder('afterSeq')))
    .orderBy(asc(messageEvents.seq))
    .limit(sql.placeholder('limit'))
    .prepare();
  // Every live subscription of its own starts from it: prepared once, not at each subscribe.
  const newestSeq = db
    .select({ seq: max(messageEvents.seq) })
    .from(messageEvents)
    .prepare();

  return {
    /** The newest event's sequence number, 0 when the log is empty. */
    latestSeq(): number {
      return newestSeq.get()?.seq ?? 0;
    },

    /**
     * The newest seq retention has deleted (0 if none): a cursor below it may have lost events
     * in between, so replaying after it would silently skip some.
     */
    prunedThroughSeq(): number {
      const row = db
        .select({ seq: retentionState.prunedThroughSeq })
        .from(retentionState)
        .where(eq(retentionState.id, 1))
        .get();
      return row?.seq ?? 0;
    },

    /** Events with `seq > afterSeq`, oldest first, at most `limit`. */
    listAfter(afterSeq: number, limit: number, filter: EventFilter = {}): MessageEvent[] {
      if (!filter.statuses?.length && filter.recipientKey === undefined) {
        return unfilteredAfter
          .all({ afterSeq, limit })
          .map(({ event, recipient }) => toEvent(event, recipient));
      }
      const conditions: SQL[] = [gt(messageEvents.seq, afterSeq)];
      if (filter.statuses && filter.statuses.length > 0) {
        conditions.push(inArray(messageEvents.status, [...filter.statuses]));
      }
      if (filter.recipientKey !== undefined) {
        conditions.push(eq(messages.recipientKey, filter.recipientKey));
      }
      return db
        .select({ event: messageEvents, recipient: messages.recipient })
        .from(messageEvents)
        .innerJoin(messages, eq(messages.id, messageEvents.messageId))
        .where(and(...conditions))
        .orderBy(asc(messageEvents.seq))
        .limit(limit)
        .all()
        .map((row) => toEvent(row.event, row.recipient));
    },

    /** The message's whole timeline, oldest first. */
    listForMessage(messageId: number): MessageEvent[] {
      return forMessage.all({ id: messageId }).map((row) => toEvent(row.event, row.recipient));
    },
  };
}

export type EventRepository = ReturnType<typeof createEventRepository>;
