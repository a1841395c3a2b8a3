import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import {
  FAILING_DISABLES_AFTER_MS,
  startWebhookDispatcher,
} from '../../src/webhooks/dispatcher.ts';
import { closeWith } from '../helpers/scope.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// The dispatcher on a real store and real receivers, with its clock in the test's hands.

const SECRET = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;

describe(`webhook dispatcher (${TEST_DIALECT})`, () => {
  test('an endpoint failing for 3 days is disabled and the others are told', async (t) => {
    const { storage } = await openTestStorage(t);
    const failing = await startWebhookReceiver(t);
    failing.answer = () => ({ status: 500 });
    const other = await startWebhookReceiver(t);
    other.secret = SECRET;
    const T0 = Date.now();
    let clock = T0;
    const endpoint = await storage.webhooks.createEndpoint({
      url: failing.url,
      events: ['MESSAGE_QUEUED'],
      description: null,
      secret: SECRET,
      nowMs: T0,
    });
    await storage.webhooks.createEndpoint({
      url: other.url,
      events: ['MESSAGE_BOUNCED'],
      description: null,
      secret: SECRET,
      nowMs: T0,
    });
    const dispatcher = startWebhookDispatcher({
      store: storage.webhooks,
      signals: storage.signals,
      secrets: null,
      retryBaseMs: 5_000,
      allowPrivateUrls: true,
      log: createLogger({ level: 'fatal', name: 'test' }),
      now: () => clock,
      pollMs: 20,
    });
    closeWith(t, () => dispatcher.close());
    await enqueue(storage.messages, [newMessage(1)], T0);
    // Recorded, not only received: a failure recorded after the clock jump below would start the
    // failure run 3 days late, and nothing would be disabled.
    await waitFor(
      async () => (await storage.webhooks.findEndpoint(endpoint.id))?.failingSinceMs === T0,
      { description: 'the first failure recorded' },
    );
    // Still failing 3 days later (another event, the first one's retries long gone).
    clock = T0 + FAILING_DISABLES_AFTER_MS;
    await enqueue(storage.messages, [newMessage(2)], clock);
    dispatcher.wake();
    const notice = await waitFor(
      () => other.received.find((r) => r.payload.type === 'endpoint.disabled'),
      { description: 'endpoint.disabled at the other endpoint' },
    );
    // (Signed 3 days ahead of the real clock: the library's 5-minute tolerance would refuse it.)
    assert.equal(notice.payload.data.reason, 'failing');
    assert.equal(notice.payload.data.endpoint.id, String(endpoint.id));
    const stored = await storage.webhooks.findEndpoint(endpoint.id);
    assert.equal(stored?.enabled, false);
    assert.equal(stored?.disabledReason, 'failing');
    // Enabled again by hand: the failure run starts afresh.
    const enabled = await storage.webhooks.updateEndpoint(endpoint.id, { enabled: true });
    assert.equal(enabled?.failingSinceMs, null);
    assert.equal(enabled?.disabledReason, null);
  });
});
