import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MessageStore, NewMessage } from '../../src/db/port.ts';
import { openSqliteStorage } from '../../src/db/sqlite/storage.ts';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/delivery/worker.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';
import { deliveryCounts, reportFigures } from '../helpers/faults.ts';
import { claim, record } from '../helpers/queue.ts';
import { closeWith, fileScope, type Scope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { settingsFor } from '../helpers/worker-settings.ts';

// Fault 7: the system clock jumps back or forward. Leases and due times are wall time in SQLite
// (they must outlive the process), so the worker is given a clock this test moves; everything
// else is real (SQLite file, SMTP server, pooled transports). On PostgreSQL leases and due
// times are on the database's clock, which the process's clock does not move. A backward jump must not strand a
// leased (or retrying) message; a forward jump must not let a live lease be claimed again and
// its message sent twice.

const dir = tempDir(fileScope);

const HOUR_MS = 3_600_000;
const LEASE_MS = 2_000;

function newMessage(i: number): NewMessage {
  return {
    recipient: `clock${i}@example.com`,
    subject: `clock ${i}`,
    text: 'x',
    html: null,
    headers: [],
    messageId: `<clock-${i}-${Date.now()}@example.com>`,
    maxAttempts: 5,
    idempotencyKey: null,
    requestHash: null,
    smtpConfigVersion: null,
  };
}

/** Whether every one of `ids` is SENT. */
async function allSent(messages: MessageStore, ids: readonly number[]): Promise<boolean> {
  const found = await Promise.all(ids.map((id) => messages.find(id)));
  return found.every((message) => message?.status === 'SENT');
}

/**
 * The delivery thread's parts, on a real SQLite file, with a clock the test moves; closed when
 * `scope` ends.
 */
async function startDelivery(scope: Scope, name: string, smtp: TestSmtpServer) {
  const storage = openSqliteStorage(
    { dialect: 'sqlite', path: join(dir.path, `${name}.db`) },
    { role: 'main', secrets: null },
  );
  const { messages } = storage;
  const settings = await settingsFor(storage.smtpConfigs, smtp, 'clock@example.com');
  const transports = createSmtpTransports({ timeoutMs: 5_000 });
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  let worker: DeliveryWorker | null = null;
  closeWith(scope, async () => {
    await worker?.close();
    await transports.close({ force: true });
    await storage.close();
  });
  return {
    messages,
    clock,
    events: storage.events,
    dispatches: storage.dispatches,
    startWorker() {
      worker = createDeliveryWorker({
        messages,
        settings,
        transports,
        publish: () => {},
        options: { leaseMs: LEASE_MS, retryBaseMs: 100, retryMaxMs: 1_000, concurrency: 4 },
        now: clock.now,
      });
      return worker;
    },
  };
}

test('clock moved back an hour: leased and retrying messages are not stranded', async (t) => {
  const smtp = await startTestSmtpServer(t);
  const delivery = await startDelivery(t, 'back', smtp);
  const { messages, clock } = delivery;

  // A worker claimed three messages and died mid-send (what kill -9 leaves behind), and a
  // fourth failed once and waits for its retry.
  const startMs = clock.now();
  const queued = await messages.enqueueMany([0, 1, 2, 3].map(newMessage), startMs);
  const ids = queued.map((result) => result.message.id);
  const claimed = await claim(messages, startMs, 4, { leaseMs: LEASE_MS });
  assert.equal(claimed.length, 4);
  const retrying = claimed[3]!.message;
  await record(messages, [
    {
      messageId: retrying.id,
      leaseExpiresAtMs: retrying.leaseExpiresAtMs!,
      attempt: 1,
      atMs: startMs,
      durationMs: 10,
      smtpConfigVersion: null,
      response: null,
      error: {
        code: 'CONNECTION',
        message: 'connection refused',
        responseCode: null,
        enhancedStatus: null,
        command: null,
        response: null,
        permanent: false,
        hint: null,
      },
      transcript: null,
      next: {
        status: 'QUEUED',
        reason: 'retry_scheduled',
        delayMs: 490,
        nextAttemptAtMs: startMs + 500,
      },
    },
  ]);

  // The restart happens after the clock was moved back an hour: by that clock the leases end,
  // and the retry is due, an hour from now.
  clock.offsetMs = -HOUR_MS;
  const restartedAt = performance.now();
  delivery.startWorker();
  await waitFor(() => allSent(messages, ids), {
    description: 'every message SENT (not an hour from now)',
  });
  const recoverMs = Math.round(performance.now() - restartedAt);
  const counts = deliveryCounts(smtp.received);
  for (const id of ids) assert.equal(counts.get((await messages.find(id))!.messageId), 1);
  reportFigures(t, '7a clock back 1 h after a crash', {
    acknowledged: ids.length,
    sent: counts.size,
    lost: ids.length - counts.size,
    duplicated: smtp.received.length - counts.size,
    recoverMs,
  });
});

test('clock moved forward an hour during sends: no lease taken over, nothing sent twice', async (t) => {
  // The server holds its replies until the clock has jumped.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = 0;
  const smtp = await startTestSmtpServer(t, {
    beforeAccept: async (mail) => {
      if (!/Subject: clock [0-2]\b/.test(mail.raw)) return;
      holding++;
      await released;
    },
  });
  const delivery = await startDelivery(t, 'forward', smtp);
  const { messages, clock, events, dispatches } = delivery;

  const ids = (await messages.enqueueMany([0, 1, 2].map(newMessage), clock.now())).map(
    (r) => r.message.id,
  );
  const worker = delivery.startWorker();
  await waitFor(() => holding === 3, { description: 'three sends in flight' });

  // An hour passes in an instant: by the clock, every lease in flight has run out.
  clock.offsetMs = HOUR_MS;
  // The worker keeps working meanwhile: a new message is claimed and sent past the held ones.
  const [later] = await messages.enqueueMany([newMessage(3)], clock.now());
  worker.wake();
  await waitFor(() => allSent(messages, [later!.message.id]), {
    description: 'a message queued after the jump to be sent',
  });
  const startedAt = performance.now();
  release();
  await waitFor(() => allSent(messages, ids), {
    description: 'the held messages SENT',
  });
  const recoverMs = Math.round(performance.now() - startedAt);
  const all = [...ids, later!.message.id];
  const counts = deliveryCounts(smtp.received);
  for (const id of all) {
    assert.equal(counts.get((await messages.find(id))!.messageId), 1, `message ${id} sent once`);
    const reasons = (await events.listForMessage(id)).map((event) => event.reason);
    assert.deepEqual(reasons, ['queued', 'claimed', 'sent'], `message ${id}: ${reasons}`);
    assert.equal((await dispatches.listForMessage(id)).length, 1);
  }
  reportFigures(t, '7b clock forward 1 h during sends', {
    acknowledged: all.length,
    sent: counts.size,
    lost: all.length - counts.size,
    duplicated: smtp.received.length - counts.size,
    recoverMs,
  });
});

test('a lease taken over by another claim cannot be recorded by its old owner', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  const smtp = await startTestSmtpServer(t, {
    beforeAccept: async () => {
      holding = true;
      await released;
    },
  });
  const delivery = await startDelivery(t, 'stolen', smtp);
  const { messages, clock, dispatches } = delivery;
  const [queued] = await messages.enqueueMany([newMessage(0)], clock.now());
  const id = queued!.message.id;
  delivery.startWorker();
  await waitFor(() => holding, { description: 'the send in flight' });

  // The clock jumps forward an hour, and another process on the same machine and database
  // (the same clock; say a second instance started by mistake) sees the lease as run out and
  // claims the message. Only a claim token can keep the two from both recording it.
  clock.offsetMs = HOUR_MS;
  const [stolen] = await claim(messages, clock.now(), 1, { leaseMs: LEASE_MS });
  assert.equal(stolen?.message.id, id);
  release();
  await waitFor(() => smtp.receivedCount === 1, { description: 'the first send to finish' });
  // A message queued now is recorded in a later cycle than the first send's outcome: once it is
  // SENT, the old owner has tried to record.
  const [next] = await messages.enqueueMany([newMessage(1)], clock.now());
  await waitFor(() => allSent(messages, [next!.message.id]), {
    description: 'a later message to be recorded',
  });
  const now = (await messages.find(id))!;
  assert.equal(now.status, 'PROCESSING', 'the new claim owns it');
  assert.equal(now.leaseExpiresAtMs, stolen!.message.leaseExpiresAtMs);
  assert.equal((await dispatches.listForMessage(id)).length, 0, 'the old owner recorded nothing');
});
