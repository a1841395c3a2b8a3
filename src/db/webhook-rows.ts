import type {
  ClaimedWebhook,
  DisabledReason,
  StoredWebhookEndpoint,
  WebhookDelivery,
  WebhookEventType,
} from '../domain/webhook.ts';

// Webhook rows -> domain types for both dialects: their SQL selects the same aliases; SQLite
// answers booleans as 0/1 and the event list as JSON text, PostgreSQL as booleans and arrays.

export const ENDPOINT_COLUMNS = `id, url, events, enabled, description, secret,
  previous_secret AS "previousSecret", previous_secret_until AS "previousSecretUntilMs",
  created_at AS "createdAtMs", failing_since AS "failingSinceMs",
  disabled_reason AS "disabledReason"`;

export const DELIVERY_COLUMNS = `a.id, a.outbox_id AS "outboxId", a.endpoint_id AS "endpointId",
  o.webhook_id AS "webhookId", o.event_type AS "eventType", a.attempt, a.at AS "atMs",
  a.status_code AS "statusCode", a.duration_ms AS "durationMs", a.error,
  a.response_body AS "responseBody", a.succeeded, a.next_attempt_at AS "nextAttemptAtMs"`;

export const CLAIM_COLUMNS = `id AS "outboxId", endpoint_id AS "endpointId",
  webhook_id AS "webhookId", event_type AS "eventType", payload, attempts,
  lease_expires_at AS "leaseExpiresAtMs"`;

export interface EndpointRow extends Omit<StoredWebhookEndpoint, 'events' | 'enabled'> {
  events: string | string[];
  enabled: boolean | number;
}

export function toEndpoint(row: EndpointRow): StoredWebhookEndpoint {
  return {
    ...row,
    events: (typeof row.events === 'string'
      ? JSON.parse(row.events)
      : row.events) as WebhookEventType[],
    enabled: Boolean(row.enabled),
    disabledReason: row.disabledReason as DisabledReason | null,
  };
}

export function toDelivery(
  row: Omit<WebhookDelivery, 'succeeded'> & { succeeded: boolean | number },
): WebhookDelivery {
  return { ...row, succeeded: Boolean(row.succeeded) };
}

export function toClaimed(row: ClaimedWebhook): ClaimedWebhook {
  return row;
}
