import type { AttemptRecord, ClaimedMessage, MessageStore, NewMessage } from '../../src/db/port.ts';
import type { DeliveryError } from '../../src/domain/delivery-error.ts';
import type { Message, MessageEvent } from '../../src/domain/message.ts';

// The queue's steps as tests drive them through the storage port, without a worker.

export function newMessage(n: number, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    recipient: `r${n}@example.com`,
    subject: 's',
    text: 't',
    html: null,
    headers: [],
    messageId: `<m${n}@example.com>`,
    maxAttempts: 3,
    idempotencyKey: null,
    requestHash: null,
    smtpConfigVersion: null,
    ...overrides,
  };
}

/** Stores messages; returns them in order (repeats of an idempotency key included). */
export async function enqueue(
  messages: MessageStore,
  inputs: readonly NewMessage[],
  nowMs: number,
): Promise<Message[]> {
  const results = await messages.enqueueMany(inputs, nowMs);
  return results.map((result) => result.message);
}

/** Claims up to `limit` due messages, recording nothing. */
export async function claim(
  messages: MessageStore,
  nowMs: number,
  limit: number,
  options: { leaseMs?: number; excludeIds?: number[]; horizonMs?: number } = {},
): Promise<ClaimedMessage[]> {
  const { claimed } = await messages.recordAndClaim([], {
    nowMs,
    leaseMs: options.leaseMs ?? 60_000,
    limit,
    smtpConfigVersion: null,
    ...(options.excludeIds ? { excludeIds: options.excludeIds } : {}),
    ...(options.horizonMs !== undefined ? { horizonMs: options.horizonMs } : {}),
  });
  return claimed;
}

/** Records attempts, claiming nothing; returns the events appended. */
export async function record(
  messages: MessageStore,
  records: readonly AttemptRecord[],
): Promise<MessageEvent[]> {
  const { events } = await messages.recordAndClaim(records, {
    nowMs: Date.now(),
    leaseMs: 60_000,
    limit: 0,
    smtpConfigVersion: null,
  });
  return events;
}

/**
 * A successful first attempt of a claimed message at `atMs`, carrying what the claim read as the
 * worker's records do (so PostgreSQL records it in one statement; records without it, as
 * retryRecord's, take its transaction).
 */
export function sentRecord(message: Message, atMs: number, durationMs = 5): AttemptRecord {
  return {
    messageId: message.id,
    leaseExpiresAtMs: message.leaseExpiresAtMs!,
    attempt: message.attempts + 1,
    atMs,
    durationMs,
    smtpConfigVersion: null,
    response: '250 ok',
    error: null,
    transcript: null,
    claimed: { createdAtMs: message.createdAtMs, recipient: message.recipient },
    next: { status: 'SENT', reason: 'sent' },
  };
}

/** A delivery error of `code`, as an SMTP server's 451 (or a permanent one) would give. */
export function failure(code: DeliveryError['code'], permanent = false): DeliveryError {
  return {
    code,
    message: code,
    responseCode: 451,
    enhancedStatus: '4.0.0',
    command: 'RCPT TO',
    response: '451 try later',
    permanent,
    hint: null,
  };
}

/**
 * A failed attempt of a claimed message at `atMs` (3 ms long) that schedules a retry `delayMs`
 * after it ended.
 */
export function retryRecord(
  message: { id: number; leaseExpiresAtMs: number | null; attempts: number },
  atMs: number,
  delayMs: number,
  error = failure('CONNECTION'),
): AttemptRecord {
  return {
    messageId: message.id,
    leaseExpiresAtMs: message.leaseExpiresAtMs!,
    attempt: message.attempts + 1,
    atMs,
    durationMs: 3,
    smtpConfigVersion: null,
    response: null,
    error,
    transcript: 'S: 451 try later',
    next: {
      status: 'QUEUED',
      reason: 'retry_scheduled',
      delayMs,
      nextAttemptAtMs: atMs + 3 + delayMs,
    },
  };
}
