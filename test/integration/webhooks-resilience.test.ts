import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startService, type TestService } from '../helpers/service.ts';
import { closeWith } from '../helpers/scope.ts';
import { createTestDatabase, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Outgoing webhooks when things go wrong: a restart in the middle of retries, an endpoint that
// never answers beside one that does (CONTRACT.md "Outgoing webhooks").

const ADMIN = 'admin-token-for-webhook-tests';
const ENV = { API_TOKEN: ADMIN, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_BASE_MS: '50' };

async function createEndpoint(svc: TestService, receiver: WebhookReceiver, events: string[]) {
  const created = await svc.gql(
    `mutation ($input: CreateWebhookEndpointInput!) {
      createWebhookEndpoint(input: $input) { secret endpoint { id } } }`,
    { input: { url: receiver.url, events } },
  );
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  receiver.secret = created.data.createWebhookEndpoint.secret;
  return created.data.createWebhookEndpoint.endpoint.id as string;
}

async function sendMany(svc: TestService, count: number): Promise<void> {
  const sent = await svc.gql(
    `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
    {
      inputs: Array.from({ length: count }, (_, i) => ({
        to: `r${i}@example.com`,
        subject: `s${i}`,
        text: 't',
      })),
    },
  );
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
}

describe(`outgoing webhooks under failure (${TEST_DIALECT})`, () => {
  test('a restart in the middle of retries loses nothing and keeps the webhook-ids', async (t) => {
    const database = await createTestDatabase();
    closeWith(t, () => database.remove());
    const env = { ...ENV, ...database.env };
    const receiver = await startWebhookReceiver(t);
    receiver.answer = () => ({ status: 500 });
    const first = await startService(t, env);
    await createEndpoint(first, receiver, ['MESSAGE_QUEUED', 'MESSAGE_SENT']);
    await sendMany(first, 5);
    // Every one of the ten events has failed at least once.
    await waitFor(() => new Set(receiver.received.map((r) => r.id)).size >= 10, {
      description: 'ten events tried',
    });
    await first.close();
    const idsBefore = new Set(receiver.received.map((r) => r.id));
    const restartedAt = receiver.received.length;
    receiver.answer = () => ({ status: 200 });
    await startService(t, env);
    // The schedule's next retries are seconds away at this base: they come from the new
    // instance, from what the first one stored.
    const after = await waitFor(
      () => {
        const answered = receiver.received.slice(restartedAt);
        const ids = new Set(answered.map((r) => r.id));
        return [...idsBefore].every((id) => ids.has(id)) ? answered : null;
      },
      { timeoutMs: 30_000, description: 'every event delivered after the restart' },
    );
    assert.ok(after.every((r) => r.verified));
    assert.deepEqual(new Set(receiver.received.map((r) => r.id)), idsBefore, 'no new ids');
  });

  test('an endpoint that never answers holds back neither another endpoint nor mail', async (t) => {
    const svc = await startService(t, ENV);
    const slow = await startWebhookReceiver(t);
    slow.answer = () => null;
    const fast = await startWebhookReceiver(t);
    const slowId = await createEndpoint(svc, slow, ['MESSAGE_QUEUED', 'MESSAGE_SENT']);
    await createEndpoint(svc, fast, ['MESSAGE_QUEUED', 'MESSAGE_SENT']);
    await sendMany(svc, 40);
    // 40 queued and 40 sent reach the fast endpoint while the slow one holds its requests.
    await waitFor(() => fast.received.length >= 80, { description: 'the fast endpoint served' });
    assert.ok(fast.received.every((r) => r.verified));
    const statuses = await svc.gql(`{ messages(first: 100) { edges { node { status } } } }`);
    assert.ok(statuses.data.messages.edges.every((e: any) => e.node.status === 'SENT'));
    assert.ok(slow.received.length <= 16, 'at most the per-endpoint concurrency is in flight');
    // The 15 s time-out ends the slow ones as failures, to be retried.
    const timedOut = await waitFor(
      async () => {
        const listed = await svc.gql(
          `{ webhookEndpoints { id deliveries(first: 5) { error succeeded nextAttemptAt } } }`,
        );
        const endpoint = listed.data.webhookEndpoints.find((e: any) => e.id === slowId);
        return endpoint.deliveries.length > 0 ? endpoint.deliveries[0] : null;
      },
      { timeoutMs: 30_000, description: 'the time-out recorded' },
    );
    assert.equal(timedOut.succeeded, false);
    assert.match(timedOut.error, /no answer within 15000 ms/);
    assert.notEqual(timedOut.nextAttemptAt, null);
  });
});
