import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { dispatches, messages, submissions } from './schema.ts';
import { messageByIdQuery, messageReadColumns } from './message-columns.ts';
import {
  prepareDirectWrite,
  prepareInsertThenRead,
  prepareUpdateThenRead,
} from './direct-statement.ts';

/**
 * `messages` read through one of the queue's partial indexes, named: without statistics the
 * planner takes messages_status_id (every QUEUED message, then sorted) over the partial index
 * that is already in order. The query must also name the index's status as a literal.
 */
export const indexedBy = (index: 'messages_due' | 'messages_lease') =>
  sql`${messages} indexed by ${sql.identifier(index)}`;

/**
 * The queue's hot statements, prepared once per connection: rebuilding them per call cost more
 * than running them.
 */
export function prepareQueueStatements(db: Db) {
  const p = sql.placeholder;

  const findByIdempotencyKey = db
    .select(messageReadColumns)
    .from(messages)
    .where(eq(messages.idempotencyKey, p('key')))
    .prepare();

  const insertMessage = prepareInsertThenRead<typeof messages.$inferSelect>(
    db,
    db.insert(messages).values({
      recipient: p('recipient'),
      recipientKey: p('recipientKey'),
      subject: p('subject'),
      text: p('text'),
      html: p('html'),
      headers: p('headers'),
      status: p('status'),
      attempts: 0,
      maxAttempts: p('maxAttempts'),
      attemptsAtRetry: 0,
      messageId: p('messageId'),
      idempotencyKey: p('idempotencyKey'),
      requestHash: p('requestHash'),
      submissionId: p('submissionId'),
      submittedBy: p('submittedBy'),
      // Never before the previous message's creation time, even if the clock went back: with
      // ids and creation times in the same order, a time range is an id range (see
      // message-filters.ts), which is what keeps time filters fast on a large history.
      createdAt: sql`max(${p('now')}, coalesce((select ${messages.createdAt} from ${messages} order by ${messages.id} desc limit 1), 0))`,
      updatedAt: p('now'),
      nextAttemptAt: p('nextAttemptAt'),
    }),
    messageByIdQuery(db),
    messageReadColumns,
  );

  const insertSubmission = prepareDirectWrite(db, db.insert(submissions).values({ raw: p('raw') }));

  /** The bytes a claimed submitted message sends. */
  const submissionRaw = db
    .select({ raw: submissions.raw })
    .from(submissions)
    .where(eq(submissions.id, p('id')))
    .prepare();

  const claimSet = {
    status: 'PROCESSING' as const,
    leaseExpiresAt: sql`${p('leaseExpiresAt')}`,
    updatedAt: sql`${p('now')}`,
    nextAttemptAt: null,
  };
  const notExcluded = sql`${messages.id} not in (select value from json_each(${p('exclude')}))`;

  /**
   * One range of the claim: `any` reads whether it holds a message (from the index alone), and
   * `take` moves what `chosen` selects to PROCESSING with a new lease, in one statement. A
   * turn's ranges are nearly always empty but one, and an UPDATE … RETURNING that changes
   * nothing still costs about 30 µs under the write lock (it opens the table and every index
   * it would write): 6 µs to ask first.
   */
  const claim = (chosen: ReturnType<typeof chooseIds>) => ({
    any: chosen.prepare(),
    take: db
      .update(messages)
      .set(claimSet)
      .where(inArray(messages.id, chosen))
      .returning()
      .prepare(),
  });
  const chooseIds = (
    index: Parameters<typeof indexedBy>[0],
    where: SQL | undefined,
    order: SQL[],
  ) =>
    db
      .select({ id: sql<number>`${messages.id}` })
      .from(indexedBy(index))
      .where(where)
      .orderBy(...order)
      .limit(p('limit'));

  // Each claim is two statements of one range each, run in the queue's order (the second only
  // while there is room): as one `a <= now or a > later` condition, SQLite walked the whole
  // partial index to test it, so a backlog of 100,000 deferred retries cost every claim about
  // 5 ms under the write lock instead of microseconds. The second range is nearly always empty:
  // it holds times beyond any this worker could have set, i.e. set while the clock was ahead.
  const expiredLeases = (range: SQL) =>
    claim(
      chooseIds(
        'messages_lease',
        // A literal status, not a parameter: how SQLite knows the partial index applies.
        and(sql`${messages.status} = 'PROCESSING'`, range, notExcluded),
        [asc(messages.leaseExpiresAt)],
      ),
    );
  const dueMessages = (range: SQL) =>
    claim(
      chooseIds('messages_due', and(sql`${messages.status} = 'QUEUED'`, range), [
        asc(messages.nextAttemptAt),
        asc(messages.id),
      ]),
    );

  /** Leases that ran out, oldest first: the first claims of a worker's turn. */
  const claimExpired = [
    expiredLeases(lte(messages.leaseExpiresAt, p('now'))),
    // Ending after a lease granted now would: granted while the clock was ahead.
    expiredLeases(gt(messages.leaseExpiresAt, p('leaseExpiresAt'))),
  ];
  /** Due QUEUED messages, oldest first: claimed while a turn has room after expired leases. */
  const claimQueued = [
    dueMessages(lte(messages.nextAttemptAt, p('now'))),
    // Due later than any retry this worker schedules: scheduled while the clock was ahead.
    dueMessages(gt(messages.nextAttemptAt, p('horizon'))),
  ];

  const finishedFields = {
    id: messages.id,
    recipient: messages.recipient,
    createdAt: messages.createdAt,
    attempts: messages.attempts,
  };
  const finishedById = db
    .select(finishedFields)
    .from(messages)
    .where(eq(messages.id, p('id')));
  const finishAttempt = prepareUpdateThenRead<(typeof finishedById)['_']['result'][number]>(
    db,
    db
      .update(messages)
      .set({
        status: sql`${p('status')}`,
        attempts: sql`${messages.attempts} + 1`,
        updatedAt: sql`${p('updatedAt')}`,
        leaseExpiresAt: null,
        nextAttemptAt: sql`${p('nextAttemptAt')}`,
        lastError: sql`coalesce(${p('lastError')}, ${messages.lastError})`,
        smtpConfigVersion: sql`${p('smtpConfigVersion')}`,
        everFailed: sql`${messages.everFailed} or ${p('failed')}`,
      })
      .where(
        and(
          eq(messages.id, p('id')),
          eq(messages.status, 'PROCESSING'),
          eq(messages.leaseExpiresAt, p('leaseExpiresAt')),
        ),
      ),
    finishedById,
    finishedFields,
  );

  const insertDispatch = db
    .insert(dispatches)
    .values({
      messageId: p('messageId'),
      attempt: p('attempt'),
      succeeded: p('succeeded'),
      at: p('at'),
      durationMs: p('durationMs'),
      response: p('response'),
      error: p('error'),
      errorCode: p('errorCode'),
      smtpConfigVersion: p('smtpConfigVersion'),
      transcript: p('transcript'),
    })
    .prepare();

  const release = db
    .update(messages)
    .set({
      status: 'QUEUED',
      leaseExpiresAt: null,
      nextAttemptAt: sql`${p('now')}`,
      updatedAt: sql`${p('now')}`,
    })
    .where(
      and(
        eq(messages.id, p('id')),
        eq(messages.status, 'PROCESSING'),
        eq(messages.leaseExpiresAt, p('leaseExpiresAt')),
      ),
    )
    .returning()
    .prepare();

  /** A claimed message whose recipient is suppressed: stopped instead of sent. */
  const suppress = db
    .update(messages)
    .set({
      status: 'SUPPRESSED',
      leaseExpiresAt: null,
      nextAttemptAt: null,
      updatedAt: sql`${p('now')}`,
    })
    .where(eq(messages.id, p('id')))
    .returning()
    .prepare();

  const renew = db
    .update(messages)
    .set({ leaseExpiresAt: sql`${p('newLease')}` })
    .where(
      and(
        eq(messages.id, p('id')),
        eq(messages.status, 'PROCESSING'),
        eq(messages.leaseExpiresAt, p('leaseExpiresAt')),
      ),
    )
    .returning({ id: messages.id, leaseExpiresAt: messages.leaseExpiresAt })
    .prepare();

  return {
    renew,
    suppress,
    findByIdempotencyKey,
    insertMessage,
    insertSubmission,
    submissionRaw,
    claimExpired,
    claimQueued,
    finishAttempt,
    insertDispatch,
    release,
  };
}
