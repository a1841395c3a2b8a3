import type { DeliveryError } from '../domain/delivery-error.ts';
import type {
  Dispatch,
  EventReason,
  Header,
  Message,
  MessageEvent,
  MessageStatus,
} from '../domain/message.ts';
import type { DeliveryOutcome, ReportDetail } from '../domain/report.ts';

// Row -> domain mapping, shared by both dialects: their drizzle schemas give columns the same
// names and JS types, so a column rename touches one place.

export interface MessageRow {
  id: number;
  recipient: string;
  subject: string;
  text: string | null;
  html: string | null;
  headers: Header[];
  status: MessageStatus;
  attempts: number;
  maxAttempts: number;
  attemptsAtRetry: number;
  messageId: string;
  idempotencyKey: string | null;
  /** Hash of the sendEmail input, to tell a repeat of the same request from a conflicting one. */
  requestHash: string | null;
  createdAt: number;
  updatedAt: number;
  nextAttemptAt: number | null;
  leaseExpiresAt: number | null;
  lastError: DeliveryError | null;
  smtpConfigVersion: number | null;
  /** The stored submission it sends (SMTP submission); null when composed from its fields. */
  submissionId: number | null;
  /** Read only by claims (the submission's bytes, to send); reads leave them out. */
  rawMime?: Buffer | null;
  submittedBy: string | null;
  outcome: DeliveryOutcome | null;
}

export interface DispatchRow {
  messageId: number;
  attempt: number;
  succeeded: boolean;
  at: number;
  durationMs: number;
  response: string | null;
  error: DeliveryError | null;
  smtpConfigVersion: number | null;
  transcript: string | null;
}

export interface EventRow {
  seq: number;
  messageId: number;
  at: number;
  status: MessageStatus;
  previousStatus: MessageStatus | null;
  reason: EventReason;
  attempt: number | null;
  error: DeliveryError | null;
  smtpConfigVersion: number | null;
  outcome: DeliveryOutcome | null;
  report: ReportDetail | null;
}

export function toMessage(row: MessageRow): Message {
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
    rawMime: row.rawMime ?? null,
    submittedOverSmtp: row.submissionId !== null,
    submittedBy: row.submittedBy,
    outcome: row.outcome,
  };
}

export function toDispatch(row: DispatchRow): Dispatch {
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

/** `xid` is the writing transaction on PostgreSQL, 0 on SQLite (event-position.ts). */
export function toEvent(row: EventRow, recipient: string, xid = 0): MessageEvent {
  return {
    seq: row.seq,
    xid,
    messageId: row.messageId,
    recipient,
    atMs: row.at,
    status: row.status,
    previousStatus: row.previousStatus,
    reason: row.reason,
    attempt: row.attempt,
    error: row.error,
    smtpConfigVersion: row.smtpConfigVersion,
    outcome: row.outcome,
    report: row.report,
  };
}
