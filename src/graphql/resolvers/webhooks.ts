import {
  NOTICE_EVENT_TYPES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../../domain/webhook.ts';
import type { WebhookEventType as ApiWebhookEventType } from '../generated/types.ts';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.ts';
import type {
  CreatedWebhookEndpointResolvers,
  MutationResolvers,
  QueryResolvers,
  WebhookDeliveryResolvers,
  WebhookEndpointResolvers,
} from '../generated/types.ts';
import { isoTime, isoTimeOrNull, parseMessageId } from '../scalars.ts';
import { urlForReader } from '../../webhooks/url-for-reader.ts';

const DESCRIPTION_MAX = 500;
const DEFAULT_DELIVERIES = 20;
const MAX_DELIVERIES = 100;

function idOf(id: string, what: string): number {
  const rowId = parseMessageId(id);
  if (rowId === null) throw new NotFoundError(what, id);
  return rowId;
}

const SUBSCRIBABLE = new Set<string>(WEBHOOK_EVENT_TYPES);

function validEvents(events: readonly ApiWebhookEventType[], field: string): WebhookEventType[] {
  if (events.length === 0) {
    throw new BadUserInputError([{ field, problem: 'must name at least one event type' }]);
  }
  const notices = events.filter((type) => !SUBSCRIBABLE.has(type));
  if (notices.length > 0) {
    throw new BadUserInputError([
      {
        field,
        problem: `${[...new Set(notices)].join(', ')} cannot be subscribed to: they are sent without a subscription`,
      },
    ]);
  }
  return [...new Set(events as WebhookEventType[])];
}

export const WebhookQuery: Pick<QueryResolvers, 'webhookEndpoints'> = {
  webhookEndpoints: (_parent, _args, { webhooks }) => webhooks.list(),
};

export const WebhookMutation: Pick<
  MutationResolvers,
  | 'createWebhookEndpoint'
  | 'updateWebhookEndpoint'
  | 'deleteWebhookEndpoint'
  | 'rotateWebhookSecret'
  | 'redeliverWebhook'
  | 'sendTestWebhook'
> = {
  async createWebhookEndpoint(_parent, { input }, { webhooks }) {
    const url = input.url.trim();
    const events = validEvents(input.events, 'input.events');
    const description = input.description?.trim() || null;
    if (description !== null && description.length > DESCRIPTION_MAX) {
      throw new BadUserInputError([
        { field: 'input.description', problem: `must be at most ${DESCRIPTION_MAX} characters` },
      ]);
    }
    const problem = await webhooks.urlProblem(url);
    if (problem !== null) throw new BadUserInputError([{ field: 'input.url', problem }]);
    return webhooks.create({ url, events, description });
  },

  async updateWebhookEndpoint(_parent, { id, enabled, events, url }, { webhooks }) {
    const rowId = idOf(id, 'webhook endpoint');
    const change: { enabled?: boolean; events?: WebhookEventType[]; url?: string } = {};
    if (enabled != null) change.enabled = enabled;
    if (events != null) change.events = validEvents(events, 'events');
    if (url != null) {
      change.url = url.trim();
      const problem = await webhooks.urlProblem(change.url);
      if (problem !== null) throw new BadUserInputError([{ field: 'url', problem }]);
    }
    const endpoint = await webhooks.update(rowId, change);
    if (endpoint === null) throw new NotFoundError('webhook endpoint', id);
    return endpoint;
  },

  async deleteWebhookEndpoint(_parent, { id }, { webhooks }) {
    const rowId = parseMessageId(id);
    return rowId === null ? false : webhooks.remove(rowId);
  },

  async rotateWebhookSecret(_parent, { id }, { webhooks }) {
    const rotated = await webhooks.rotate(idOf(id, 'webhook endpoint'));
    if (rotated === null) throw new NotFoundError('webhook endpoint', id);
    return rotated;
  },

  async redeliverWebhook(_parent, { deliveryId }, { webhooks }) {
    const delivery = await webhooks.redeliver(idOf(deliveryId, 'webhook delivery'));
    if (delivery === null) throw new NotFoundError('webhook delivery', deliveryId);
    if (delivery === 'busy') {
      throw new ConflictError('that event is being sent right now; try again in a moment');
    }
    return delivery;
  },

  async sendTestWebhook(_parent, { id }, { webhooks }) {
    const delivery = await webhooks.sendTest(idOf(id, 'webhook endpoint'));
    if (delivery === null) throw new NotFoundError('webhook endpoint', id);
    return delivery;
  },
};

export const WebhookEndpoint: WebhookEndpointResolvers = {
  id: (endpoint) => String(endpoint.id),
  url: (endpoint, _args, { principal }) =>
    principal.scope === 'admin' ? endpoint.url : urlForReader(endpoint.url),
  createdAt: (endpoint) => isoTime(endpoint.createdAtMs),
  deliveries(endpoint, { first }, { webhooks }) {
    const size = first ?? DEFAULT_DELIVERIES;
    if (!Number.isInteger(size) || size < 0 || size > MAX_DELIVERIES) {
      throw new BadUserInputError([
        { field: 'first', problem: `must be between 0 and ${MAX_DELIVERIES}` },
      ]);
    }
    return webhooks.deliveries(endpoint.id, size);
  },
};

export const CreatedWebhookEndpoint: CreatedWebhookEndpointResolvers = {};

export const WebhookDelivery: WebhookDeliveryResolvers = {
  id: (delivery) => String(delivery.id),
  // The contract's enum names the message events; the two notices are additions to it.
  eventType: (delivery) =>
    SUBSCRIBABLE.has(delivery.eventType)
      ? (delivery.eventType as WebhookEventType)
      : NOTICE_EVENT_TYPES[delivery.eventType as keyof typeof NOTICE_EVENT_TYPES],
  at: (delivery) => isoTime(delivery.atMs),
  nextAttemptAt: (delivery) => isoTimeOrNull(delivery.nextAttemptAtMs),
  // What the receiving app answered often repeats the URL it was called at ("Cannot POST
  // /hooks/T01/secret?key=…"): the part a reader's view of the URL leaves out. An ADMIN's only.
  responseBody: (delivery, _args, { principal }) =>
    principal.scope === 'admin' ? delivery.responseBody : null,
};
