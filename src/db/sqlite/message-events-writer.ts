import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { MessageEvent } from '../../domain/message.ts';
import type { Db } from './client.ts';
import { toEvent } from '../rows.ts';
import { messageEvents, suppressions } from './schema.ts';
import { messageByIdQuery } from './message-columns.ts';
import { prepareDirect, prepareInsertThenRead } from './direct-statement.ts';
import { createCounterBatch, type CounterBatch } from '../counters.ts';
import type { StatsRepository } from './stats.ts';

/** An event as its writer describes it; the log assigns `seq`, the message gives the rest. */
export type EventChange = Omit<
  MessageEvent,
  'seq' | 'xid' | 'messageId' | 'recipient' | 'outcome' | 'report'
> &
  Partial<Pick<MessageEvent, 'outcome' | 'report'>>;

/**
 * What every part of the message repository shares: the message lookup by id, and writing a
 * status change's event and statistics counters inside one transaction.
 */
export function createMessageWriter(db: Db, stats: StatsRepository) {
  const p = sql.placeholder;

  const findById = messageByIdQuery(db).prepare();

  /** Whether this recipient key is on the suppression list now. */
  const suppressionId = { id: suppressions.id };
  const isSuppressed = prepareDirect<{ id: number }>(
    db,
    db
      .select(suppressionId)
      .from(suppressions)
      .where(and(eq(suppressions.addressKey, p('key')), isNull(suppressions.removedAt))),
    suppressionId,
  );

  const eventColumns = getTableColumns(messageEvents);
  const insertEvent = prepareInsertThenRead<typeof messageEvents.$inferSelect>(
    db,
    db.insert(messageEvents).values({
      messageId: p('messageId'),
      at: p('atMs'),
      status: p('status'),
      previousStatus: p('previousStatus'),
      reason: p('reason'),
      attempt: p('attempt'),
      error: p('error'),
      smtpConfigVersion: p('smtpConfigVersion'),
      outcome: p('outcome'),
      report: p('report'),
      reportKey: p('reportKey'),
    }),
    db
      .select(eventColumns)
      .from(messageEvents)
      .where(eq(messageEvents.seq, p('id'))),
    eventColumns,
  );

  function appendEvent(
    counters: CounterBatch,
    message: { id: number; recipient: string; createdAt: number; attempts: number },
    change: EventChange,
    reportKey: string | null = null,
  ): MessageEvent {
    const row = insertEvent.get({
      messageId: message.id,
      ...change,
      outcome: change.outcome ?? null,
      report: change.report ?? null,
      reportKey,
    });
    const event = toEvent(row!, message.recipient);
    counters.countEvent(event, { createdAtMs: message.createdAt, attempts: message.attempts });
    return event;
  }

  /** Runs `work` in one BEGIN IMMEDIATE transaction together with the counters it bumps. */
  function inCountedTransaction<T>(work: (counters: CounterBatch) => T): T {
    return db.transaction(
      () => {
        const counters = createCounterBatch();
        const result = work(counters);
        stats.write(counters);
        return result;
      },
      { behavior: 'immediate' },
    );
  }

  return { findById, isSuppressed, appendEvent, inCountedTransaction };
}

export type MessageWriter = ReturnType<typeof createMessageWriter>;
