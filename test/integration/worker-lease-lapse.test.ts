import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { StorageError } from '../../src/db/storage-errors.ts';
import type { MessageStore } from '../../src/db/port.ts';
import type { MessageEvent } from '../../src/domain/message.ts';
import { createDeliveryWorker } from '../../src/delivery/worker.ts';
import { createLogger } from '../../src/logger.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { enqueue, newMessage } from '../helpers/queue.ts';
import { closeWith } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';

// While the database does not answer, a worker cannot renew the leases of what it holds. A
// message that waits for a free SMTP connection meanwhile must not start going out once its
// lease may be near its end: another instance that claimed it after the lease ran out would
// send it too. So a send starts only within half a lease of the last grant or renewal, and what
// could not start is left to be claimed again, then sent once.

const MESSAGES = 8;
const LEASE_MS = 1_000;

describe(`delivery worker whose database stops answering (${TEST_DIALECT})`, () => {
  test('starts no send past half an unrenewed lease; every message is sent once after', async (t) => {
    // One connection and 200 ms a message: most of the batch waits for the connection.
    const sink = await startTestSmtpServer(t, {
      beforeAccept: () => new Promise((resolve) => setTimeout(resolve, 200)),
    });
    const { storage } = await openTestStorage(t);
    const settings = await settingsFor(storage.smtpConfigs, sink, 'app@example.com');
    let down = false;
    const unreachable = () => new StorageError('unavailable');
    const messages: MessageStore = {
      ...storage.messages,
      recordAndClaim: (records, request) =>
        down ? Promise.reject(unreachable()) : storage.messages.recordAndClaim(records, request),
      nextDueInMs: (nowMs) =>
        down ? Promise.reject(unreachable()) : storage.messages.nextDueInMs(nowMs),
    };
    const warnings: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'warn',
      name: 'delivery',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n')) {
            if (line !== '') warnings.push(JSON.parse(line) as Record<string, unknown>);
          }
          done();
        },
      }),
    });
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
          down = true;
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
    await waitFor(() => down, { description: 'the batch claimed, then the database gone' });
    // Each message either went out within half a lease, or did not start at all.
    const notStarted = () => warnings.filter((w) => /not sent, its lease/.test(String(w['msg'])));
    await waitFor(() => sink.receivedCount + notStarted().length === MESSAGES, {
      description: 'every message sent or held back',
    });
    const sentWhileDown = sink.receivedCount;
    assert.ok(notStarted().length > 0, 'some sends were held back');
    assert.ok(sentWhileDown > 0, 'the sends begun in time went out');

    down = false;
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
});
