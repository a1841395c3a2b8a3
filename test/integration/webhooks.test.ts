import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { graphqlRequest, startService, type TestService } from '../helpers/service.ts';
import type { Scope } from '../helpers/scope.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Outgoing webhooks end to end in one process: a real service, real receivers on 127.0.0.1
// verifying every request with the `standardwebhooks` package (CONTRACT.md "Outgoing webhooks").

const ADMIN = 'admin-token-for-webhook-tests';
/** Loopback receivers need this; the retry schedule is scaled down to 50 ms, 3 s, 18 s, … */
const ENV = { API_TOKEN: ADMIN, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_BASE_MS: '50' };

const CREATE = `mutation ($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url events enabled } } }`;
const DELIVERIES = `{ webhookEndpoints { id enabled deliveries(first: 50) {
  id webhookId eventType attempt at statusCode durationMs error responseBody succeeded nextAttemptAt } } }`;
const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

async function createEndpoint(
  svc: TestService,
  receiver: WebhookReceiver,
  events: string[] = ['MESSAGE_QUEUED', 'MESSAGE_SENT'],
): Promise<string> {
  const created = await svc.gql(CREATE, { input: { url: receiver.url, events } });
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  receiver.secret = created.data.createWebhookEndpoint.secret;
  return created.data.createWebhookEndpoint.endpoint.id;
}

async function send(svc: TestService, to = 'someone@example.com'): Promise<string> {
  const sent = await svc.gql(SEND, {
    input: {
      to,
      subject: 'Your receipt',
      text: 'TEXT-BODY-SECRET',
      html: '<p>HTML-BODY-SECRET</p>',
      headers: [{ name: 'X-Campaign', value: 'HEADER-VALUE-SECRET' }],
    },
  });
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  return sent.data.sendEmail.id;
}

async function deliveriesOf(svc: TestService, endpointId: string): Promise<any[]> {
  const listed = await svc.gql(DELIVERIES);
  assert.equal(listed.errors, undefined, JSON.stringify(listed.errors));
  return listed.data.webhookEndpoints.find((e: any) => e.id === endpointId).deliveries;
}

async function start(scope: Scope, env: Record<string, string> = {}) {
  return startService(scope, { ...ENV, ...env });
}

