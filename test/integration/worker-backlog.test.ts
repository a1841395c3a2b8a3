import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDeliveryWorker } from '../../src/delivery/worker.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { closeWith } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';

// The delivery worker's backlog signal (worker.ts `onBacklog`), which outgoing webhooks yield to:
// told only when due mail starts or stops waiting for room, never for mail that merely flows.

const CONCURRENCY = 4;

describe(`delivery worker backlog (${TEST_DIALECT})`, () => {
  test('mail that flows is no backlog; mail waiting for room is, until it is all taken', async (t) => {
    let gate: Promise<void> = Promise.resolve();
    const smtp = await startTestSmtpServer(t, { beforeAccept: () => gate });
    const { storage } = await openTestStorage(t);
    const settings = await settingsFor(storage.smtpConfigs, smtp, 'backlog@example.com');
    const transports = createSmtpTransports({ timeoutMs: 5_000 });
    const changes: boolean[] = [];
    const worker = createDeliveryWorker({
      messages: storage.messages,
      settings,
      transports,
      publish: () => {},
      options: { leaseMs: 30_000, retryBaseMs: 100, retryMaxMs: 1_000, concurrency: CONCURRENCY },
      onBacklog: (backlogged) => changes.push(backlogged),
    });
    closeWith(t, async () => {
      await worker.close();
      await transports.close({ force: true });
    });

    // Fewer than the free slots: all taken at once, nothing waits.
    await enqueue(storage.messages, [newMessage(1), newMessage(2)], Date.now());
    worker.wake();
    await waitFor(() => smtp.received.length === 2, { description: 'two messages delivered' });
    assert.deepEqual(changes, [], 'mail that flows is no backlog');

    // More than the slots, with the SMTP server holding its replies: the rest wait.
    let open: () => void = () => {};
    gate = new Promise<void>((resolve) => (open = resolve));
    const more = 3 * CONCURRENCY;
    await enqueue(
      storage.messages,
      Array.from({ length: more }, (_, i) => newMessage(10 + i)),
      Date.now(),
    );
    worker.wake();
    await waitFor(() => changes.length === 1, { description: 'the backlog reported' });
    assert.deepEqual(changes, [true]);
    open();
    await waitFor(() => smtp.received.length === 2 + more, { description: 'all delivered' });
    await waitFor(() => changes.length === 2, { description: 'the end of the backlog reported' });
    assert.deepEqual(changes, [true, false], 'once each way, not per message');
  });
});
