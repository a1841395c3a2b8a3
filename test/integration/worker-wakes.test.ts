import { describe, test } from 'node:test';
import { createWakeSignal } from '../../src/delivery/wake-signal.ts';
import { createDeliveryWorker } from '../../src/delivery/worker.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { closeWith } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';

// The wake signal as the delivery thread wires it: the committing side raises after each
// commit, and while the worker has a cycle scheduled the raise wakes nobody (that cycle claims
// what was committed). No raise may be lost for that: with the worker's idle poll and the
// signal's recheck set far off, a lost one would leave its message undelivered until the wait
// below gives up.

const FAR_OFF_MS = 10 * 60_000;

describe(`delivery worker woken through the signal (${TEST_DIALECT})`, () => {
  test('every message committed and raised is delivered, whenever in the cycle it comes', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const { storage } = await openTestStorage(t);
    const settings = await settingsFor(storage.smtpConfigs, smtp, 'wakes@example.com');
    const transports = createSmtpTransports({ timeoutMs: 5_000 });
    const signal = createWakeSignal(undefined, { recheckMs: FAR_OFF_MS });
    let holds = 0;
    const worker = createDeliveryWorker({
      messages: storage.messages,
      settings,
      transports,
      publish: () => {},
      options: {
        leaseMs: 30_000,
        retryBaseMs: 100,
        retryMaxMs: 1_000,
        concurrency: 4,
        idlePollMs: FAR_OFF_MS,
      },
      onCycleScheduled: () => {
        holds++;
        signal.hold();
      },
      onCycleStart: () => signal.caughtUp(),
    });
    const stopListening = signal.listen(() => worker.wake());
    closeWith(t, async () => {
      stopListening();
      await worker.close();
      await transports.close({ force: true });
    });

    // Commits at every point of the worker's cycle: back to back, a turn apart, and a few
    // milliseconds apart (about its batch window), each raised only after it committed.
    const total = 120;
    for (let i = 0; i < total; i++) {
      await enqueue(storage.messages, [newMessage(i)], Date.now());
      signal.raise();
      if (i % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
      if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, i % 7));
    }
    await waitFor(() => smtp.received.length === total, {
      timeoutMs: 60_000,
      description: `all ${total} messages delivered`,
    });
    // The raises did meet a held signal: otherwise this would test nothing.
    await waitFor(() => holds > 1, { description: 'cycles scheduled by the sends' });

    // Once every send is recorded the worker has nothing scheduled: a commit now must wake it.
    await waitFor(async () => (await storage.messages.countByStatus()).SENT === total, {
      description: 'every send recorded',
    });
    await enqueue(storage.messages, [newMessage(total)], Date.now());
    signal.raise();
    await waitFor(() => smtp.received.length === total + 1, {
      description: 'a message committed while the worker was idle, delivered',
    });
  });
});