describe(`outgoing webhooks (${TEST_DIALECT})`, () => {
  test('queued and sent arrive signed, with the message and nothing of its body', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    const endpointId = await createEndpoint(svc, receiver);
    assert.match(receiver.secret!, /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
    const messageId = await send(svc);
    await waitFor(() => receiver.received.length >= 2, { description: 'two webhooks' });
    const types = receiver.received.map((r) => r.payload.type).sort();
    assert.deepEqual(types, ['message.queued', 'message.sent']);
    for (const request of receiver.received) {
      assert.ok(request.verified, 'standardwebhooks verifies the request');
      assert.match(request.id, /^msg_/);
      const message = request.payload.data.message;
      assert.deepEqual(Object.keys(message).sort(), [
        'attempts',
        'createdAt',
        'id',
        'messageId',
        'outcome',
        'recipient',
        'status',
        'subject',
        'updatedAt',
      ]);
      assert.equal(message.id, messageId);
      assert.equal(message.recipient, 'someone@example.com');
      assert.equal(message.subject, 'Your receipt');
      assert.ok(!Number.isNaN(Date.parse(request.payload.timestamp)));
      for (const secret of ['TEXT-BODY-SECRET', 'HTML-BODY-SECRET', 'HEADER-VALUE-SECRET', ADMIN]) {
        assert.ok(!request.body.includes(secret), `the body leaks ${secret}`);
      }
      assert.ok(!request.body.includes(receiver.secret!.slice(6)));
    }
    const sent = receiver.received.find((r) => r.payload.type === 'message.sent')!;
    assert.equal(sent.payload.data.message.status, 'SENT');
    assert.equal(sent.payload.data.message.attempts, 1);
    const queued = receiver.received.find((r) => r.payload.type === 'message.queued')!;
    assert.equal(queued.payload.data.message.status, 'QUEUED');
    const log = await waitFor(async () => {
      const deliveries = await deliveriesOf(svc, endpointId);
      return deliveries.length >= 2 ? deliveries : null;
    });
    assert.ok(log.every((d: any) => d.succeeded && d.statusCode === 200 && d.attempt === 1));
    assert.deepEqual(log.map((d: any) => d.eventType).sort(), ['MESSAGE_QUEUED', 'MESSAGE_SENT']);
    // The list never shows the secret.
    const listed = JSON.stringify((await svc.gql(DELIVERIES)).data);
    assert.ok(!listed.includes(receiver.secret!.slice(6)));
  });

  test('events not subscribed to are not sent', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    const endpointId = await createEndpoint(svc, receiver, ['MESSAGE_SENT']);
    await send(svc);
    await waitFor(() => receiver.received.length >= 1);
    const test = await svc.gql(`mutation ($id: ID!) { sendTestWebhook(id: $id) { succeeded } }`, {
      id: endpointId,
    });
    assert.equal(test.data.sendTestWebhook.succeeded, true);
    // The test went out after the sent event; nothing else came between.
    assert.deepEqual(
      receiver.received.map((r) => r.payload.type),
      ['message.sent', 'webhook.test'],
    );
  });

  test('a 500 is retried with the same webhook-id until it succeeds', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    let failures = 0;
    receiver.answer = () => (failures++ < 1 ? { status: 500, body: 'oops' } : { status: 204 });
    const endpointId = await createEndpoint(svc, receiver, ['MESSAGE_QUEUED']);
    await send(svc);
    await waitFor(() => receiver.received.length >= 2, { description: 'a retry' });
    const [first, second] = receiver.received;
    assert.equal(first!.id, second!.id);
    assert.ok(first!.verified && second!.verified);
    const log = await waitFor(async () => {
      const deliveries = await deliveriesOf(svc, endpointId);
      return deliveries.length >= 2 ? deliveries : null;
    });
    const [retry, failed] = log;
    assert.equal(failed.statusCode, 500);
    assert.equal(failed.responseBody, 'oops');
    assert.equal(failed.succeeded, false);
    assert.ok(failed.nextAttemptAt !== null);
    assert.equal(retry.attempt, 2);
    assert.equal(retry.succeeded, true);
    assert.equal(retry.webhookId, failed.webhookId);
  });

  test('Retry-After sets the next attempt; the body kept is at most 4 KB', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    let answered = 0;
    receiver.answer = () =>
      answered++ === 0
        ? { status: 503, headers: { 'retry-after': '2' }, body: 'x'.repeat(10_000) }
        : { status: 200 };
    const endpointId = await createEndpoint(svc, receiver, ['MESSAGE_QUEUED']);
    await send(svc);
    const [failed] = await waitFor(async () => {
      const deliveries = await deliveriesOf(svc, endpointId);
      return deliveries.length >= 1 ? deliveries : null;
    });
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.responseBody.length, 4_096);
    assert.ok(Date.parse(failed.nextAttemptAt) - Date.parse(failed.at) >= 2_000);
    await waitFor(() => receiver.received.length >= 2, { description: 'the retry' });
  });

  test('a refused connection is recorded and retried', async (t) => {
    const svc = await start(t);
    // A port nothing listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const created = await svc.gql(CREATE, {
      input: { url: `http://127.0.0.1:${port}/`, events: ['MESSAGE_QUEUED'] },
    });
    const endpointId = created.data.createWebhookEndpoint.endpoint.id;
    await send(svc);
    const log = await waitFor(async () => {
      const deliveries = await deliveriesOf(svc, endpointId);
      return deliveries.length >= 2 ? deliveries : null;
    });
    assert.ok(log.every((d: any) => d.statusCode === null && /ECONNREFUSED/.test(d.error)));
    assert.equal(log[0].webhookId, log[1].webhookId);
  });

  test('410 disables the endpoint, and the others hear endpoint.disabled', async (t) => {
    const svc = await start(t);
    const gone = await startWebhookReceiver(t);
    gone.answer = () => ({ status: 410 });
    const other = await startWebhookReceiver(t);
    // Its URL carries the receiving app's own credential, which the other apps must not get.
    gone.url = `${gone.url}?api_key=tenant-b-credential`;
    const goneId = await createEndpoint(svc, gone, ['MESSAGE_QUEUED']);
    await createEndpoint(svc, other, ['MESSAGE_BOUNCED']);
    await send(svc);
    const notice = await waitFor(() =>
      other.received.find((r) => r.payload.type === 'endpoint.disabled'),
    );
    assert.ok(notice.verified);
    assert.equal(notice.payload.data.endpoint.id, goneId);
    assert.equal(notice.payload.data.endpoint.url, `http://127.0.0.1:${gone.port}/***`);
    assert.ok(!JSON.stringify(other.received).includes('tenant-b-credential'));
    assert.equal(notice.payload.data.reason, 'gone');
    const notified = await waitFor(async () => {
      const endpoints = (await svc.gql(DELIVERIES)).data.webhookEndpoints;
      const at = endpoints.find((e: any) => e.id !== goneId);
      return at.deliveries.find((d: any) => d.succeeded);
    });
    assert.equal(notified.eventType, 'ENDPOINT_DISABLED');
    const listed = await svc.gql(DELIVERIES);
    const endpoint = listed.data.webhookEndpoints.find((e: any) => e.id === goneId);
    assert.equal(endpoint.enabled, false);
    assert.equal(endpoint.deliveries.length, 1);
    assert.equal(endpoint.deliveries[0].nextAttemptAt, null);
    // Disabled: later events are not sent to it.
    await send(svc);
    await waitFor(async () =>
      (
        await svc.gql(`{ messages(first: 5) { edges { node { status } } } }`)
      ).data.messages.edges.every((e: any) => e.node.status === 'SENT'),
    );
    assert.equal(gone.received.length, 1);
  });

  test('after a rotation both the old and the new secret verify, for 24 hours', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    const endpointId = await createEndpoint(svc, receiver, ['MESSAGE_QUEUED']);
    const oldSecret = receiver.secret!;
    const rotated = await svc.gql(
      `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }`,
      { id: endpointId },
    );
    const newSecret = rotated.data.rotateWebhookSecret.secret;
    assert.notEqual(newSecret, oldSecret);
    receiver.secret = newSecret;
    await send(svc);
    const [request] = await waitFor(() =>
      receiver.received.length >= 1 ? receiver.received : null,
    );
    assert.equal(request!.signature.split(' ').length, 2);
    assert.ok(request!.verified);
    const headers = {
      'webhook-id': request!.id,
      'webhook-timestamp': request!.timestamp,
      'webhook-signature': request!.signature,
    };
    assert.doesNotThrow(() => new Webhook(oldSecret).verify(request!.body, headers));
    assert.doesNotThrow(() => new Webhook(newSecret).verify(request!.body, headers));
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(request!.body, headers),
    );
  });

  test('redeliver sends the same event again with the same webhook-id; test events', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    const endpointId = await createEndpoint(svc, receiver, ['MESSAGE_QUEUED']);
    await send(svc);
    const [delivery] = await waitFor(async () => {
      const deliveries = await deliveriesOf(svc, endpointId);
      return deliveries.length >= 1 ? deliveries : null;
    });
    const again = await svc.gql(
      `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { webhookId attempt succeeded } }`,
      { id: delivery.id },
    );
    assert.equal(again.errors, undefined, JSON.stringify(again.errors));
    assert.equal(again.data.redeliverWebhook.webhookId, delivery.webhookId);
    assert.equal(again.data.redeliverWebhook.attempt, 2);
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1]!.id, receiver.received[0]!.id);
    assert.equal(receiver.received[1]!.body, receiver.received[0]!.body);
    const test = await svc.gql(
      `mutation ($id: ID!) { sendTestWebhook(id: $id) { succeeded statusCode eventType } }`,
      { id: endpointId },
    );
    assert.deepEqual(test.data.sendTestWebhook, {
      succeeded: true,
      statusCode: 200,
      eventType: 'WEBHOOK_TEST',
    });
    // The notices are sent without a subscription, and cannot be subscribed to.
    const subscribed = await svc.gql(
      `mutation ($id: ID!) { updateWebhookEndpoint(id: $id, events: [WEBHOOK_TEST]) { id } }`,
      { id: endpointId },
    );
    assert.equal(subscribed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(
      subscribed.errors[0].message + JSON.stringify(subscribed.errors[0].extensions),
      /WEBHOOK_TEST cannot be subscribed to/,
    );
    const last = receiver.received.at(-1)!;
    assert.equal(last.payload.type, 'webhook.test');
    assert.ok(last.verified);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /mailscope_webhook_deliveries_total\{result="succeeded"\} [3-9]/);
  });

  test('private addresses are refused unless WEBHOOK_ALLOW_PRIVATE_URLS=true', async (t) => {
    const svc = await start(t, { WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    for (const url of [
      'http://127.0.0.1:9/',
      'http://localhost/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.1.2.3/',
      'http://169.254.169.254/latest/meta-data',
      'http://192.168.0.1/',
      'ftp://example.com/',
      'not a url',
    ]) {
      const created = await svc.gql(CREATE, { input: { url, events: ['MESSAGE_SENT'] } });
      assert.equal(created.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', url);
      assert.equal(created.errors?.[0]?.extensions?.field, 'input.url', url);
    }
    assert.deepEqual((await svc.gql(`{ webhookEndpoints { id } }`)).data.webhookEndpoints, []);
  });

  test('a URL with a line break, a tab or a space is refused: the one called would differ', async (t) => {
    const svc = await start(t);
    for (const url of [
      'http://127.0.0.1:9/x\nfoo',
      'http://127.0.0.1:9/x\tfoo',
      'http://127.0.0.1:9/x foo',
    ]) {
      const created = await svc.gql(CREATE, { input: { url, events: ['MESSAGE_SENT'] } });
      assert.equal(created.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(url));
      assert.match(created.errors![0]!.message, /control characters/);
    }
    assert.deepEqual((await svc.gql(`{ webhookEndpoints { id } }`)).data.webhookEndpoints, []);
  });

  test('a READ token lists endpoints without what follows the host, and cannot manage them', async (t) => {
    const svc = await start(t);
    const receiver = await startWebhookReceiver(t);
    const endpointId = await createEndpoint(svc, receiver);
    const made = await svc.gql(
      `mutation { createApiToken(name: "reader", scope: READ) { token } }`,
    );
    const read = made.data.createApiToken.token;
    const ask = (query: string, variables = {}) =>
      graphqlRequest(`${svc.url}/graphql`, query, variables, read);
    // The contract's "who may call what": READ may run every query but apiTokens and verifySmtp.
    // The receiver's path could be the receiving app's secret, so a reader sees the host only.
    const listed = await ask(`{ webhookEndpoints { id url deliveries(first: 5) { id } } }`);
    assert.equal(listed.errors, undefined);
    const origin = new URL(receiver.url).origin;
    assert.ok(receiver.url.length > `${origin}/`.length, 'the receiver URL has a path to hide');
    assert.deepEqual(
      listed.data.webhookEndpoints.map((e: any) => [e.id, e.url]),
      [[endpointId, `${origin}/***`]],
    );
    const asAdmin = await svc.gql(`{ webhookEndpoints { url } }`);
    assert.equal(asAdmin.data.webhookEndpoints[0].url, receiver.url);
    // What the app answered may repeat its URL's path: an ADMIN sees it, a reader does not.
    receiver.answer = () => ({
      status: 404,
      body: `Cannot POST ${new URL(receiver.url).pathname}`,
    });
    await svc.gql(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: endpointId });
    const bodies = `{ webhookEndpoints { deliveries(first: 5) { responseBody } } }`;
    const answered = await waitFor(async () => {
      const deliveries = (await svc.gql(bodies)).data.webhookEndpoints[0].deliveries;
      return deliveries.find((d: any) => d.responseBody !== null);
    });
    assert.match(answered.responseBody, /^Cannot POST \//);
    const seen = (await ask(bodies)).data.webhookEndpoints[0].deliveries;
    assert.ok(seen.length > 0 && seen.every((d: any) => d.responseBody === null));
    for (const [query, variables] of [
      [CREATE, { input: { url: receiver.url, events: ['MESSAGE_SENT'] } }],
      [`mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpointId }],
      [`mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: endpointId }],
      [`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: endpointId }],
    ] as const) {
      const answer = await ask(query, variables);
      assert.equal(answer.errors?.[0]?.extensions?.code, 'FORBIDDEN', query);
    }
  });
});
