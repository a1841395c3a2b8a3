import { and, asc, eq, gt, inArray, lte, or, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from './client.ts';
import { dispatches, messages, submissions } from './schema.ts';
import { messageReadColumns } from './message-columns.ts';

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

  const insertMessage = db
    .insert(messages)
    .values({
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
    })
    .returning()
    .prepare();

  const insertSubmission = db
    .insert(submissions)
    .values({ raw: p('raw') })
    .returning({ id: submissions.id })
    .prepare();

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

  /** PROCESSING with a new lease for the messages `chosen` selects, in one statement. */
  const claim = (chosen: SQLWrapper) =>
    db.update(messages).set(claimSet).where(inArray(messages.id, chosen)).returning().prepare();

  const claimExpired = claim(
    db
      .select({ id: sql`${messages.id}` })
      .from(indexedBy('messages_lease'))
      .where(
        and(
          // A literal, not a parameter: how SQLite knows the partial index messages_lease applies.
          sql`${messages.status} = 'PROCESSING'`,
          // Past its end, or ending after a lease granted now would: the clock went back.
          or(
            lte(messages.leaseExpiresAt, p('now')),
            gt(messages.leaseExpiresAt, p('leaseExpiresAt')),
          ),
          notExcluded,
        ),
      )
      .orderBy(asc(messages.leaseExpiresAt))
      .limit(p('limit')),
  );

  const claimQueued = claim(
    db
      .select({ id: sql`${messages.id}` })
      .from(indexedBy('messages_due'))
      .where(
        and(
          // A literal: how SQLite knows the partial index messages_due applies.
          sql`${messages.status} = 'QUEUED'`,
          or(lte(messages.nextAttemptAt, p('now')), gt(messages.nextAttemptAt, p('horizon'))),
        ),
      )
      .orderBy(asc(messages.nextAttemptAt), asc(messages.id))
      .limit(p('limit')),
  );

  const finishAttempt = db
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
    )
    .returning({
      id: messages.id,
      recipient: messages.recipient,
      createdAt: messages.createdAt,
      attempts: messages.attempts,
    })
    .prepare();

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
