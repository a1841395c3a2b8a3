import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageEvent } from '../../src/domain/message.ts';
import { createDeliveryWorker } from '../../src/delivery/worker.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { closeWith } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';

// A claim's events name the newest stored SMTP configuration. When the worker holds an older
// one and cannot read the newer (the database failed just after the claim), the message must
// not go out with the older: its events would name one configuration and its attempt another,
// and the mail would reach a server the operator has just replaced.

describe(`delivery worker whose configuration read fails after a claim (${TEST_DIALECT})`, () => {
  test('holds the claim until it can read the configuration its events name, then sends with it', async (t) => {
    const replaced = await startTestSmtpServer(t);
    const current = await startTestSmtpServer(t);
    const { storage } = await openTestStorage(t);
    // The worker starts on the environment's configuration (no version), pointing at `replaced`.
    const settings = await settingsFor(storage.smtpConfigs, replaced, 'old@example.com');
    assert.equal(settings.current()?.version, null);
    // Version 1 is stored behind the worker's back, as another instance would.
    const { version } = await storage.smtpConfigs.insert({
      connectionUri: `smtp://${current.host}:${current.port}/?disable_starttls=true`,
      fromAddress: 'new@example.com',
      fromName: null,
      headers: [],
      createdAtMs: Date.now(),
    });
    // The first three reads fail: the one right after the claim, and those while the claim waits.
    let failuresLeft = 3;
    const failing = {
      ...settings,
      async refresh() {
        if (failuresLeft-- > 0) throw new Error('connection terminated unexpectedly');
        await settings.refresh();
      },
    };
    const events: MessageEvent[] = [];
    const transports = createSmtpTransports({ timeoutMs: 5_000 });
    const worker = createDeliveryWorker({
      messages: storage.messages,
      settings: failing,
      transports,
      publish: (published) => events.push(...published),
      options: {
        leaseMs: 30_000,
        retryBaseMs: 100,
        retryMaxMs: 1_000,
        concurrency: 4,
        idlePollMs: 50,
        storageRetryMs: 20,
      },
    });
    closeWith(t, async () => {
      await worker.close();
      await transports.close({ force: true });
    });

    const [message] = await enqueue(storage.messages, [newMessage(1)], Date.now());
    worker.wake();
    await waitFor(() => events.some((e) => e.messageId === message!.id && e.status === 'SENT'), {
      description: 'the message sent',
    });

    assert.equal(replaced.received.length, 0, 'nothing went out with the older configuration');
    assert.equal(current.received.length, 1);
    assert.deepEqual(
      events
        .filter((e) => e.messageId === message!.id)
        .map((e) => [e.status, e.reason, e.smtpConfigVersion]),
      [
        ['PROCESSING', 'claimed', version],
        ['SENT', 'sent', version],
      ],
    );
    const sent = await storage.messages.find(message!.id);
    assert.equal(sent?.attempts, 1);
    assert.ok(failuresLeft < 0, 'the configuration was read again after the failures');
  });
});
