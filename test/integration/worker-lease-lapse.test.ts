import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StorageError } from '../../src/db/storage-errors.ts';
import type { MessageStore } from '../../src/db/port.ts';
import type { MessageEvent } from '../../src/domain/message.ts';
import { createDeliveryWorker } from '../../src/delivery/worker.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { closeWith } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';
import { capturedLog } from '../helpers/captured-log.ts';

// While the database does not answer, a worker cannot renew the leases of what it holds. A
// message that waits for a free SMTP connection meanwhile must not start going out once its
// lease may be near its end: another instance that claimed it after the lease ran out would
// send it too. So a send starts only within half a lease of the last grant or renewal, and what
// could not start is left to be claimed again, then sent once.

const MESSAGES = 8;
const LEASE_MS = 1_000;

/** A warn-level logger whose lines the test reads. */
const capturedWarnings = () => {
  const { records: lines, log } = capturedLog('warn', 'delivery');
  return { lines, log };
};

/** The store as `down` says: while true, the worker's writes and reads fail as unreachable. */
function switchable(messages: MessageStore) {
  const state = { down: false };
  const unreachable = () => new StorageError('unavailable');
  const store: MessageStore = {
    ...messages,
    recordAndClaim: (records, request) =>
      state.down ? Promise.reject(unreachable()) : messages.recordAndClaim(records, request),
    nextDueInMs: (nowMs) =>
      state.down ? Promise.reject(unreachable()) : messages.nextDueInMs(nowMs),
  };
  return { state, store };
}

describe(`delivery worker whose database stops answering (${TEST_DIALECT})`, () => {
  test('starts no send past half an unrenewed lease; every message is sent once after', async (t) => {
    // One connection and 200 ms a message: most of the batch waits for the connection.
    const sink = await startTestSmtpServer(t, {
      beforeAccept: () => new Promise((resolve) => setTimeout(resolve, 200)),
    });
    const { storage } = await openTestStorage(t);
    const settings = await settingsFor(storage.smtpConfigs, sink, 'app@example.com');
    const { state, store: messages } = switchable(storage.messages);
    const { lines: warnings, log } = capturedWarnings();
    const events: MessageEvent[] = [];
    const transports = createSmtpTransports({ timeoutMs: 5_000, maxConnections: 1 });
    const worker = createDeliveryWorker({
      messages,
      settings,
      transports,
      publish: (published) => {
        events.push(...published);
        // The database goes away right after the claim of the whole batch.
        if (published.filter((event) => event.status === 'PROCESSING').length === MESSAGES) {
          state.down = true;
        }
      },
      options: {
        leaseMs: LEASE_MS,
        retryBaseMs: 100,
        retryMaxMs: 1_000,
        concurrency: MESSAGES,
        idlePollMs: 50,
        storageRetryMs: 20,
      },
      log,
      onStorageError: () => {},
    });
    closeWith(t, async () => {
      await worker.close();
      await transports.close({ force: true });
    });

    await enqueue(
      storage.messages,
      Array.from({ length: MESSAGES }, (_, i) => newMessage(i)),
      Date.now(),
    );
    worker.wake();
    await waitFor(() => state.down, { description: 'the batch claimed, then the database gone' });
    // Each message either went out within half a lease, or did not start at all.
    const notStarted = () => warnings.filter((w) => /not sent, its lease/.test(String(w['msg'])));
    await waitFor(() => sink.receivedCount + notStarted().length === MESSAGES, {
      description: 'every message sent or held back',
    });
    // 8 messages at 200 ms each cannot all start within half a lease (500 ms); how many did
    // depends on the machine's speed, which the test does not assume.
    assert.ok(notStarted().length > 0, 'some sends were held back');

    state.down = false;
    await waitFor(
      () =>
        new Set(events.filter((e) => e.status === 'SENT').map((e) => e.messageId)).size ===
        MESSAGES,
      { description: 'every message recorded SENT' },
    );
    const recipients = sink.received.flatMap((mail) => mail.to);
    assert.equal(recipients.length, MESSAGES, 'each message delivered once');
    assert.equal(new Set(recipients).size, MESSAGES);
  });

  test('an outcome that came after the lease passed to another claim is logged, not dropped silently', async (t) => {
    // A send that outlives its lease while renewals fail: the other worker (another instance)
    // claims and sends the message too; the first one's outcome cannot be recorded.
    let first = true;
    const sink = await startTestSmtpServer(t, {
      beforeAccept: () =>
        first ? ((first = false), new Promise((resolve) => setTimeout(resolve, 1_500))) : undefined,
    });
    const { storage } = await openTestStorage(t);
    const settings = await settingsFor(storage.smtpConfigs, sink, 'app@example.com');
    const { state, store } = switchable(storage.messages);
    const { lines: warnings, log } = capturedWarnings();
    const events: MessageEvent[] = [];
    // The second worker starts only once the first holds the message: started together, it
    // could claim it first (it polls on its own).
    const start = (messages: MessageStore, index: number) => {
      const transports = createSmtpTransports({ timeoutMs: 5_000 });
      const worker = createDeliveryWorker({
        messages,
        settings,
        transports,
        publish: (published) => {
          events.push(...published);
          if (index === 0 && published.some((event) => event.status === 'PROCESSING')) {
            state.down = true;
          }
        },
        options: {
          leaseMs: 500,
          retryBaseMs: 100,
          retryMaxMs: 1_000,
          concurrency: 1,
          idlePollMs: 50,
          storageRetryMs: 20,
        },
        log: index === 0 ? log : capturedWarnings().log,
        onStorageError: () => {},
      });
      closeWith(t, async () => {
        await worker.close();
        await transports.close({ force: true });
      });
      return worker;
    };
    const [message] = await enqueue(storage.messages, [newMessage(1)], Date.now());
    start(store, 0).wake();
    await waitFor(() => state.down, { description: 'the first claim, then the database gone' });
    start(storage.messages, 1).wake();
    await waitFor(() => events.some((e) => e.status === 'SENT'), {
      description: 'the second worker to send it after the lease ran out',
    });
    state.down = false;
    await waitFor(() => sink.receivedCount === 2, { description: 'the first send to end too' });
    const twice = await waitFor(() =>
      warnings.find((w) => /may be delivered twice/.test(String(w['msg']))),
    );
    assert.equal(twice['id'], Number(message!.id));
    assert.equal(twice['attempt'], 1);
    assert.equal(twice['errorCode'], null, 'it was sent');
    const stored = await storage.messages.find(message!.id);
    assert.equal(stored?.status, 'SENT');
    assert.equal(stored?.attempts, 1, 'one attempt recorded: the claim that owned it');
  });
});
