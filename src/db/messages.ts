import { and, asc, count, desc, eq, gte, inArray, lt, lte, min, sql, type SQL } from 'drizzle-orm';
import type { DeliveryError } from '../domain/delivery-error.ts';
import type {
  EventReason,
  Header,
  Message,
  MessageEvent,
  MessageStatus,
} from '../domain/message.ts';
import type { Db } from './client.ts';
import { toEvent, toMessage } from './rows.ts';
import { dispatches, messageEvents, messages } from './schema.ts';

export interface NewMessage {
  recipient: string;
  subject: string;
  text: string | null;
  html: string | null;
  headers: Header[];
  messageId: string;
  maxAttempts: number;
  idempotencyKey: string | null;
  requestHash: string | null;
}

export type EnqueueResult =
  | { kind: 'queued'; message: Message; event: MessageEvent }
  | { kind: 'repeat'; message: Message }
  | { kind: 'conflict'; message: Message };

export interface MessageListFilter {
  statuses?: readonly MessageStatus[];
  recipient?: string;
  createdAfterMs?: number;
  createdBeforeMs?: number;
  subjectContains?: string;
}

export interface MessagePage {
  messages: Message[];
  hasNextPage: boolean;
  totalCount: number;
}

/** What the worker decided about one attempt; the repository only writes it. */
export interface AttemptRecord {
  messageId: number;
  /** The lease the claim granted; a record for a lease that was since re-claimed is dropped. */
  leaseExpiresAtMs: number;
  attempt: number;
  atMs: number;
  durationMs: number;
  smtpConfigVersion: number | null;
  response: string | null;
  error: DeliveryError | null;
  next:
    | { status: 'SENT'; reason: 'sent' }
    | { status: 'QUEUED'; reason: 'retry_scheduled'; nextAttemptAtMs: number }
    | { status: 'ABANDONED'; reason: 'failed_permanently' | 'attempts_exhausted' };
}

export interface ClaimedMessage {
  message: Message;
  event: MessageEvent;
}

export type TransitionResult =
  | { kind: 'changed'; message: Message; event: MessageEvent }
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: Message };

