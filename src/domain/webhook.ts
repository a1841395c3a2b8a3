// Outgoing webhooks (CONTRACT.md "Outgoing webhooks"): endpoints, the events they subscribe to,
// and what each delivery attempt got back.

export const WEBHOOK_EVENT_TYPES = [
  'MESSAGE_QUEUED',
  'MESSAGE_SENT',
  'MESSAGE_DEFERRED',
  'MESSAGE_ABANDONED',
  'MESSAGE_CANCELLED',
  'MESSAGE_DELIVERED',
  'MESSAGE_BOUNCED',
  'MESSAGE_COMPLAINED',
  'MESSAGE_SUPPRESSED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Types sent besides the message events; not subscribable. */
export const WEBHOOK_TEST_TYPE = 'webhook.test';
export const ENDPOINT_DISABLED_TYPE = 'endpoint.disabled';

/** How the API names those two (WebhookDelivery.eventType). */
export const NOTICE_EVENT_TYPES = {
  [WEBHOOK_TEST_TYPE]: 'WEBHOOK_TEST',
  [ENDPOINT_DISABLED_TYPE]: 'ENDPOINT_DISABLED',
} as const;

/** `MESSAGE_SENT` -> `message.sent`, the body's `type`. */
export function wireType(type: string): string {
  return type.includes('.') ? type : type.toLowerCase().replace('_', '.');
}

/** Why the service disabled an endpoint: it answered 410, or failed for 3 days. */
export type DisabledReason = 'gone' | 'failing';

export interface WebhookEndpoint {
  id: number;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  description: string | null;
  createdAtMs: number;
  failingSinceMs: number | null;
  disabledReason: DisabledReason | null;
}

/** An endpoint with its secrets as stored (encrypted with SECRETS_KEY when set). */
export interface StoredWebhookEndpoint extends WebhookEndpoint {
  secret: string;
  previousSecret: string | null;
  previousSecretUntilMs: number | null;
}

/** One attempt to deliver one event to one endpoint. */
export interface WebhookDelivery {
  id: number;
  outboxId: number;
  endpointId: number;
  webhookId: string;
  /** A WebhookEventType, or `webhook.test` / `endpoint.disabled`. */
  eventType: string;
  attempt: number;
  atMs: number;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  responseBody: string | null;
  succeeded: boolean;
  nextAttemptAtMs: number | null;
}

/** An outbox row claimed for sending, with a lease. */
export interface ClaimedWebhook {
  outboxId: number;
  endpointId: number;
  webhookId: string;
  eventType: string;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
  leaseExpiresAtMs: number;
}

/** An endpoint just created or rotated, with its secret in clear (shown once). */
export interface CreatedWebhookEndpoint {
  endpoint: WebhookEndpoint;
  secret: string;
}
