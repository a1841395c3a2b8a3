import { randomBytes } from 'node:crypto';
import type { ChangeSignals, WebhookStore } from '../db/port.ts';
import {
  WEBHOOK_TEST_TYPE,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../domain/webhook.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { WebhookDispatcher } from './dispatcher.ts';
import { newWebhookSecret, sealSecret } from './secret.ts';
import { webhookUrlProblem } from './url-guard.ts';

/** How long the secret before a rotation still signs (CONTRACT.md). */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface WebhookEndpointsDeps {
  store: WebhookStore;
  secrets: SecretBox | null;
  dispatcher: Pick<WebhookDispatcher, 'sendNow'>;
  /** Told of every change to which endpoints are enabled (every instance's dispatcher hears). */
  signals: Pick<ChangeSignals, 'announce'>;
  allowPrivateUrls: boolean;
  now?: () => number;
}

/** An endpoint as the API shows it: never its secrets. */
function shown(endpoint: WebhookEndpoint): WebhookEndpoint {
  const { id, url, events, enabled, description, createdAtMs, failingSinceMs, disabledReason } =
    endpoint;
  return { id, url, events, enabled, description, createdAtMs, failingSinceMs, disabledReason };
}

/** What the API does with endpoints; input is validated by the caller (urlProblem). */
export function createWebhookEndpoints(deps: WebhookEndpointsDeps) {
  const now = deps.now ?? Date.now;
  const changed = () => deps.signals.announce({ kind: 'webhook-endpoints' });
  return {
    /** Why `url` may not be an endpoint; null when it may. */
    urlProblem: (url: string) => webhookUrlProblem(url, deps.allowPrivateUrls),

    async list(): Promise<WebhookEndpoint[]> {
      return (await deps.store.listEndpoints()).map(shown);
    },

    async create(input: {
      url: string;
      events: readonly WebhookEventType[];
      description: string | null;
    }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const secret = newWebhookSecret();
      const endpoint = await deps.store.createEndpoint({
        ...input,
        secret: sealSecret(secret, deps.secrets),
        nowMs: now(),
      });
      changed();
      return { endpoint: shown(endpoint), secret };
    },

    async update(
      id: number,
      change: { enabled?: boolean; events?: readonly WebhookEventType[]; url?: string },
    ): Promise<WebhookEndpoint | null> {
      const endpoint = await deps.store.updateEndpoint(id, change);
      if (endpoint !== null && change.enabled !== undefined) changed();
      return endpoint && shown(endpoint);
    },

    async remove(id: number): Promise<boolean> {
      const deleted = await deps.store.deleteEndpoint(id);
      if (deleted) changed();
      return deleted;
    },

    async rotate(id: number): Promise<{ endpoint: WebhookEndpoint; secret: string } | null> {
      const secret = newWebhookSecret();
      const endpoint = await deps.store.rotateSecret(
        id,
        sealSecret(secret, deps.secrets),
        now() + ROTATION_OVERLAP_MS,
      );
      return endpoint && { endpoint: shown(endpoint), secret };
    },

    deliveries: (endpointId: number, first: number) => deps.store.listDeliveries(endpointId, first),

    /** Sends a delivery's event again now, same webhook-id and body; null: unknown or busy. */
    async redeliver(deliveryId: number): Promise<WebhookDelivery | null | 'busy'> {
      const delivery = await deps.store.findDelivery(deliveryId);
      if (delivery === null) return null;
      return (await deps.dispatcher.sendNow(delivery.outboxId)) ?? 'busy';
    },

    /** Sends a `webhook.test` event to the endpoint now, enabled or not. */
    async sendTest(endpointId: number): Promise<WebhookDelivery | null> {
      const endpoint = await deps.store.findEndpoint(endpointId);
      if (endpoint === null) return null;
      const atMs = now();
      const payload = JSON.stringify({
        type: WEBHOOK_TEST_TYPE,
        timestamp: new Date(atMs).toISOString(),
        data: { endpoint: { id: String(endpoint.id), url: endpoint.url } },
      });
      const [outboxId] = await deps.store.enqueue(
        [
          {
            endpointId,
            webhookId: `msg_${randomBytes(12).toString('hex')}`,
            eventType: WEBHOOK_TEST_TYPE,
            payload,
          },
        ],
        atMs,
        false,
      );
      return deps.dispatcher.sendNow(outboxId!);
    },
  };
}

export type WebhookEndpoints = ReturnType<typeof createWebhookEndpoints>;
