// The shapes the dashboard selects from schema.graphql (only what it reads).

// The status and error-code lists and the error shape come from the service's domain modules
// (pure, no Node imports), so the dashboard can't drift from what the API returns.
export { MESSAGE_STATUSES, type MessageStatus } from '../../../src/domain/message.ts';
export {
  DELIVERY_OUTCOMES,
  type BounceType,
  type DeliveryOutcome,
  type ReportSource,
  type SuppressionReason,
} from '../../../src/domain/report.ts';
export {
  DELIVERY_ERROR_CODES as ERROR_CODES,
  type DeliveryErrorCode as ErrorCode,
  type DeliveryError,
} from '../../../src/domain/delivery-error.ts';
import type { MessageStatus } from '../../../src/domain/message.ts';
import type {
  BounceType,
  DeliveryOutcome,
  ReportSource,
  SuppressionReason,
} from '../../../src/domain/report.ts';
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
  /** What delivery reports said after SENT; null while none arrived. */
  outcome: DeliveryOutcome | null;
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
  /** Set on events that record a delivery report. */
  outcome: DeliveryOutcome | null;
}

/** One delivery report received after SENT. */
export interface DeliveryReport {
  at: string;
  outcome: DeliveryOutcome;
  source: ReportSource;
  bounceType: BounceType | null;
  enhancedStatus: string | null;
  diagnostic: string | null;
  remoteMta: string | null;
  hint: string | null;
}

export interface MessageDetail extends MessageRow {
  messageId: string;
  idempotencyKey: string | null;
  /** Came in over SMTP submission and goes out as submitted. */
  submittedOverSmtp: boolean;
  /** The name of the API token that queued it; null without one. */
  submittedBy: string | null;
  headers: { name: string; value: string }[];
  lastError: DeliveryError | null;
  dispatches: Dispatch[];
  events: TimelineEvent[];
  reports: DeliveryReport[];
}

export interface MessageEvent {
  cursor: string;
  at: string;
  status: MessageStatus;
  reason: string;
  error: { code: ErrorCode } | null;
  outcome: DeliveryOutcome | null;
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
  delivered: number;
  deferred: number;
  bouncedHard: number;
  bouncedSoft: number;
  complained: number;
  /** (bouncedHard + bouncedSoft) / sent; null when nothing was sent. */
  bounceRate: number | null;
  complaintRate: number | null;
  suppressed: number;
  unmatchedReports: number;
}

export interface SmtpConfig {
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  embedded: boolean;
  version: number | null;
  source: 'STORED' | 'ENVIRONMENT' | 'EMBEDDED';
  createdAt: string | null;
  /** DKIM signing with the TXT record to publish; null when mail is not signed. */
  dkim: DkimInfo | null;
  /** The provider preset it was made with (configureSmtpProvider); null when made from a URI. */
  provider: string | null;
}

export interface DkimInfo {
  domain: string;
  selector: string;
  dnsRecordName: string;
  dnsRecordValue: string;
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

export interface Suppression {
  address: string;
  reason: SuppressionReason;
  createdAt: string;
  /** The message whose bounce or complaint added it; null for MANUAL. */
  message: { id: string; subject: string } | null;
  detail: string | null;
}

export interface SuppressionPage {
  edges: { cursor: string; node: Suppression }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface UnmatchedReport {
  at: string;
  source: ReportSource;
  outcome: DeliveryOutcome;
  recipient: string | null;
  detail: string | null;
}

// The sender-domain report's shape comes from the service too (plain types, no Node imports).
export type {
  SenderCheckItem as SenderDomainCheckItem,
  SenderCheckStatus,
  SenderDomainReport as SenderDomainCheck,
} from '../../../src/sender-domain/types.ts';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../../src/domain/webhook.ts';
import type { WebhookEventType } from '../../../src/domain/webhook.ts';

/** One attempt to deliver an event to an endpoint (the endpoint's log, newest first). */
export interface WebhookDelivery {
  id: string;
  /** The `webhook-id` header: the same on every retry and "send again". */
  webhookId: string;
  /** A message event, or one of the two notices sent without a subscription. */
  eventType: WebhookEventType | 'WEBHOOK_TEST' | 'ENDPOINT_DISABLED';
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  /** The first 4 KB of what the endpoint answered. */
  responseBody: string | null;
  succeeded: boolean;
  nextAttemptAt: string | null;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  description: string | null;
  createdAt: string;
  deliveries: WebhookDelivery[];
}
