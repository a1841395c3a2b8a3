// The shapes the dashboard selects from schema.graphql (only what it reads).

// The status and error-code lists and the error shape come from the service's domain modules
// (pure, no Node imports), so the dashboard can't drift from what the API returns.
export { MESSAGE_STATUSES, type MessageStatus } from '../../../src/domain/message.ts';
export {
  DELIVERY_ERROR_CODES as ERROR_CODES,
  type DeliveryErrorCode as ErrorCode,
  type DeliveryError,
} from '../../../src/domain/delivery-error.ts';
import type { MessageStatus } from '../../../src/domain/message.ts';
import type {
  DeliveryError,
  DeliveryErrorCode as ErrorCode,
} from '../../../src/domain/delivery-error.ts';

export interface MessageRow {
  id: string;
  recipient: string;
  subject: string;
  status: MessageStatus;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  lastError: { code: ErrorCode; responseCode: number | null; enhancedStatus: string | null } | null;
}

export interface Dispatch {
  attempt: number;
  succeeded: boolean;
  at: string;
  durationMs: number;
  response: string | null;
  transcript: string | null;
  smtpConfigVersion: number | null;
  error: DeliveryError | null;
}

export interface TimelineEvent {
  cursor: string;
  at: string;
  status: MessageStatus;
  previousStatus: MessageStatus | null;
  reason: string;
  attempt: number | null;
  error: DeliveryError | null;
}

export interface MessageDetail extends MessageRow {
  messageId: string;
  idempotencyKey: string | null;
  /** Came in over SMTP submission and goes out as submitted. */
  submittedOverSmtp: boolean;
  headers: { name: string; value: string }[];
  lastError: DeliveryError | null;
  dispatches: Dispatch[];
  events: TimelineEvent[];
}

export interface MessageEvent {
  cursor: string;
  at: string;
  status: MessageStatus;
  reason: string;
  error: { code: ErrorCode } | null;
  message: MessageRow;
}

export interface MessagePage {
  edges: { cursor: string; node: MessageRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface QueueStats {
  queued: number;
  sent: number;
  abandoned: number;
  failedAttempts: number;
  queueDepth: number;
  processing: number;
  oldestQueuedAgeMs: number | null;
}

export interface SmtpConfig {
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  embedded: boolean;
  version: number | null;
  source: 'STORED' | 'ENVIRONMENT' | 'EMBEDDED';
  createdAt: string | null;
}

export interface SmtpProvider {
  id: string;
  name: string;
  host: string | null;
  port: number;
  security: string;
  usernameRule: string;
  fixedUsername: string | null;
  /** The user name is a credential itself (Postmark's token): typed like a password. */
  usernameIsSecret: boolean;
  passwordRule: string;
  documentationNote: string;
}

export interface VerificationStep {
  name: string;
  ok: boolean;
  durationMs: number;
  detail: string;
  error: DeliveryError | null;
}

export interface SmtpVerification {
  ok: boolean;
  connectionUri: string;
  totalDurationMs: number;
  steps: VerificationStep[];
}

export type Scope = 'ADMIN' | 'READ';
