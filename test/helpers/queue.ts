import type { AttemptRecord, ClaimedMessage, MessageStore, NewMessage } from '../../src/db/port.ts';
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
 * storage-contract's retryRecord, take its transaction).
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
