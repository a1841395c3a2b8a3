import { and, desc, eq, inArray, isNull, lt, max, notExists, sql } from 'drizzle-orm';
import type { MessageStatus } from '../../domain/message.ts';
import type { PruneRequest, PruneResult } from '../port.ts';
import type { Db } from './client.ts';
import { creationBoundary } from './creation-order.ts';
import {
  dispatches,
  messageEvents,
  messages,
  retentionState,
  submissions,
  unmatchedReports,
  webhookOutbox,
} from './schema.ts';

/** Statuses a message never leaves by itself: only these are ever pruned. */
const FINISHED = ['SENT', 'ABANDONED', 'CANCELLED', 'SUPPRESSED'] as const;

/**
 * Deletes old finished messages with their dispatches and events, one small batch per call so
 * that the delivery thread's transactions never wait long for the write lock. Statistics
 * counters are left alone: deliveryStats keeps counting pruned history.
 */
export function createRetentionRepository(db: Db) {
  /**
   * The id of the `keepNewest`-th newest message: anything older is over the cap. It walks
   * `keepNewest` entries of the primary key, so a job computes it once per run, not per batch
   * (ids only grow: a cap computed earlier in the run never prunes too much).
   */
  function capId(keepNewest: number): number | null {
    const row = db
      .select({ id: messages.id })
      .from(messages)
      .orderBy(desc(messages.id))
      .limit(1)
      .offset(keepNewest - 1)
      .get();
    return row?.id ?? null;
  }

  function candidates(request: PruneRequest): number[] {
    const ids = new Set<number>();
    if (request.olderThanMs !== null) {
      // Creation times follow ids (creation-order.ts): old messages are those below one id,
      // walked oldest first; updated_at spares one that changed recently (e.g. retried last
      // week after a month in ABANDONED).
      const { firstId } = creationBoundary(db, request.olderThanMs);
      for (const row of db
        .select({ id: messages.id })
        .from(messages)
        .where(
          and(
            lt(messages.id, firstId),
            lt(messages.updatedAt, request.olderThanMs),
            // Unary plus keeps SQLite off the (status, id) index, which would visit every
            // finished message and sort them; the id range visits only old ones.
            sql`+${messages.status} in ('SENT', 'ABANDONED', 'CANCELLED', 'SUPPRESSED')`,
          ),
        )
        .orderBy(messages.id)
        .limit(request.limit)
        .all()) {
        ids.add(row.id);
      }
    }
    if (request.belowId !== null && ids.size < request.limit) {
      const cap = request.belowId;
      {
        // The (status, id) index, one finished status at a time, oldest ids first.
        for (const status of FINISHED) {
          if (ids.size >= request.limit) break;
          for (const row of db
            .select({ id: messages.id })
            .from(messages)
            .where(and(eq(messages.status, status), lt(messages.id, cap)))
            .orderBy(messages.id)
            .limit(request.limit - ids.size)
            .all()) {
            ids.add(row.id);
          }
        }
      }
    }
    return [...ids];
  }

  return {
    pruneWebhookDeliveries(olderThanMs: number): number {
      // Attempts go with their delivery (ON DELETE CASCADE).
      return db
        .delete(webhookOutbox)
        .where(and(isNull(webhookOutbox.nextAttemptAt), lt(webhookOutbox.createdAt, olderThanMs)))
        .run().changes;
    },

    pruneUnmatchedReports(olderThanMs: number): number {
      return db.delete(unmatchedReports).where(lt(unmatchedReports.at, olderThanMs)).run().changes;
    },

    capId,

    /**
     * Prunes one batch; returns what it deleted (all zero once nothing is left to prune), and the
     * status of each deleted message (deletions write no event; status-totals.ts needs them).
     */
    pruneBatch(request: PruneRequest): PruneResult & { deletedStatuses: MessageStatus[] } {
      return db.transaction(
        () => {
          const ids = candidates(request);
          if (ids.length === 0) {
            return { messages: 0, dispatches: 0, events: 0, deletedStatuses: [] };
          }
          const newestSeq =
            db
              .select({ seq: max(messageEvents.seq) })
              .from(messageEvents)
              .where(inArray(messageEvents.messageId, ids))
              .get()?.seq ?? 0;
          const events = db
            .delete(messageEvents)
            .where(inArray(messageEvents.messageId, ids))
            .run().changes;
          const dispatched = db
            .delete(dispatches)
            .where(inArray(dispatches.messageId, ids))
            .run().changes;
          // Still finished: a message retried since it was picked stays (same transaction, but
          // the guard states the rule where the delete happens).
          const deletedRows = db
            .delete(messages)
            .where(and(inArray(messages.id, ids), inArray(messages.status, [...FINISHED])))
            .returning({ submissionId: messages.submissionId, status: messages.status })
            .all();
          const deleted = deletedRows.length;
          const submitted = [...new Set(deletedRows.flatMap((row) => row.submissionId ?? []))];
          // A submission goes with the last of its recipients' messages.
          if (submitted.length > 0) {
            db.delete(submissions)
              .where(
                and(
                  inArray(submissions.id, submitted),
                  notExists(
                    db
                      .select({ one: sql`1` })
                      .from(messages)
                      .where(eq(messages.submissionId, submissions.id)),
                  ),
                ),
              )
              .run();
          }
          db.insert(retentionState)
            .values({
              id: 1,
              prunedThroughSeq: newestSeq,
              prunedMessages: deleted,
              lastPrunedAt: request.nowMs,
            })
            .onConflictDoUpdate({
              target: retentionState.id,
              set: {
                prunedThroughSeq: sql`max(${retentionState.prunedThroughSeq}, ${newestSeq})`,
                prunedMessages: sql`${retentionState.prunedMessages} + ${deleted}`,
                lastPrunedAt: request.nowMs,
              },
            })
            .run();
          return {
            messages: deleted,
            dispatches: dispatched,
            events,
            deletedStatuses: deletedRows.map((row) => row.status),
          };
        },
        { behavior: 'immediate' },
      );
    },
  };
}

export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
