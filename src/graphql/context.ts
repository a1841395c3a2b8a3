import type { ExecutionResult } from 'graphql';
import type { ApiTokens } from '../auth/api-tokens.ts';
import type { Principal } from '../auth/principal.ts';
import type { SendRateLimiter } from '../auth/send-rate-limiter.ts';
import type {
  DispatchStore,
  EventLog,
  MessageStore,
  ReportStore,
  SuppressionStore,
} from '../db/port.ts';
import type { DeliveryStats } from '../delivery/delivery-stats.ts';
import type { EventBus } from '../delivery/event-bus.ts';
import type { Outbox } from '../delivery/outbox.ts';
import type { SmtpSettings } from '../delivery/smtp-settings.ts';
import type { SenderDomainChecker } from '../delivery/sender-domain-checker.ts';
import type { SmtpVerifier } from '../delivery/smtp-verifier.ts';
import type { EventMessages } from './event-messages.ts';
import type { Pacer } from './pacer.ts';
import type { WebhookEndpoints } from '../webhooks/endpoints.ts';
import type { ResponseBudget } from './response-budget.ts';

/** What resolvers may use. Everything but `principal` is shared by every request. */
export interface GraphQLContext {
  outbox: Outbox;
  settings: SmtpSettings;
  messages: MessageStore;
  events: EventLog;
  dispatches: DispatchStore;
  reports: ReportStore;
  suppressions: SuppressionStore;
  bus: EventBus;
  deliveryStats: DeliveryStats;
  verifier: SmtpVerifier;
  senderDomain: SenderDomainChecker;
  /** The message of an event, read once however many subscribers resolve it. */
  eventMessages: EventMessages;
  apiTokens: ApiTokens;
  sendRateLimiter: SendRateLimiter;
  /** Outgoing webhooks' endpoints (ADMIN only). */
  webhooks: WebhookEndpoints;
  /** Who is calling: per HTTP request, per graphql-ws connection. */
  principal: Principal;
  /**
   * Per operation: gives the event loop back during a long query (pacer.ts). Absent for
   * subscriptions, which run one small selection per event.
   */
  pacer?: Pacer;
  /** Per operation (and per event of a subscription): bytes of html, text and transcripts. */
  responseBudget: ResponseBudget;
  /** Where a graphql-ws subscription's results may be written directly (absent over HTTP). */
  results?: ResultChannel;
}

/** One subscription's way to its client, for results it sends itself. */
export interface ResultChannel {
  /** Writes one result to the client now, after every result written before it. */
  send(result: ExecutionResult): void;
  /** Bytes written but not yet taken by the client. */
  pendingBytes(): number;
}

/** The shared part of the context; the HTTP layer adds the rest per request or operation. */
export type GraphQLServices = Omit<
  GraphQLContext,
  'principal' | 'pacer' | 'responseBudget' | 'results'
>;

/** What each resolver may pace its work with; a step runs at once without a pacer. */
export function paced<T>(
  context: Pick<GraphQLContext, 'pacer'>,
  work: () => T | Promise<T>,
): T | Promise<T> {
  return context.pacer ? context.pacer.paced(work) : work();
}

/** What each request or operation adds to the shared services. */
export type OperationParts = Pick<GraphQLContext, 'principal' | 'responseBudget'> &
  Partial<Pick<GraphQLContext, 'pacer' | 'results'>>;

/**
 * The context of one request or operation. Written out field by field, not spread: V8 copies a
 * spread of this many properties slowly (about 5 µs, against a few nanoseconds for the literal),
 * once per sendEmail and once per subscription. A service added to GraphQLContext and not here
 * fails the type check.
 */
export function operationContext(services: GraphQLServices, parts: OperationParts): GraphQLContext {
  return {
    outbox: services.outbox,
    settings: services.settings,
    messages: services.messages,
    events: services.events,
    dispatches: services.dispatches,
    reports: services.reports,
    suppressions: services.suppressions,
    bus: services.bus,
    deliveryStats: services.deliveryStats,
    verifier: services.verifier,
    senderDomain: services.senderDomain,
    eventMessages: services.eventMessages,
    apiTokens: services.apiTokens,
    sendRateLimiter: services.sendRateLimiter,
    webhooks: services.webhooks,
    principal: parts.principal,
    pacer: parts.pacer,
    responseBudget: parts.responseBudget,
    results: parts.results,
  };
}
