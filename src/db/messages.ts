import {
  and,
  asc,
  count,
  desc,
  eq,
  exists,
  gte,
  inArray,
  lt,
  lte,
  min,
  sql,
  type SQL,
} from 'drizzle-orm';
import type { DeliveryError, DeliveryErrorCode } from '../domain/delivery-error.ts';
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
import { createCounterBatch, type CounterBatch, type StatsRepository } from './stats.ts';

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
  /** The configuration in use when it was queued, for the event. */
  smtpConfigVersion: number | null;
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
  /** Some attempt failed with one of these codes. */
  errorCodes?: readonly DeliveryErrorCode[];
  /** true: some attempt failed; false: none did. */
  everFailed?: boolean;
  /** Some attempt used this configuration version. */
  smtpConfigVersion?: number;
  /** The last failed attempt's code is one of these. */
  lastErrorCodes?: readonly DeliveryErrorCode[];
  /** Changed at or after this time. */
  updatedAfterMs?: number;
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
  transcript: string | null;
  next:
    | { status: 'SENT'; reason: 'sent' }
    | { status: 'QUEUED'; reason: 'retry_scheduled'; nextAttemptAtMs: number }
    | { status: 'ABANDONED'; reason: 'failed_permanently' | 'attempts_exhausted' };
}

export interface ClaimRequest {
  nowMs: number;
  leaseMs: number;
  limit: number;
  /** The configuration the claims will be sent with, for their events. */
  smtpConfigVersion: number | null;
  /** The caller's own sends in flight: never claimed twice, even past their lease. */
  excludeIds?: readonly number[];
}

export interface ClaimedMessage {
  message: Message;
  event: MessageEvent;
}

export type TransitionResult =
  | { kind: 'changed'; message: Message; event: MessageEvent }
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: Message };

interface EventChange {
  atMs: number;
  status: MessageStatus;
  previousStatus: MessageStatus | null;
  reason: EventReason;
  attempt: number | null;
  error: DeliveryError | null;
  smtpConfigVersion: number | null;
}

/**
 * The queue's storage. Every status change writes the message, its event and the statistics
 * counters in one transaction. The hot statements are prepared once: rebuilding them per call
 * cost more than running them.
 */
