import type { DeliveryError } from './delivery-error.ts';
import type { DeliveryOutcome, ReportDetail } from './report.ts';

export const MESSAGE_STATUSES = [
  'QUEUED',
  'PROCESSING',
  'SENT',
  'ABANDONED',
  'CANCELLED',
  'SUPPRESSED',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** How many messages are in each status: every status present. */
export type StatusCounts = Record<MessageStatus, number>;

export function zeroStatusCounts(): StatusCounts {
  return Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

export interface Header {
  name: string;
  value: string;
}

export interface Message {
  id: number;
  recipient: string;
  subject: string;
  text: string | null;
  html: string | null;
  headers: Header[];
  status: MessageStatus;
  attempts: number;
  /** Attempts allowed before abandoning, counted from `attemptsAtRetry`. */
  maxAttempts: number;
  /** Value of `attempts` when the current budget was granted (0, or at the last retryMessage). */
  attemptsAtRetry: number;
  messageId: string;
  idempotencyKey: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  nextAttemptAtMs: number | null;
  leaseExpiresAtMs: number | null;
  lastError: DeliveryError | null;
  smtpConfigVersion: number | null;
  /**
   * The MIME message as submitted over SMTP (its Bcc header removed), sent as it is. Loaded only
   * where the message is claimed to be sent; null in reads, and for messages queued through the
   * API, which are composed at each attempt.
   */
  rawMime: Uint8Array | null;
  /** Submitted over SMTP (its raw MIME is stored), whether or not this copy carries the bytes. */
  submittedOverSmtp: boolean;
  /** The name of the API token that queued it (SMTP AUTH or the API); null without one. */
  submittedBy: string | null;
  /** What reports said after SENT, by precedence (report.ts); null while none arrived. */
  outcome: DeliveryOutcome | null;
}

export interface Dispatch {
  messageId: number;
  attempt: number;
  succeeded: boolean;
  atMs: number;
  durationMs: number;
  response: string | null;
  error: DeliveryError | null;
  smtpConfigVersion: number | null;
  /** The SMTP conversation, secrets and body replaced; null when not kept. */
  transcript: string | null;
}

/** Why a status changed; stored with each event. */
export const EVENT_REASONS = [
  'queued',
  'claimed',
  'lease_expired',
  'sent',
  'retry_scheduled',
  'failed_permanently',
  'attempts_exhausted',
  'released_on_shutdown',
  'cancelled',
  'retried',
  /** Stored or stopped because the recipient is on the suppression list. */
  'suppressed',
  /** A delivery report (the status stays; `outcome` says what was reported), by source. */
  'report_dsn',
  'report_arf',
  'report_sendgrid',
  'report_mailgun',
  'report_postmark',
  'report_ses',
] as const;
export type EventReason = (typeof EVENT_REASONS)[number];

export interface MessageEvent {
  /** The log's sequence number; with `xid`, the event's place in the log (event-position.ts). */
  seq: number;
  /** The writing transaction on PostgreSQL; always 0 on SQLite. */
  xid: number;
  messageId: number;
  /** Copied from the message so subscriptions can filter live events without a lookup. */
  recipient: string;
  atMs: number;
  status: MessageStatus;
  previousStatus: MessageStatus | null;
  reason: EventReason;
  attempt: number | null;
  error: DeliveryError | null;
  smtpConfigVersion: number | null;
  /** Set on events that record a delivery report. */
  outcome: DeliveryOutcome | null;
  /** The report's details, on events that record one. */
  report: ReportDetail | null;
}
