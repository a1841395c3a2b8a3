import { and, asc, desc, eq, lt, min, sql } from 'drizzle-orm';
import type { Message } from '../../domain/message.ts';
import type { MessagePage } from '../port.ts';
import type { Db } from './client.ts';
import type { MessageWriter } from './message-events-writer.ts';
import { createCandidatePages } from './candidate-pages.ts';
import { createFilterCount } from './filter-count.ts';
import type { MessageListFilter } from '../message-filter.ts';
import { whereOf } from './message-filters.ts';
import { toMessage } from '../rows.ts';
import { messages } from './schema.ts';
import { messageReadColumns } from './message-columns.ts';
import { indexedBy } from './message-queue-statements.ts';

/**
 * Whether the messages table's own indexes find a page better than the other indexes can
 * (candidate-pages.ts): a recipient has few messages, and so, in a working mail service, do the
 * statuses other than SENT (ABANDONED with code X: walk the abandoned ones, not every attempt
 * that ever failed with X, most of which may belong to messages sent since or still queued).
 */
function byMessageIndexes(filter: MessageListFilter): boolean {
  if (filter.recipient !== undefined) return true;
  const statuses = filter.statuses ?? [];
  return statuses.length > 0 && !statuses.includes('SENT');
}

/** Queries over messages; nothing here writes. */
export function createMessageReads(db: Db, { findById }: Pick<MessageWriter, 'findById'>) {
  const pageFromCandidates = createCandidatePages(db);
  // The oldest QUEUED message is the one with the lowest id, since creation times follow ids
  // (creation-order.ts): the first entry of the (status, id) index for QUEUED, then a primary-key
  // read. min(created_at) read every QUEUED row: 160 ms on the main thread per /metrics scrape
  // with a backlog of 100,000.
  const oldestQueued = db
    .select({ createdAt: messages.createdAt })
    .from(messages)
    .where(
      eq(
        messages.id,
        db
          .select({ id: min(messages.id) })
          .from(messages)
          .where(eq(messages.status, 'QUEUED')),
      ),
    )
    .prepare();
  // Through the partial indexes messages_due and messages_lease: the first entry of each is the
  // answer.
  const nextQueued = db
    .select({ at: sql<number | null>`min(${messages.nextAttemptAt})` })
    .from(indexedBy('messages_due'))
    .where(sql`${messages.status} = 'QUEUED'`)
    .prepare();
  const nextLeaseEnd = db
    .select({ at: sql<number | null>`min(${messages.leaseExpiresAt})` })
    .from(indexedBy('messages_lease'))
    .where(sql`${messages.status} = 'PROCESSING'`)
    .prepare();

  return {
    find(id: number): Message | null {
      const row = findById.get({ id });
      return row ? toMessage(row) : null;
    },

    /** Newest first; `afterId` is the id of the last message of the previous page. */
    list(filter: MessageListFilter, first: number, afterId: number | null): MessagePage {
      const where = whereOf(db, filter);
      const rows =
        (byMessageIndexes(filter) ? null : pageFromCandidates(filter, first + 1, afterId)) ??
        db
          .select(messageReadColumns)
          .from(messages)
          .where(afterId === null ? where : and(where, lt(messages.id, afterId)))
          .orderBy(desc(messages.id))
          .limit(first + 1)
          .all();
      return { messages: rows.slice(0, first).map(toMessage), hasNextPage: rows.length > first };
    },

    /** Ids of messages matching `filter` with ids above `afterId`, oldest first. */
    idsMatching(filter: MessageListFilter, limit: number, afterId = 0): number[] {
      return db
        .select({ id: messages.id })
        .from(messages)
        .where(and(whereOf(db, filter), sql`${messages.id} > ${afterId}`))
        .orderBy(asc(messages.id))
        .limit(limit)
        .all()
        .map((row) => row.id);
    },

    /** How many messages match `filter`. */
    countMatching: createFilterCount(db),

    /** The earliest time something becomes claimable, or null when nothing is waiting. */
    nextDueAtMs(): number | null {
      const queued = nextQueued.get();
      const leased = nextLeaseEnd.get();
      const times = [queued?.at, leased?.at].filter((at): at is number => typeof at === 'number');
      return times.length > 0 ? Math.min(...times) : null;
    },

    /** The creation time of the oldest QUEUED message, or null when none is. */
    oldestQueuedAtMs(): number | null {
      return oldestQueued.get()?.createdAt ?? null;
    },
  };
}

export type MessageReads = ReturnType<typeof createMessageReads>;
