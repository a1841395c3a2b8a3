import type { Dispatch, Message, MessageEvent } from '../domain/message.ts';
import type { dispatches, messageEvents, messages } from './schema.ts';

// Row -> domain mapping, shared by the repositories so a column rename touches one place.

export function toMessage(row: typeof messages.$inferSelect): Message {
  return {
    id: row.id,
    recipient: row.recipient,
    subject: row.subject,
    text: row.text,
    html: row.html,
    headers: row.headers,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    attemptsAtRetry: row.attemptsAtRetry,
    messageId: row.messageId,
    idempotencyKey: row.idempotencyKey,
    createdAtMs: row.createdAt,
    updatedAtMs: row.updatedAt,
    nextAttemptAtMs: row.nextAttemptAt,
    leaseExpiresAtMs: row.leaseExpiresAt,
    lastError: row.lastError,
    smtpConfigVersion: row.smtpConfigVersion,
  };
}

export function toDispatch(row: typeof dispatches.$inferSelect): Dispatch {
  return {
    messageId: row.messageId,
    attempt: row.attempt,
    succeeded: row.succeeded,
    atMs: row.at,
    durationMs: row.durationMs,
    response: row.response,
    error: row.error,
    smtpConfigVersion: row.smtpConfigVersion,
    transcript: row.transcript,
  };
}

export function toEvent(row: typeof messageEvents.$inferSelect, recipient: string): MessageEvent {
  return {
    seq: row.seq,
    messageId: row.messageId,
    recipient,
    atMs: row.at,
    status: row.status,
    previousStatus: row.previousStatus,
    reason: row.reason,
    attempt: row.attempt,
    error: row.error,
    smtpConfigVersion: row.smtpConfigVersion,
  };
}
