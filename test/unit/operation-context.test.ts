import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  operationContext,
  type GraphQLServices,
  type OperationParts,
} from '../../src/graphql/context.ts';

// The context is written out field by field (a spread was slow): each service must land under
// its own name, and the operation's parts beside them. Every key of GraphQLServices is required
// here, so a service added later without a line in operationContext fails below.

test('an operation context carries every shared service under its own name, and its own parts', () => {
  const stand = (name: string) => ({ name });
  const services: Record<keyof GraphQLServices, { name: string }> = {
    outbox: stand('outbox'),
    settings: stand('settings'),
    messages: stand('messages'),
    events: stand('events'),
    dispatches: stand('dispatches'),
    reports: stand('reports'),
    suppressions: stand('suppressions'),
    bus: stand('bus'),
    deliveryStats: stand('deliveryStats'),
    verifier: stand('verifier'),
    senderDomain: stand('senderDomain'),
    eventMessages: stand('eventMessages'),
    apiTokens: stand('apiTokens'),
    sendRateLimiter: stand('sendRateLimiter'),
    webhooks: stand('webhooks'),
  };
  const parts = {
    principal: stand('principal'),
    responseBudget: stand('responseBudget'),
    pacer: stand('pacer'),
    results: stand('results'),
  } as unknown as OperationParts;
  const context = operationContext(services as unknown as GraphQLServices, parts);
  for (const [name, service] of Object.entries({ ...services, ...parts })) {
    assert.equal((context as unknown as Record<string, unknown>)[name], service, name);
  }
  assert.deepEqual(Object.keys(context).sort(), Object.keys({ ...services, ...parts }).sort());
});
