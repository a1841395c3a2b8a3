import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startService } from '../helpers/service.ts';
import { closeWith } from '../helpers/scope.ts';
import { createTestDatabase } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// Several instances on one PostgreSQL database share the outbox: every event is delivered once
// (SKIP LOCKED claims with leases), whichever instance wrote it.

const ENV = { API_TOKEN: 'admin-token', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };

describe('outgoing webhooks with several instances (postgres)', () => {
  test('three instances deliver every event exactly once', async (t) => {
    const database = await createTestDatabase('postgres');
    closeWith(t, () => database.remove());
    const env = { ...ENV, ...database.env };
    const instances = [
      await startService(t, env),
      await startService(t, env),
      await startService(t, env),
    ];
    const receiver = await startWebhookReceiver(t);
    const created = await instances[0]!.gql(
      `mutation ($input: CreateWebhookEndpointInput!) {
        createWebhookEndpoint(input: $input) { secret } }`,
      { input: { url: receiver.url, events: ['MESSAGE_QUEUED', 'MESSAGE_SENT'] } },
    );
    receiver.secret = created.data.createWebhookEndpoint.secret;
    const perInstance = 60;
    await Promise.all(
      instances.map((svc, n) =>
        svc.gql(`mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`, {
          inputs: Array.from({ length: perInstance }, (_, i) => ({
            to: `i${n}-${i}@example.com`,
            subject: 's',
            text: 't',
          })),
        }),
      ),
    );
    const expected = instances.length * perInstance * 2;
    await waitFor(() => receiver.received.length >= expected, {
      timeoutMs: 30_000,
      description: `${expected} webhooks`,
    });
    const ids = receiver.received.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
    assert.ok(receiver.received.every((r) => r.verified));
  });
});
