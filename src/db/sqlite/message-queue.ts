import type { Message, MessageEvent } from '../../domain/message.ts';
import type {
  AttemptRecord,
  ClaimedMessage,
  ClaimRequest,
  EnqueueAllResult,
  EnqueueResult,
  NewMessage,
} from '../port.ts';
import type { Db } from './client.ts';
import type { MessageWriter } from './message-events-writer.ts';
import { prepareQueueStatements } from './message-queue-statements.ts';
import { toMessage } from '../rows.ts';
import { recipientKey } from '../message-filter.ts';
import type { CounterBatch } from '../counters.ts';

/** Thrown inside enqueueAll's transaction so that a conflict rolls back the whole batch. */
class IdempotencyConflict extends Error {
  constructor(
    readonly index: number,
    readonly existing: Message,
  ) {
    super('idempotency conflict');
  }
}

/** The worker's hot path: enqueue, claim with a lease, record attempts, release. */
export function createMessageQueue(
  db: Db,
  { appendEvent, isSuppressed, inCountedTransaction }: MessageWriter,
) {
  const statements = prepareQueueStatements(db);
  const { findByIdempotencyKey, insertMessage, claimExpired, claimQueued } = statements;
  const { insertSubmission, submissionRaw } = statements;
  const { finishAttempt, insertDispatch, release, renew, suppress } = statements;

  function renewInTx(request: ClaimRequest): { messageId: number; leaseExpiresAtMs: number }[] {
    const newLease = request.nowMs + request.leaseMs;
    return (request.renew ?? []).flatMap((claim) => {
      const row = renew.get({
        id: claim.messageId,
        leaseExpiresAt: claim.leaseExpiresAtMs,
        newLease,
      });
      return row ? [{ messageId: row.id, leaseExpiresAtMs: row.leaseExpiresAt! }] : [];
    });
  }

  /**
   * The stored submission of `raw`, inserted on first use within one transaction: the
   * recipients of one submission carry the same Buffer, and share one row.
   */
  type SubmissionIds = Map<Buffer, number>;
  function submissionIdOf(stored: SubmissionIds, raw: Buffer | null | undefined): number | null {
    if (raw == null) return null;
    let id = stored.get(raw);
    if (id === undefined) {
      id = insertSubmission.run({ raw }).lastInsertRowid;
      stored.set(raw, id);
    }
    return id;
  }

  function enqueueOne(
    counters: CounterBatch,
    submissionIds: SubmissionIds,
    input: NewMessage,
    nowMs: number,
  ): EnqueueResult {
    if (input.idempotencyKey !== null) {
      const existing = findByIdempotencyKey.get({ key: input.idempotencyKey });
      if (existing) {
        const message = toMessage(existing);
        return existing.requestHash === input.requestHash
          ? { kind: 'repeat', message }
          : { kind: 'conflict', message };
      }
    }
    const key = recipientKey(input.recipient);
    // The list as it is in this transaction (see NewMessage.suppressed).
    const suppressed = input.suppressed === true || Boolean(isSuppressed.get({ key }));
    const row = insertMessage.get({
      ...input,
      submissionId: submissionIdOf(submissionIds, input.rawMime),
      submittedBy: input.submittedBy ?? null,
      recipientKey: key,
      status: suppressed ? 'SUPPRESSED' : 'QUEUED',
      now: nowMs,
      nextAttemptAt: suppressed ? null : nowMs,
    })!;
    const event = appendEvent(counters, row, {
      atMs: nowMs,
      status: row.status,
      previousStatus: null,
      reason: suppressed ? 'suppressed' : 'queued',
      attempt: null,
      error: null,
      smtpConfigVersion: input.smtpConfigVersion,
    });
    return { kind: 'queued', message: toMessage(row), event };
  }

  /** Claims; the events of messages stopped by the suppression list go to `suppressedEvents`. */
  function claimInTx(
    counters: CounterBatch,
    request: ClaimRequest,
    suppressedEvents: MessageEvent[],
  ): ClaimedMessage[] {
    const { nowMs, leaseMs, limit, smtpConfigVersion } = request;
    const leaseExpiresAt = nowMs + leaseMs;
    const params = {
      now: nowMs,
      horizon: nowMs + (request.horizonMs ?? Number.MAX_SAFE_INTEGER / 2),
      leaseExpiresAt,
      exclude: JSON.stringify(request.excludeIds ?? []),
    };
    // Each list's statements in order, the next only while the turn has room.
    const claimFrom = (steps: typeof claimQueued, room: number) => {
      const rows: ReturnType<(typeof steps)[number]['take']['all']> = [];
      for (const step of steps) {
        if (rows.length >= room) break;
        const stepParams = { ...params, limit: room - rows.length };
        if (step.any.get(stepParams) === undefined) continue;
        rows.push(...step.take.all(stepParams));
      }
      return rows;
    };
    const expired = claimFrom(claimExpired, limit);
    const due = claimFrom(claimQueued, limit - expired.length);
    // RETURNING comes in no particular order; keep the queue's, oldest first.
    due.sort((a, b) => a.id - b.id);
    const claimed: ClaimedMessage[] = [];
    // The recipients of one submission are often claimed together: their bytes are read once.
    const rawOf = new Map<number, Buffer>();
    const withRaw = (row: (typeof due)[number]) => {
      if (row.submissionId === null) return row;
      let raw = rawOf.get(row.submissionId);
      if (raw === undefined) {
        raw = submissionRaw.get({ id: row.submissionId })!.raw;
        rawOf.set(row.submissionId, raw);
      }
      return { ...row, rawMime: raw };
    };
    for (const { row, previous } of [
      ...expired.map((row) => ({ row, previous: 'PROCESSING' as const })),
      ...due.map((row) => ({ row, previous: 'QUEUED' as const })),
    ]) {
      // The suppression list is checked again just before sending: an address listed since the
      // message was queued stops it here, in the claim's transaction (no PROCESSING in between).
      if (isSuppressed.get({ key: row.recipientKey })) {
        const stopped = suppress.get({ id: row.id, now: nowMs })!;
        suppressedEvents.push(
          appendEvent(counters, stopped, {
            atMs: nowMs,
            status: 'SUPPRESSED',
            previousStatus: previous,
            reason: 'suppressed',
            attempt: null,
            error: null,
            smtpConfigVersion,
          }),
        );
        continue;
      }
      claimed.push({
        message: toMessage(withRaw(row)),
        event: appendEvent(counters, row, {
          atMs: nowMs,
          status: 'PROCESSING',
          previousStatus: previous,
          reason: previous === 'PROCESSING' ? 'lease_expired' : 'claimed',
          attempt: row.attempts + 1,
          error: null,
          smtpConfigVersion,
        }),
      });
    }
    return claimed;
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

  return {
    /**
     * Stores QUEUED messages and their first events in one transaction, or finds the earlier
     * message with the same idempotency key (also within the batch).
     */
    enqueueMany(inputs: readonly NewMessage[], nowMs: number): EnqueueResult[] {
      return inCountedTransaction((counters) => {
        const submissionIds: SubmissionIds = new Map();
        return inputs.map((input) => enqueueOne(counters, submissionIds, input, nowMs));
      });
    },

    /**
     * enqueueMany for a caller that wants all or nothing: one input that reuses an idempotency
     * key with different input rolls back the whole transaction.
     */
    enqueueAll(inputs: readonly NewMessage[], nowMs: number): EnqueueAllResult {
      try {
        const results = inCountedTransaction((counters) => {
          const submissionIds: SubmissionIds = new Map();
          return inputs.map((input, index) => {
            const result = enqueueOne(counters, submissionIds, input, nowMs);
            if (result.kind === 'conflict') throw new IdempotencyConflict(index, result.message);
            return result;
          });
        });
        return { ok: true, results };
      } catch (error) {
        if (!(error instanceof IdempotencyConflict)) throw error;
        return { ok: false, conflictIndex: error.index, message: error.existing };
      }
    },

    /**
     * Claims up to `limit` due messages in one BEGIN IMMEDIATE transaction: PROCESSING ones whose
     * lease ran out (their worker died mid-send) first, then QUEUED ones whose time has come.
     * `excludeIds` are the caller's own sends, which must not be claimed twice.
     */
    claimDue(request: ClaimRequest): ClaimedMessage[] {
      if (request.limit <= 0) return [];
      return inCountedTransaction((counters) => claimInTx(counters, request, []));
    },

    /** Writes a batch of finished attempts in one transaction; returns the events it appended. */
    recordAttempts(records: readonly AttemptRecord[]): MessageEvent[] {
      if (records.length === 0) return [];
      return inCountedTransaction((counters) => recordInTx(counters, records));
    },

    /**
     * recordAttempts then claimDue in a single transaction: the worker's steady state, where
     * every finished batch frees room for the next one. One commit instead of two.
     */
    recordAndClaim(
      records: readonly AttemptRecord[],
      request: ClaimRequest,
    ): {
      events: MessageEvent[];
      claimed: ClaimedMessage[];
      renewed: { messageId: number; leaseExpiresAtMs: number }[];
    } {
      if (records.length === 0 && request.limit <= 0 && !request.renew?.length) {
        return { events: [], claimed: [], renewed: [] };
      }
      return inCountedTransaction((counters) => {
        const events = recordInTx(counters, records);
        const renewed = renewInTx(request);
        const claimed = request.limit > 0 ? claimInTx(counters, request, events) : [];
        return { events, renewed, claimed };
      });
    },

    /** PROCESSING -> QUEUED (due now) for claims that were not sent, e.g. on shutdown. */
    release(
      claims: readonly { messageId: number; leaseExpiresAtMs: number }[],
      nowMs: number,
      smtpConfigVersion: number | null,
    ): MessageEvent[] {
      if (claims.length === 0) return [];
      return inCountedTransaction((counters) =>
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
  };
}

export type MessageQueue = ReturnType<typeof createMessageQueue>;