export function createMessageRepository(db: Db, stats: StatsRepository) {
  const p = sql.placeholder;

  const findById = db
    .select()
    .from(messages)
    .where(eq(messages.id, p('id')))
    .prepare();

  const findByIdempotencyKey = db
    .select()
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
      status: 'QUEUED',
      attempts: 0,
      maxAttempts: p('maxAttempts'),
      attemptsAtRetry: 0,
      messageId: p('messageId'),
      idempotencyKey: p('idempotencyKey'),
      requestHash: p('requestHash'),
      createdAt: p('now'),
      updatedAt: p('now'),
      nextAttemptAt: p('now'),
    })
    .returning()
    .prepare();

  const insertEvent = db
    .insert(messageEvents)
    .values({
      messageId: p('messageId'),
      at: p('atMs'),
      status: p('status'),
      previousStatus: p('previousStatus'),
      reason: p('reason'),
      attempt: p('attempt'),
      error: p('error'),
      smtpConfigVersion: p('smtpConfigVersion'),
    })
    .returning()
    .prepare();

  const claimSet = {
    status: 'PROCESSING' as const,
    leaseExpiresAt: sql`${p('leaseExpiresAt')}`,
    updatedAt: sql`${p('now')}`,
    nextAttemptAt: null,
  };
  const notExcluded = sql`${messages.id} not in (select value from json_each(${p('exclude')}))`;

  const claimExpired = db
    .update(messages)
    .set(claimSet)
    .where(
      inArray(
        messages.id,
        db
          .select({ id: messages.id })
          .from(messages)
          .where(
            and(
              eq(messages.status, 'PROCESSING'),
              lte(messages.leaseExpiresAt, p('now')),
              notExcluded,
            ),
          )
          .orderBy(asc(messages.leaseExpiresAt))
          .limit(p('limit')),
      ),
    )
    .returning()
    .prepare();

  const claimQueued = db
    .update(messages)
    .set(claimSet)
    .where(
      inArray(
        messages.id,
        db
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.status, 'QUEUED'), lte(messages.nextAttemptAt, p('now'))))
          .orderBy(asc(messages.nextAttemptAt), asc(messages.id))
          .limit(p('limit')),
      ),
    )
    .returning()
    .prepare();

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

  const nextQueued = db
    .select({ at: min(messages.nextAttemptAt) })
    .from(messages)
    .where(eq(messages.status, 'QUEUED'))
    .prepare();
  const nextLeaseEnd = db
    .select({ at: min(messages.leaseExpiresAt) })
    .from(messages)
    .where(eq(messages.status, 'PROCESSING'))
    .prepare();

  function appendEvent(
    counters: CounterBatch,
    message: { id: number; recipient: string; createdAt: number; attempts: number },
    change: EventChange,
  ): MessageEvent {
    const row = insertEvent.get({ messageId: message.id, ...change });
    const event = toEvent(row!, message.recipient);
    counters.countEvent(event, { createdAtMs: message.createdAt, attempts: message.attempts });
    return event;
  }

  /** Runs `work` in one BEGIN IMMEDIATE transaction together with the counters it bumps. */
  function write<T>(work: (counters: CounterBatch) => T): T {
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

  function enqueueOne(counters: CounterBatch, input: NewMessage, nowMs: number): EnqueueResult {
    if (input.idempotencyKey !== null) {
      const existing = findByIdempotencyKey.get({ key: input.idempotencyKey });
      if (existing) {
        const message = toMessage(existing);
        return existing.requestHash === input.requestHash
          ? { kind: 'repeat', message }
          : { kind: 'conflict', message };
      }
    }
    const row = insertMessage.get({
      ...input,
      recipientKey: input.recipient.toLowerCase(),
      now: nowMs,
    })!;
    const event = appendEvent(counters, row, {
      atMs: nowMs,
      status: 'QUEUED',
      previousStatus: null,
      reason: 'queued',
      attempt: null,
      error: null,
      smtpConfigVersion: input.smtpConfigVersion,
    });
    return { kind: 'queued', message: toMessage(row), event };
  }

  function claimInTx(counters: CounterBatch, request: ClaimRequest): ClaimedMessage[] {
    const { nowMs, leaseMs, limit, smtpConfigVersion } = request;
    const leaseExpiresAt = nowMs + leaseMs;
    const params = {
      now: nowMs,
      leaseExpiresAt,
      exclude: JSON.stringify(request.excludeIds ?? []),
    };
    const expired = claimExpired.all({ ...params, limit });
    const due =
      expired.length < limit ? claimQueued.all({ ...params, limit: limit - expired.length }) : [];
    // RETURNING comes in no particular order; keep the queue's, oldest first.
    due.sort((a, b) => a.id - b.id);
    return [
      ...expired.map((row) => ({ row, previous: 'PROCESSING' as const })),
      ...due.map((row) => ({ row, previous: 'QUEUED' as const })),
    ].map(({ row, previous }) => ({
      message: toMessage(row),
      event: appendEvent(counters, row, {
        atMs: nowMs,
        status: 'PROCESSING',
        previousStatus: previous,
        reason: previous === 'PROCESSING' ? 'lease_expired' : 'claimed',
        attempt: row.attempts + 1,
        error: null,
        smtpConfigVersion,
      }),
    }));
  }

  function recordInTx(counters: CounterBatch, records: readonly AttemptRecord[]): MessageEvent[] {
    const events: MessageEvent[] = [];
    for (const record of records) {
      const updatedAt = record.atMs + record.durationMs;
      const updated = finishAttempt.get({
        id: record.messageId,
        leaseExpiresAt: record.leaseExpiresAtMs,
        status: record.next.status,
        updatedAt,
        nextAttemptAt: record.next.status === 'QUEUED' ? record.next.nextAttemptAtMs : null,
        lastError: record.error === null ? null : JSON.stringify(record.error),
        smtpConfigVersion: record.smtpConfigVersion,
        failed: record.error === null ? 0 : 1,
      });
      if (!updated) continue; // re-claimed after our lease ran out: that claim owns it now
      insertDispatch.run({
        messageId: record.messageId,
        attempt: record.attempt,
        succeeded: record.error === null,
        at: record.atMs,
        durationMs: record.durationMs,
        response: record.response,
        error: record.error,
        errorCode: record.error?.code ?? null,
        smtpConfigVersion: record.smtpConfigVersion,
        transcript: record.transcript,
      });
      events.push(
        appendEvent(counters, updated, {
          atMs: updatedAt,
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
    if (filter.everFailed !== undefined) {
      conditions.push(eq(messages.everFailed, filter.everFailed));
    }
    if (filter.errorCodes && filter.errorCodes.length > 0) {
      conditions.push(
        exists(
          db
            .select({ one: sql`1` })
            .from(dispatches)
            .where(
              and(
                inArray(dispatches.errorCode, [...filter.errorCodes]),
                eq(dispatches.messageId, messages.id),
              ),
            ),
        ),
      );
    }
    if (filter.smtpConfigVersion !== undefined) {
      conditions.push(
        exists(
          db
            .select({ one: sql`1` })
            .from(dispatches)
            .where(
              and(
                eq(dispatches.smtpConfigVersion, filter.smtpConfigVersion),
                eq(dispatches.messageId, messages.id),
              ),
            ),
        ),
      );
    }
    if (filter.lastErrorCodes && filter.lastErrorCodes.length > 0) {
      conditions.push(
        inArray(sql`json_extract(${messages.lastError}, '$.code')`, [...filter.lastErrorCodes]),
      );
    }
    if (filter.updatedAfterMs !== undefined) {
      conditions.push(gte(messages.updatedAt, filter.updatedAfterMs));
    }
    return conditions;
  }

  function whereOf(filter: MessageListFilter): SQL | undefined {
    const conditions = filterConditions(filter);
    return conditions.length > 0 ? and(...conditions) : undefined;
  }

  function retryOne(
    counters: CounterBatch,
    id: number,
    maxAttempts: number,
    nowMs: number,
    smtpConfigVersion: number | null,
  ): TransitionResult {
    const row = findById.get({ id });
    if (!row) return { kind: 'not_found' };
    if (row.status !== 'ABANDONED' && row.status !== 'CANCELLED') {
      return { kind: 'conflict', message: toMessage(row) };
    }
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
  ): TransitionResult {
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
    find(id: number): Message | null {
      const row = findById.get({ id });
      return row ? toMessage(row) : null;
    },

    /**
     * Stores QUEUED messages and their first events in one transaction, or finds the earlier
     * message with the same idempotency key (also within the batch).
     */
    enqueueMany(inputs: readonly NewMessage[], nowMs: number): EnqueueResult[] {
      return write((counters) => inputs.map((input) => enqueueOne(counters, input, nowMs)));
    },

    /** Newest first; `afterId` is the id of the last message of the previous page. */
    list(filter: MessageListFilter, first: number, afterId: number | null): MessagePage {
      const where = whereOf(filter);
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

    /** Ids of messages matching `filter` with ids above `afterId`, oldest first. */
    idsMatching(filter: MessageListFilter, limit: number, afterId = 0): number[] {
      return db
        .select({ id: messages.id })
        .from(messages)
        .where(and(whereOf(filter), sql`${messages.id} > ${afterId}`))
        .orderBy(asc(messages.id))
        .limit(limit)
        .all()
        .map((row) => row.id);
    },

    /**
     * Claims up to `limit` due messages in one BEGIN IMMEDIATE transaction: PROCESSING ones whose
     * lease ran out (their worker died mid-send) first, then QUEUED ones whose time has come.
     * `excludeIds` are the caller's own sends, which must not be claimed twice.
     */
    claimDue(request: ClaimRequest): ClaimedMessage[] {
      if (request.limit <= 0) return [];
      return write((counters) => claimInTx(counters, request));
    },

    /** Writes a batch of finished attempts in one transaction; returns the events it appended. */
    recordAttempts(records: readonly AttemptRecord[]): MessageEvent[] {
      if (records.length === 0) return [];
      return write((counters) => recordInTx(counters, records));
    },

    /**
     * recordAttempts then claimDue in a single transaction: the worker's steady state, where
     * every finished batch frees room for the next one. One commit instead of two.
     */
    recordAndClaim(
      records: readonly AttemptRecord[],
      request: ClaimRequest,
    ): { events: MessageEvent[]; claimed: ClaimedMessage[] } {
      if (records.length === 0 && request.limit <= 0) return { events: [], claimed: [] };
      return write((counters) => ({
        events: recordInTx(counters, records),
        claimed: request.limit > 0 ? claimInTx(counters, request) : [],
      }));
    },

    /** PROCESSING -> QUEUED (due now) for claims that were not sent, e.g. on shutdown. */
    release(
      claims: readonly { messageId: number; leaseExpiresAtMs: number }[],
      nowMs: number,
      smtpConfigVersion: number | null,
    ): MessageEvent[] {
      if (claims.length === 0) return [];
      return write((counters) =>
        claims.flatMap((claim) => {
          const row = release.get({
            id: claim.messageId,
            leaseExpiresAt: claim.leaseExpiresAtMs,
            now: nowMs,
          });
          if (!row) return [];
          return [
            appendEvent(counters, row, {
              atMs: nowMs,
              status: 'QUEUED',
              previousStatus: 'PROCESSING',
              reason: 'released_on_shutdown',
              attempt: null,
              error: null,
              smtpConfigVersion,
            }),
          ];
        }),
      );
    },

    /** ABANDONED or CANCELLED -> QUEUED, with a fresh budget of `maxAttempts` attempts. */
    retry(
      id: number,
      maxAttempts: number,
      nowMs: number,
      smtpConfigVersion: number | null,
    ): TransitionResult {
      return write((counters) => retryOne(counters, id, maxAttempts, nowMs, smtpConfigVersion));
    },

    /** QUEUED -> CANCELLED. */
    cancel(id: number, nowMs: number, smtpConfigVersion: number | null): TransitionResult {
      return write((counters) => cancelOne(counters, id, nowMs, smtpConfigVersion));
    },

    /** `retry` for many messages in one transaction; returns the messages changed. */
    retryMany(
      ids: readonly number[],
      maxAttempts: number,
      nowMs: number,
      smtpConfigVersion: number | null,
    ): { message: Message; event: MessageEvent }[] {
      return write((counters) =>
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
      return write((counters) =>
        ids.flatMap((id) => {
          const result = cancelOne(counters, id, nowMs, smtpConfigVersion);
          return result.kind === 'changed' ? [result] : [];
        }),
      );
    },

    /** How many messages match `filter`. */
    countMatching(filter: MessageListFilter): number {
      return db.select({ n: count() }).from(messages).where(whereOf(filter)).get()?.n ?? 0;
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

    /** The earliest time something becomes claimable, or null when nothing is waiting. */
    nextDueAtMs(): number | null {
      const queued = nextQueued.get();
      const leased = nextLeaseEnd.get();
      const times = [queued?.at, leased?.at].filter((at): at is number => typeof at === 'number');
      return times.length > 0 ? Math.min(...times) : null;
    },

    /** Current queue depth and the creation time of the oldest QUEUED message. */
    queueSnapshot(): { queued: number; processing: number; oldestQueuedAtMs: number | null } {
      const queued = db
        .select({ n: count(), oldest: min(messages.createdAt) })
        .from(messages)
        .where(eq(messages.status, 'QUEUED'))
        .get();
      const processing = db
        .select({ n: count() })
        .from(messages)
        .where(eq(messages.status, 'PROCESSING'))
        .get();
      return {
        queued: queued?.n ?? 0,
        processing: processing?.n ?? 0,
        oldestQueuedAtMs: queued?.oldest ?? null,
      };
    },
  };
}

export type MessageRepository = ReturnType<typeof createMessageRepository>;
