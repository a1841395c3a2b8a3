import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMailBacklog } from '../../src/delivery/mail-backlog.ts';
import { createLogger } from '../../src/logger.ts';
import { startWebhookDispatcher } from '../../src/webhooks/dispatcher.ts';
import { YIELDING_PACE } from '../../src/webhooks/yield-to-mail.ts';
import { closeWith } from '../helpers/scope.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { graphqlRequest, startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWebhookReceiver, type Answer } from '../helpers/webhook-receiver.ts';

// Webhooks yield to mail (webhooks/yield-to-mail.ts): while mail is backlogged the dispatcher
// runs at a floor, never at a stop, and it is back at full pace once the backlog is gone.

const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
/** The dispatcher's own full pace (its default). */
const FULL_CONCURRENCY = 16;

describe(`webhooks yield to mail (${TEST_DIALECT})`, () => {
  test('at the floor while mail is backlogged, every event still arrives; full pace after', async (t) => {
    const { storage } = await openTestStorage(t);
    const receiver = await startWebhookReceiver(t);
    receiver.secret = SECRET;
    // Every answer is held until the test lets it go, so what is in flight can be counted.
    const held: (() => void)[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    receiver.answer = () =>
      new Promise<Answer>((resolve) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        held.push(() => {
          inFlight--;
          resolve({ status: 204 });
        });
      });
    await storage.webhooks.createEndpoint({
      url: receiver.url,
      events: ['MESSAGE_QUEUED'],
      description: null,
      secret: SECRET,
      nowMs: Date.now(),
    });
    const mail = createMailBacklog();
    mail.set(true);
    const dispatcher = startWebhookDispatcher({
      store: storage.webhooks,
      signals: storage.signals,
      secrets: null,
      retryBaseMs: 5_000,
      allowPrivateUrls: true,
      log: createLogger({ level: 'fatal', name: 'test' }),
      pollMs: 20,
      perEndpointConcurrency: FULL_CONCURRENCY,
      mailBacklog: mail,
    });
    closeWith(t, () => dispatcher.close());
    assert.equal(dispatcher.yielding(), true);

    // Mail backlogged all along: answered one at a time, every event gets through, never more
    // than the floor in flight (at full pace the first claim alone would send 16).
    const first = 40;
    await enqueue(
      storage.messages,
      Array.from({ length: first }, (_, i) => newMessage(i)),
      Date.now(),
    );
    dispatcher.wake();
    while (receiver.received.length < first) {
      await waitFor(() => held.length > 0, { description: 'a request at the floor' });
      held.shift()!();
    }
    assert.ok(
      mostInFlight <= YIELDING_PACE.concurrency,
      `at most ${YIELDING_PACE.concurrency} in flight while yielding, saw ${mostInFlight}`,
    );
    while (held.length > 0) held.shift()!();

    // The mail drained: back to full pace at once, the whole room in flight.
    const second = 2 * FULL_CONCURRENCY;
    await enqueue(
      storage.messages,
      Array.from({ length: second }, (_, i) => newMessage(first + i)),
      Date.now(),
    );
    mail.set(false);
    assert.equal(dispatcher.yielding(), false);
    await waitFor(() => inFlight === FULL_CONCURRENCY, {
      description: `${FULL_CONCURRENCY} requests in flight at full pace`,
    });
    receiver.answer = () => ({ status: 204 });
    while (held.length > 0) held.shift()!();
    await waitFor(() => new Set(receiver.received.map((r) => r.id)).size === first + second, {
      description: 'every event delivered',
    });
    assert.ok(receiver.received.every((r) => r.verified));
    // Each once: nothing was sent twice while the pace changed.
    assert.equal(receiver.received.length, first + second);
  });

  test('the service yields while its delivery thread has mail waiting, and says so in /metrics', async (t) => {
    // One message in flight at a time, held at the SMTP server: the rest wait, a backlog.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const smtp = await startTestSmtpServer(t, { beforeAccept: () => released });
    const admin = 'admin-token-for-yield-tests';
    const svc = await startService(t, {
      API_TOKEN: admin,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      DELIVERY_CONCURRENCY: '1',
      SMTP_CONNECTION_URI: `smtp://127.0.0.1:${smtp.port}/?disable_starttls=true`,
    });
    const receiver = await startWebhookReceiver(t);
    const created = await svc.gql(
      `mutation ($url: String!) { createWebhookEndpoint(input: { url: $url,
        events: [MESSAGE_QUEUED, MESSAGE_SENT] }) { secret } }`,
      { url: receiver.url },
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    receiver.secret = created.data.createWebhookEndpoint.secret;
    const yielding = async () => {
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      return /^mailscope_webhooks_yielding_to_mail (\d)$/m.exec(metrics)?.[1];
    };
    assert.equal(await yielding(), '0');

    const count = 5;
    const sent = await graphqlRequest(
      `${svc.url}/graphql`,
      `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: count }, (_, i) => ({
          to: `r${i}@example.com`,
          subject: 'Held',
          text: 'x',
        })),
      },
      admin,
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    await waitFor(async () => (await yielding()) === '1', { description: 'yielding to mail' });
    // Not starved: the queued events arrive while the mail is still held.
    await waitFor(
      () => receiver.received.filter((r) => r.payload.type === 'message.queued').length === count,
      { description: 'the queued events while mail waits' },
    );
    assert.equal(smtp.received.length, 0);

    release();
    await waitFor(async () => (await yielding()) === '0', { description: 'full pace again' });
    await waitFor(() => receiver.received.length === 2 * count, {
      description: 'every event, queued and sent, once mail drained',
    });
    assert.ok(receiver.received.every((r) => r.verified));
    assert.equal(smtp.received.length, count);
  });
});