export function createMessageRepository(db: Db) {
  const findById = db
    .select()
    .from(messages)
    .where(eq(messages.id, sql.placeholder('id')))
    .prepare();

  const findByIdempotencyKey = db
    .select()
    .from(messages)
    .where(eq(messages.idempotencyKey, sql.placeholder('key')))
    .prepare();

  type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

  function appendEvent(
    tx: Tx,
    message: { id: number; recipient: string },
    change: {
      atMs: number;
      status: MessageStatus;
      previousStatus: MessageStatus | null;
      reason: EventReason;
      attempt: number | null;
      error: DeliveryError | null;
      smtpConfigVersion: number | null;
    },
  ): MessageEvent {
    const row = tx
      .insert(messageEvents)
      .values({
        messageId: message.id,
        at: change.atMs,
        status: change.status,
        previousStatus: change.previousStatus,
        reason: change.reason,
        attempt: change.attempt,
        error: change.error,
        smtpConfigVersion: change.smtpConfigVersion,
      })
      .returning()
      .get();
    return toEvent(row, message.recipient);
  }

  function filterConditions(filter: MessageListFilter): SQL[] {
    const conditions: SQL[] = [];
    if (filter.statuses && filter.statuses.length > 0) {
      conditions.push(inArray(messages.status, [...filter.statuses]));
    }
    if (filter.recipient !== undefined) {
      conditions.push(eq(messages.recipientKey, filter.recipient.toLowerCase()));
    }
    if (filter.createdAfterMs !== undefined) {
      conditions.push(gte(messages.createdAt, filter.createdAfterMs));
    }
    if (filter.createdBeforeMs !== undefined) {
      conditions.push(lt(messages.createdAt, filter.createdBeforeMs));
    }
    if (filter.subjectContains !== undefined && filter.subjectContains !== '') {
      // instr on lower() avoids LIKE's wildcard characters in user input.
      conditions.push(
        sql`instr(lower(${messages.subject}), ${filter.subjectContains.toLowerCase()}) > 0`,
      );
    }
    return conditions;
  }

  return {
    find(id: number): Message | null {
      const row = findById.get({ id });
      return row ? toMessage(row) : null;
    },

    /** Stores a QUEUED message and its first event, or finds the earlier one with the same key. */
    enqueue(input: NewMessage, nowMs: number): EnqueueResult {
      return db.transaction(
        (tx) => {
          if (input.idempotencyKey !== null) {
            const existing = findByIdempotencyKey.get({ key: input.idempotencyKey });
            if (existing) {
              const message = toMessage(existing);
              return existing.requestHash === input.requestHash
                ? { kind: 'repeat', message }
                : { kind: 'conflict', message };
            }
          }
          const row = tx
            .insert(messages)
            .values({
              recipient: input.recipient,
              recipientKey: input.recipient.toLowerCase(),
              subject: input.subject,
              text: input.text,
              html: input.html,
              headers: input.headers,
              status: 'QUEUED',
              attempts: 0,
              maxAttempts: input.maxAttempts,
              attemptsAtRetry: 0,
              messageId: input.messageId,
              idempotencyKey: input.idempotencyKey,
              requestHash: input.requestHash,
              createdAt: nowMs,
              updatedAt: nowMs,
              nextAttemptAt: nowMs,
            })
            .returning()
            .get();
          const event = appendEvent(tx, row, {
            atMs: nowMs,
            status: 'QUEUED',
            previousStatus: null,
            reason: 'queued',
            attempt: null,
            error: null,
            smtpConfigVersion: null,
          });
          return { kind: 'queued', message: toMessage(row), event };
        },
        { behavior: 'immediate' },
      );
    },

    /** Newest first; `afterId` is the id of the last message of the previous page. */
    list(filter: MessageListFilter, first: number, afterId: number | null): MessagePage {
      const conditions = filterConditions(filter);
      const where = conditions.length > 0 ? and(...conditions) : undefined;
      const pageWhere = afterId === null ? where : and(where, lt(messages.id, afterId));
      const rows = db
        .select()
        .from(messages)
        .where(pageWhere)
        .orderBy(desc(messages.id))
        .limit(first + 1)
        .all();
      const total = db.select({ n: count() }).from(messages).where(where).get();
      return {
        messages: rows.slice(0, first).map(toMessage),
        hasNextPage: rows.length > first,
        totalCount: total?.n ?? 0,
      };
    },

    /**
     * Claims up to `limit` due messages in one BEGIN IMMEDIATE transaction: QUEUED ones whose time
     * has come, and PROCESSING ones whose lease ran out (their worker died mid-send).
     */
    claimDue(nowMs: number, leaseMs: number, limit: number): ClaimedMessage[] {
      if (limit <= 0) return [];
      return db.transaction(
        (tx) => {
          const expired = tx
            .select()
            .from(messages)
            .where(and(eq(messages.status, 'PROCESSING'), lte(messages.leaseExpiresAt, nowMs)))
            .orderBy(asc(messages.leaseExpiresAt))
            .limit(limit)
            .all();
          const due = tx
            .select()
            .from(messages)
            .where(and(eq(messages.status, 'QUEUED'), lte(messages.nextAttemptAt, nowMs)))
            .orderBy(asc(messages.nextAttemptAt), asc(messages.id))
            .limit(limit - expired.length)
            .all();
          const leaseExpiresAt = nowMs + leaseMs;
          return [...expired, ...due].map((row) => {
            const updated = tx
              .update(messages)
              .set({ status: 'PROCESSING', leaseExpiresAt, updatedAt: nowMs, nextAttemptAt: null })
              .where(eq(messages.id, row.id))
              .returning()
              .get();
            const event = appendEvent(tx, row, {
              atMs: nowMs,
              status: 'PROCESSING',
              previousStatus: row.status,
              reason: row.status === 'PROCESSING' ? 'lease_expired' : 'claimed',
              attempt: row.attempts + 1,
              error: null,
              smtpConfigVersion: null,
            });
            return { message: toMessage(updated!), event };
          });
        },
        { behavior: 'immediate' },
      );
    },

    /** Writes a batch of finished attempts in one transaction; returns the events it appended. */
    recordAttempts(records: readonly AttemptRecord[]): MessageEvent[] {
      if (records.length === 0) return [];
      return db.transaction(
        (tx) => {
          const events: MessageEvent[] = [];
          for (const record of records) {
            const updated = tx
              .update(messages)
              .set({
                status: record.next.status,
                attempts: sql`${messages.attempts} + 1`,
                updatedAt: record.atMs + record.durationMs,
                leaseExpiresAt: null,
                nextAttemptAt: record.next.status === 'QUEUED' ? record.next.nextAttemptAtMs : null,
                lastError: record.error ?? sql`${messages.lastError}`,
                smtpConfigVersion: record.smtpConfigVersion,
              })
              .where(
                and(
                  eq(messages.id, record.messageId),
                  eq(messages.status, 'PROCESSING'),
                  eq(messages.leaseExpiresAt, record.leaseExpiresAtMs),
                ),
              )
              .returning({ id: messages.id, recipient: messages.recipient })
              .get();
            if (!updated) continue; // re-claimed after our lease ran out: that claim owns it now
            tx.insert(dispatches)
              .values({
                messageId: record.messageId,
                attempt: record.attempt,
                succeeded: record.error === null,
                at: record.atMs,
                durationMs: record.durationMs,
                response: record.response,
                error: record.error,
                smtpConfigVersion: record.smtpConfigVersion,
              })
              .run();
            events.push(
              appendEvent(tx, updated, {
                atMs: record.atMs + record.durationMs,
                status: record.next.status,
                previousStatus: 'PROCESSING',
                reason: record.next.reason,
                attempt: record.attempt,
                error: record.error,
                smtpConfigVersion: record.smtpConfigVersion,
              }),
            );
          }
          return events;
        },
        { behavior: 'immediate' },
      );
    },

    /** PROCESSING -> QUEUED (due now) for claims that were not sent, e.g. on shutdown. */
    release(
      claims: readonly { messageId: number; leaseExpiresAtMs: number }[],
      nowMs: number,
    ): MessageEvent[] {
      if (claims.length === 0) return [];
      return db.transaction(
        (tx) =>
          claims.flatMap((claim) => {
            const row = tx
              .update(messages)
              .set({
                status: 'QUEUED',
                leaseExpiresAt: null,
                nextAttemptAt: nowMs,
                updatedAt: nowMs,
              })
              .where(
                and(
                  eq(messages.id, claim.messageId),
                  eq(messages.status, 'PROCESSING'),
                  eq(messages.leaseExpiresAt, claim.leaseExpiresAtMs),
                ),
              )
              .returning()
              .get();
            if (!row) return [];
            return [
              appendEvent(tx, row, {
                atMs: nowMs,
                status: 'QUEUED',
                previousStatus: 'PROCESSING',
                reason: 'released_on_shutdown',
                attempt: null,
                error: null,
                smtpConfigVersion: null,
              }),
            ];
          }),
        { behavior: 'immediate' },
      );
    },

    /** ABANDONED or CANCELLED -> QUEUED, with a fresh budget of `maxAttempts` attempts. */
    retry(id: number, maxAttempts: number, nowMs: number): TransitionResult {
      return db.transaction(
        (tx) => {
          const row = findById.get({ id });
          if (!row) return { kind: 'not_found' };
          if (row.status !== 'ABANDONED' && row.status !== 'CANCELLED') {
            return { kind: 'conflict', message: toMessage(row) };
          }
          const updated = tx
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
          const event = appendEvent(tx, row, {
            atMs: nowMs,
            status: 'QUEUED',
            previousStatus: row.status,
            reason: 'retried',
            attempt: null,
            error: null,
            smtpConfigVersion: null,
          });
          return { kind: 'changed', message: toMessage(updated), event };
        },
        { behavior: 'immediate' },
      );
    },

    /** QUEUED -> CANCELLED. */
    cancel(id: number, nowMs: number): TransitionResult {
      return db.transaction(
        (tx) => {
          const row = findById.get({ id });
          if (!row) return { kind: 'not_found' };
          if (row.status !== 'QUEUED') return { kind: 'conflict', message: toMessage(row) };
          const updated = tx
            .update(messages)
            .set({ status: 'CANCELLED', nextAttemptAt: null, updatedAt: nowMs })
            .where(eq(messages.id, id))
            .returning()
            .get()!;
          const event = appendEvent(tx, row, {
            atMs: nowMs,
            status: 'CANCELLED',
            previousStatus: 'QUEUED',
            reason: 'cancelled',
            attempt: null,
            error: null,
            smtpConfigVersion: null,
          });
          return { kind: 'changed', message: toMessage(updated), event };
        },
        { behavior: 'immediate' },
      );
    },

    /** The earliest time something becomes claimable, or null when nothing is waiting. */
    nextDueAtMs(): number | null {
      const queued = db
        .select({ at: min(messages.nextAttemptAt) })
        .from(messages)
        .where(eq(messages.status, 'QUEUED'))
        .get();
      const leased = db
        .select({ at: min(messages.leaseExpiresAt) })
        .from(messages)
        .where(eq(messages.status, 'PROCESSING'))
        .get();
      const times = [queued?.at, leased?.at].filter((at): at is number => typeof at === 'number');
      return times.length > 0 ? Math.min(...times) : null;
    },
  };
}

export type MessageRepository = ReturnType<typeof createMessageRepository>;
