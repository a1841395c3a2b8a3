import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DeliveryErrorCode } from '../../domain/delivery-error.ts';
import type { Message, MessageEvent } from '../../domain/message.ts';
import type { StoredTransition } from '../port.ts';
import type { Db } from './client.ts';
import type { MessageWriter } from './message-events-writer.ts';
import { toMessage } from '../rows.ts';
import { messages } from './schema.ts';
import type { CounterBatch } from '../counters.ts';

/** What an operator does to messages outside the worker's loop: retry, cancel, expedite. */
export function createMessageActions(
  db: Db,
  { findById, isSuppressed, appendEvent, inCountedTransaction }: MessageWriter,
) {
  function retryOne(
    counters: CounterBatch,
    id: number,
    maxAttempts: number,
    nowMs: number,
    smtpConfigVersion: number | null,
  ): StoredTransition {
    const row = findById.get({ id });
    if (!row) return { kind: 'not_found' };
    // A SUPPRESSED message goes again only once its address is off the list.
    const retriable =
      row.status === 'ABANDONED' ||
      row.status === 'CANCELLED' ||
      (row.status === 'SUPPRESSED' && !isSuppressed.get({ key: row.recipientKey }));
    if (!retriable) return { kind: 'conflict', message: toMessage(row) };
    const updated = db
      .update(messages)
      .set({
        status: 'QUEUED',
        maxAttempts,
        attemptsAtRetry: row.attempts,
        nextAttemptAt: nowMs,
        updatedAt: nowMs,
      })
      .where(eq(messages.id, id))
      .returning()
      .get()!;
    const event = appendEvent(counters, row, {
      atMs: nowMs,
      status: 'QUEUED',
      previousStatus: row.status,
      reason: 'retried',
      attempt: null,
      error: null,
      smtpConfigVersion,
    });
    return { kind: 'changed', message: toMessage(updated), event };
  }

  function cancelOne(
    counters: CounterBatch,
    id: number,
    nowMs: number,
    smtpConfigVersion: number | null,
  ): StoredTransition {
    const row = findById.get({ id });
    if (!row) return { kind: 'not_found' };
    if (row.status !== 'QUEUED') return { kind: 'conflict', message: toMessage(row) };
    const updated = db
      .update(messages)
      .set({ status: 'CANCELLED', nextAttemptAt: null, updatedAt: nowMs })
      .where(eq(messages.id, id))
      .returning()
      .get()!;
    const event = appendEvent(counters, row, {
      atMs: nowMs,
      status: 'CANCELLED',
      previousStatus: 'QUEUED',
      reason: 'cancelled',
      attempt: null,
      error: null,
      smtpConfigVersion,
    });
    return { kind: 'changed', message: toMessage(updated), event };
  }

  return {
    /** ABANDONED or CANCELLED -> QUEUED, with a fresh budget of `maxAttempts` attempts. */
    retry(
      id: number,
      maxAttempts: number,
      nowMs: number,
      smtpConfigVersion: number | null,
    ): StoredTransition {
      return inCountedTransaction((counters) =>
        retryOne(counters, id, maxAttempts, nowMs, smtpConfigVersion),
      );
    },

    /** QUEUED -> CANCELLED. */
    cancel(id: number, nowMs: number, smtpConfigVersion: number | null): StoredTransition {
      return inCountedTransaction((counters) => cancelOne(counters, id, nowMs, smtpConfigVersion));
    },

    /** `retry` for many messages in one transaction; returns the messages changed. */
    retryMany(
      ids: readonly number[],
      maxAttempts: number,
      nowMs: number,
      smtpConfigVersion: number | null,
    ): { message: Message; event: MessageEvent }[] {
      return inCountedTransaction((counters) =>
        ids.flatMap((id) => {
          const result = retryOne(counters, id, maxAttempts, nowMs, smtpConfigVersion);
          return result.kind === 'changed' ? [result] : [];
        }),
      );
    },

    /** `cancel` for many messages in one transaction; returns the messages changed. */
    cancelMany(
      ids: readonly number[],
      nowMs: number,
      smtpConfigVersion: number | null,
    ): { message: Message; event: MessageEvent }[] {
      return inCountedTransaction((counters) =>
        ids.flatMap((id) => {
          const result = cancelOne(counters, id, nowMs, smtpConfigVersion);
          return result.kind === 'changed' ? [result] : [];
        }),
      );
    },

    /**
     * Makes QUEUED messages whose last attempt failed with one of `codes` due now: after the
     * configuration changes, mail held back by the old one should not wait out its backoff.
     * Returns how many. Statuses don't change, so no events are appended.
     */
    expediteFailedWith(codes: readonly DeliveryErrorCode[], nowMs: number): number {
      if (codes.length === 0) return 0;
      return db
        .update(messages)
        .set({ nextAttemptAt: nowMs })
        .where(
          and(
            eq(messages.status, 'QUEUED'),
            sql`${messages.nextAttemptAt} > ${nowMs}`,
            inArray(sql`json_extract(${messages.lastError}, '$.code')`, [...codes]),
          ),
        )
        .run().changes;
    },
  };
}

export type MessageActions = ReturnType<typeof createMessageActions>;
