// The shapes the dashboard selects from schema.graphql (only what it reads).

export const MESSAGE_STATUSES = ['QUEUED', 'PROCESSING', 'SENT', 'ABANDONED', 'CANCELLED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const ERROR_CODES = [
  'CONNECTION',
  'TIMEOUT',
  'TLS',
  'AUTH',
  'SENDER_REJECTED',
  'RECIPIENT_REJECTED',
  'MESSAGE_REJECTED',
  'PROTOCOL',
  'CONFIG',
  'UNKNOWN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DeliveryError {
  code: ErrorCode;
  message: string;
  responseCode: number | null;
  enhancedStatus: string | null;
  command: string | null;
  response: string | null;
  permanent: boolean;
  hint: string | null;
}

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
