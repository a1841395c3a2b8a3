import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventFeed, Storage } from '../../src/db/port.ts';
import { comparePositions, LOG_START } from '../../src/domain/event-position.ts';
import { MESSAGE_STATUSES, type Message } from '../../src/domain/message.ts';
import { createSecretBox } from '../../src/secrets/secret-box.ts';
import {
  claim,
  enqueue,
  failure,
  newMessage,
  record,
  retryRecord,
  sentRecord,
} from '../helpers/queue.ts';
import type { Scope } from '../helpers/scope.ts';
import { countRows, openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The storage port's contract, run against the suite's dialect (npm test runs it on SQLite and
// on PostgreSQL): what the delivery, GraphQL and operations layers rely on, whichever database
// is behind it. Each test opens a fresh database.

/** A fresh database for one test, closed and removed when it ends. */
async function fresh(
  scope: Scope,
  options: Parameters<typeof openTestStorage>[1] = {},
): Promise<Storage> {
  return (await openTestStorage(scope, options)).storage;
}

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

/**
 * The log once `count` events can be read in order. On PostgreSQL the log is read only where
 * every transaction before is over, and any transaction on the server (another test's, say)
 * holds that back for as long as it is open.
 */
function settledLog(events: Storage['events'], count: number) {
  return waitFor(
    async () => {
      const log = await events.listAfter(LOG_START, 1_000);
      return log.length >= count ? log : null;
    },
    { description: `${count} events readable in order` },
  );
}

describe(`storage contract (${TEST_DIALECT})`, () => {
  test('enqueue stores QUEUED messages with their first events, in order', async (t) => {
    const { messages, events } = await fresh(t);
    const stored = await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    assert.deepEqual(
      stored.map((m) => [m.recipient, m.status, m.attempts, m.createdAtMs]),
      [
        ['r1@example.com', 'QUEUED', 0, T0],
        ['r2@example.com', 'QUEUED', 0, T0],
      ],
    );
    assert.ok(stored[1]!.id > stored[0]!.id);
    const log = await settledLog(events, 2);
    assert.deepEqual(
      log.map((e) => [e.messageId, e.status, e.previousStatus, e.reason, e.recipient]),
      [
        [stored[0]!.id, 'QUEUED', null, 'queued', 'r1@example.com'],
        [stored[1]!.id, 'QUEUED', null, 'queued', 'r2@example.com'],
      ],
    );
    assert.deepEqual(await messages.find(stored[0]!.id), stored[0]);
    assert.equal(await messages.find(999_999), null);
  });

  test('idempotency keys: a repeat returns the first message, a different input conflicts', async (t) => {
    const { messages } = await fresh(t);
    const first = newMessage(1, { idempotencyKey: 'k1', requestHash: 'h1' });
    const [queued] = await messages.enqueueMany([first], T0);
    assert.equal(queued!.kind, 'queued');
    const again = await messages.enqueueMany(
      [
        newMessage(2, { idempotencyKey: 'k1', requestHash: 'h1' }),
        newMessage(3, { idempotencyKey: 'k1', requestHash: 'other' }),
        newMessage(4, { idempotencyKey: 'k2', requestHash: 'h2' }),
        newMessage(5, { idempotencyKey: 'k2', requestHash: 'h2' }),
      ],
      T0,
    );
    assert.deepEqual(
      again.map((result) => result.kind),
      ['repeat', 'conflict', 'queued', 'repeat'],
    );
    assert.equal(again[0]!.message.id, queued!.message.id);
    assert.equal(again[3]!.message.id, again[2]!.message.id);
    // All or nothing: a conflict anywhere stores none of the batch.
    const before = await messages.countMatching({});
    const all = await messages.enqueueAll(
      [newMessage(6), newMessage(7, { idempotencyKey: 'k1', requestHash: 'different' })],
      T0,
    );
    assert.equal(all.ok, false);
    assert.equal(!all.ok && all.conflictIndex, 1);
    assert.equal(await messages.countMatching({}), before);
  });

  test('submitted MIME: reads say a message was submitted without carrying its bytes; its claim carries them', async (t) => {
    const { messages } = await fresh(t);
    const raw = Buffer.from('Subject: as submitted\r\n\r\n' + 'x'.repeat(64 * 1024) + '\r\n');
    const [submitted, composed] = await enqueue(
      messages,
      [newMessage(1, { rawMime: raw }), newMessage(2)],
      T0,
    );
    const read = await messages.find(submitted!.id);
    assert.equal(read!.submittedOverSmtp, true);
    assert.equal(read!.rawMime, null, 'a read carries no submitted bytes');
    assert.equal((await messages.find(composed!.id))!.submittedOverSmtp, false);
    const page = await messages.list({}, 10, null);
    assert.deepEqual(
      page.messages.map((m) => [m.id, m.submittedOverSmtp, m.rawMime]),
      [
        [composed!.id, false, null],
        [submitted!.id, true, null],
      ],
    );
    const claimed = await claim(messages, Date.now(), 2);
    const bytes = claimed.find((c) => c.message.id === submitted!.id)!.message.rawMime;
    assert.ok(
      bytes !== null && Buffer.from(bytes).equals(raw),
      'the claim carries the bytes to send',
    );
    assert.equal(claimed.find((c) => c.message.id === composed!.id)!.message.rawMime, null);
  });

  test('submitted MIME is stored once per submission, whatever the recipients; retention deletes it with its last message', async (t) => {
    const { storage, database } = await openTestStorage(t);
    const { messages, retention } = storage;
    const raw = Buffer.from('Subject: to three\r\n\r\n' + 'y'.repeat(32 * 1024) + '\r\n');
    const other = Buffer.from('Subject: to one\r\n\r\nz\r\n');
    const shared = { rawMime: raw, messageId: '<sub@example.com>', submittedBy: 'crm app' };
    // One batch, as group commit makes it: a submission to three, a message through the API,
    // and another submission.
    const stored = await enqueue(
      messages,
      [
        newMessage(1, shared),
        newMessage(2, { submittedBy: 'api caller' }),
        newMessage(3, shared),
        newMessage(4, { rawMime: other, messageId: '<other@example.com>' }),
        newMessage(5, shared),
      ],
      T0,
    );
    assert.equal(await countRows(database, 'submissions'), 2, 'one copy per submission');
    assert.deepEqual(
      stored.map((m) => [m.recipient, m.submittedOverSmtp, m.submittedBy, m.rawMime]),
      [
        ['r1@example.com', true, 'crm app', null],
        ['r2@example.com', false, 'api caller', null],
        ['r3@example.com', true, 'crm app', null],
        ['r4@example.com', true, null, null],
        ['r5@example.com', true, 'crm app', null],
      ],
    );
    assert.equal((await messages.find(stored[2]!.id))!.submittedBy, 'crm app');
    // Four are claimed and sent; the third recipient of the first submission is still queued.
    const claimed = await claim(messages, Date.now(), 4);
    assert.deepEqual(
      claimed.map((c) => c.message.id),
      stored.slice(0, 4).map((m) => m.id),
    );
    for (const [index, bytes] of [
      [0, raw],
      [1, null],
      [2, raw],
      [3, other],
    ] as const) {
      const sent = claimed[index]!.message.rawMime;
      assert.ok(bytes === null ? sent === null : sent !== null && Buffer.from(sent).equals(bytes));
    }
    await record(
      messages,
      claimed.map((c) => sentRecord(c.message, T0)),
    );
    const prune = () =>
      retention.pruneBatch({ olderThanMs: null, belowId: 1e12, limit: 100, nowMs: T0 + 1 });
    assert.equal((await prune()).messages, 4);
    assert.equal(
      await countRows(database, 'submissions'),
      1,
      'the submission with a message left stays; the other is gone',
    );
    const [again] = await claim(messages, Date.now(), 1);
    assert.ok(again!.message.rawMime !== null && Buffer.from(again!.message.rawMime).equals(raw));
    await record(messages, [sentRecord(again!.message, T0)]);
    assert.equal((await prune()).messages, 1);
    assert.equal(await countRows(database, 'submissions'), 0, 'gone with its last message');
  });

  test('claims take due messages oldest first, once, with a lease; the lease is the record token', async (t) => {
    const { messages, dispatches, events } = await fresh(t);
    const stored = await enqueue(
      messages,
      [1, 2, 3].map((n) => newMessage(n)),
      T0,
    );
    const first = await claim(messages, Date.now(), 2);
    assert.deepEqual(
      first.map((c) => c.message.id),
      stored.slice(0, 2).map((m) => m.id),
    );
    for (const { message, event } of first) {
      assert.equal(message.status, 'PROCESSING');
      assert.ok(message.leaseExpiresAtMs! > 0);
      assert.deepEqual(
        [event.status, event.previousStatus, event.reason, event.attempt],
        ['PROCESSING', 'QUEUED', 'claimed', 1],
      );
    }
    const second = await claim(messages, Date.now(), 10);
    assert.deepEqual(
      second.map((c) => c.message.id),
      [stored[2]!.id],
    );
    assert.deepEqual(await claim(messages, Date.now(), 10), []);

    const sent = await record(messages, [sentRecord(first[0]!.message, Date.now())]);
    assert.deepEqual(
      sent.map((e) => [e.messageId, e.status, e.reason, e.attempt]),
      [[first[0]!.message.id, 'SENT', 'sent', 1]],
    );
    const done = (await messages.find(first[0]!.message.id))!;
    assert.deepEqual([done.status, done.attempts, done.leaseExpiresAtMs], ['SENT', 1, null]);
    assert.equal((await dispatches.listForMessage(done.id)).length, 1);

    // A record carrying a lease the row no longer has is dropped: nothing written.
    const stale = { ...sentRecord(first[1]!.message, Date.now()), leaseExpiresAtMs: 1 };
    assert.deepEqual(await record(messages, [stale]), []);
    assert.equal((await messages.find(first[1]!.message.id))!.status, 'PROCESSING');
    assert.equal((await dispatches.listForMessage(first[1]!.message.id)).length, 0);
    assert.equal((await events.listForMessage(first[1]!.message.id)).length, 2);
  });

  test('a claim names the newest stored configuration, though the worker holds an older one', async (t) => {
    const secrets = createSecretBox([Buffer.alloc(32, 7).toString('base64')]);
    const { messages, smtpConfigs, events } = await fresh(t, { secrets });
    const [queued] = await enqueue(messages, [newMessage(1)], T0);
    // The worker has not heard of this configureSmtp yet: it claims holding no version.
    const { version } = await smtpConfigs.insert({
      connectionUri: 'smtp://smtp.example.com:587/',
      fromAddress: 'a@example.com',
      fromName: null,
      headers: [],
      createdAtMs: T0,
    });
    const result = await messages.recordAndClaim([], {
      nowMs: Date.now(),
      leaseMs: 60_000,
      limit: 1,
      smtpConfigVersion: null,
    });
    // It catches up to the newest version before sending, so the claim says that one.
    assert.equal(result.configVersion, version);
    assert.deepEqual(
      result.claimed.map((c) => [c.message.id, c.event.status, c.event.smtpConfigVersion]),
      [[queued!.id, 'PROCESSING', version]],
    );
    assert.deepEqual(
      (await events.listForMessage(queued!.id)).map((e) => [e.status, e.smtpConfigVersion]),
      [
        ['QUEUED', null],
        ['PROCESSING', version],
      ],
    );
  });

  test('concurrent claims never take the same message', async (t) => {
    const { messages } = await fresh(t);
    await enqueue(
      messages,
      Array.from({ length: 60 }, (_, i) => newMessage(i)),
      T0,
    );
    const batches = await Promise.all(
      Array.from({ length: 6 }, () => claim(messages, Date.now(), 15)),
    );
    const ids = batches.flat().map((c) => c.message.id);
    assert.equal(ids.length, 60);
    assert.equal(new Set(ids).size, 60);
  });

  test('a retry waits for its delay; an expired lease is claimed again, but not the caller’s own', async (t) => {
    const { messages } = await fresh(t);
    const [a, b] = await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const claimed = await claim(messages, Date.now(), 2, { leaseMs: 100 });
    const [ca, cb] = claimed.map((c) => c.message);
    assert.equal(ca!.id, a!.id);
    // a fails and is due again an hour later; b's lease runs out.
    const [retried] = await record(messages, [retryRecord(ca!, Date.now(), 3_600_000)]);
    assert.deepEqual([retried!.status, retried!.reason], ['QUEUED', 'retry_scheduled']);
    assert.equal((await messages.find(a!.id))!.lastError?.code, 'CONNECTION');
    const dueIn = await messages.nextDueInMs(Date.now());
    assert.ok(dueIn !== null && dueIn < 1_000, `b's lease ends soon: ${dueIn}`);
    // Excluded (the caller's own send in flight), b is not claimed even once its lease ran out.
    await waitFor(async () => ((await messages.nextDueInMs(Date.now())) ?? 1) <= 0, {
      description: "b's lease to run out",
    });
    assert.deepEqual(await claim(messages, Date.now(), 10, { excludeIds: [b!.id] }), []);
    const reclaimed = await claim(messages, Date.now(), 10);
    assert.deepEqual(
      reclaimed.map((c) => [c.message.id, c.event.reason, c.event.previousStatus]),
      [[b!.id, 'lease_expired', 'PROCESSING']],
    );
    assert.ok(reclaimed[0]!.message.leaseExpiresAtMs! > cb!.leaseExpiresAtMs!);
    // The old lease no longer records; the new one does.
    assert.deepEqual(await record(messages, [sentRecord(cb!, Date.now())]), []);
    assert.equal(
      (await record(messages, [sentRecord(reclaimed[0]!.message, Date.now())])).length,
      1,
    );
    // Only the retry is left, due in about an hour.
    const later = await messages.nextDueInMs(Date.now());
    assert.ok(later !== null && later > 3_000_000, `the retry is due in an hour: ${later}`);
  });

  test('the queue snapshot counts QUEUED and PROCESSING and dates the oldest QUEUED', async (t) => {
    const { messages } = await fresh(t);
    assert.deepEqual(await messages.queueSnapshot(), {
      queued: 0,
      processing: 0,
      oldestQueuedAtMs: null,
    });
    await enqueue(messages, [newMessage(1)], T0);
    await enqueue(messages, [newMessage(2)], T0 + 1_000);
    await enqueue(messages, [newMessage(3)], T0 + 2_000);
    const [first] = await claim(messages, Date.now(), 1);
    assert.equal(first!.message.createdAtMs, T0);
    assert.deepEqual(await messages.queueSnapshot(), {
      queued: 2,
      processing: 1,
      oldestQueuedAtMs: T0 + 1_000,
    });
    await record(messages, [sentRecord(first!.message, Date.now())]);
    assert.deepEqual(await messages.queueSnapshot(), {
      queued: 2,
      processing: 0,
      oldestQueuedAtMs: T0 + 1_000,
    });
  });

  test('counts by status stay exact as messages change, whenever their events are published', async (t) => {
    const storage = await fresh(t);
    const { messages } = storage;
    const feed = await storage.startFeed({ publish: () => {} });
    t.after(() => feed.close());
    // What the service does with what it commits: hand the events to the feed. Read from the
    // log here, so every kind of change is handed over the same way.
    let handedOver = LOG_START;
    const handOver = async () => {
      const log = await storage.events.listAfter(handedOver, 1_000);
      if (log.length === 0) return;
      feed.committed(log);
      handedOver = log.at(-1)!;
    };
    // The truth, counted another way: the messages listed in each status.
    const expected = async () => {
      const counts: Record<string, number> = {};
      for (const status of MESSAGE_STATUSES) {
        counts[status] = (await messages.idsMatching({ statuses: [status] }, 1_000)).length;
      }
      return counts;
    };
    const check = async (step: string) => {
      const truth = await expected();
      assert.deepEqual(await messages.countByStatus(), truth, step);
      // totalCount of the unfiltered list and of a status filter, as the dashboard asks.
      const all = Object.values(truth).reduce((sum, n) => sum + n, 0);
      assert.equal(await messages.countMatching({}), all, step);
      assert.equal(
        await messages.countMatching({ statuses: ['QUEUED', 'SENT', 'QUEUED'] }),
        truth['QUEUED']! + truth['SENT']!,
        step,
      );
      assert.equal(
        await messages.countMatching({ statuses: ['QUEUED'], recipient: 'r1@example.com' }),
        (await messages.idsMatching({ statuses: ['QUEUED'], recipient: 'r1@example.com' }, 1_000))
          .length,
        step,
      );
      const snapshot = await messages.queueSnapshot();
      assert.deepEqual(
        [snapshot.queued, snapshot.processing],
        [truth['QUEUED'], truth['PROCESSING']],
        step,
      );
    };

    await enqueue(
      messages,
      [1, 2, 3, 4, 5, 6].map((n) => newMessage(n)),
      T0,
    );
    // Counted before these events reach the feed: handing them over later must not count them
    // again.
    await check('first count, events not yet published');
    await handOver();
    await check('after the first events are published');

    const claimed = (await claim(messages, Date.now(), 4)).map((c) => c.message);
    await check('claimed, not yet published');
    await handOver();
    const [sent, retried, abandoned, released] = claimed as [Message, Message, Message, Message];
    await record(messages, [
      sentRecord(sent, Date.now()),
      retryRecord(retried, Date.now(), 3_600_000),
      {
        ...retryRecord(abandoned, Date.now(), 0, failure('RECIPIENT_REJECTED', true)),
        next: { status: 'ABANDONED', reason: 'failed_permanently' },
      },
    ]);
    await messages.release(
      [{ messageId: released.id, leaseExpiresAtMs: released.leaseExpiresAtMs! }],
      Date.now(),
      null,
    );
    await handOver();
    await check('sent, retried later, abandoned, released');

    const queued = await messages.idsMatching({ statuses: ['QUEUED'] }, 1_000);
    assert.equal((await messages.cancel(queued[0]!, Date.now(), null)).kind, 'changed');
    assert.equal((await messages.retry(abandoned.id, 5, Date.now(), null)).kind, 'changed');
    await handOver();
    await check('cancelled, abandoned retried');

    // Deleting writes no event: retention's deletions are counted all the same.
    const pruned = await storage.retention.pruneBatch({
      olderThanMs: null,
      belowId: Number.MAX_SAFE_INTEGER,
      limit: 100,
      nowMs: Date.now(),
    });
    assert.equal(pruned.messages, 2, 'the SENT and the CANCELLED message');
    await check('after retention deleted what was finished');
    await enqueue(messages, [newMessage(7)], T0 + 1);
    await handOver();
    await check('a message queued after the prune');
  });

  test('renewing a lease keeps a slow send its message; the old lease no longer records', async (t) => {
    const { messages } = await fresh(t);
    await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const [a, b] = (await claim(messages, Date.now(), 2, { leaseMs: 200 })).map((c) => c.message);
    const stolen = { messageId: b!.id, leaseExpiresAtMs: 1 };
    const { renewed } = await messages.recordAndClaim([], {
      nowMs: Date.now(),
      // As long as the claims' leases (test/helpers/queue.ts): on SQLite a lease ending further
      // ahead than a claim would set means the clock went back, and is due.
      leaseMs: 60_000,
      limit: 0,
      smtpConfigVersion: null,
      renew: [{ messageId: a!.id, leaseExpiresAtMs: a!.leaseExpiresAtMs! }, stolen],
    });
    assert.deepEqual(
      renewed.map((r) => r.messageId),
      [a!.id],
      'only a lease the row still carries is renewed',
    );
    const lease = renewed[0]!.leaseExpiresAtMs;
    assert.ok(lease > a!.leaseExpiresAtMs!);
    // b's lease runs out and another claim takes it; a's was renewed, so nobody takes a.
    await waitFor(async () => (await claim(messages, Date.now(), 10)).length === 1, {
      description: "b's short lease to run out and b to be claimed again",
    });
    assert.deepEqual(await claim(messages, Date.now(), 10), []);
    assert.deepEqual(await record(messages, [sentRecord(a!, Date.now())]), [], 'old lease');
    const sent = await record(messages, [
      { ...sentRecord(a!, Date.now()), leaseExpiresAtMs: lease },
    ]);
    assert.deepEqual(
      sent.map((e) => [e.messageId, e.status]),
      [[a!.id, 'SENT']],
    );
  });

  test('release puts unsent claims back, due now', async (t) => {
    const { messages } = await fresh(t);
    await enqueue(messages, [newMessage(1)], T0);
    const [claimed] = await claim(messages, Date.now(), 1);
    const released = await messages.release(
      [{ messageId: claimed!.message.id, leaseExpiresAtMs: claimed!.message.leaseExpiresAtMs! }],
      Date.now(),
      null,
    );
    assert.deepEqual(
      released.map((e) => [e.status, e.previousStatus, e.reason]),
      [['QUEUED', 'PROCESSING', 'released_on_shutdown']],
    );
    assert.equal((await claim(messages, Date.now(), 1)).length, 1);
  });

  test('retry and cancel: the transitions, and not found or conflict otherwise', async (t) => {
    const { messages } = await fresh(t);
    const [a, b, c] = await enqueue(
      messages,
      [1, 2, 3].map((n) => newMessage(n)),
      T0,
    );
    const cancelled = await messages.cancel(a!.id, T0 + 1, null);
    assert.equal(cancelled.kind, 'changed');
    assert.equal(cancelled.kind === 'changed' && cancelled.event.reason, 'cancelled');
    assert.equal((await messages.cancel(a!.id, T0 + 2, null)).kind, 'conflict');
    assert.equal((await messages.cancel(999_999, T0, null)).kind, 'not_found');
    assert.equal((await messages.retry(b!.id, 5, T0, null)).kind, 'conflict');
    const retried = await messages.retry(a!.id, 7, T0 + 3, null);
    assert.equal(retried.kind, 'changed');
    if (retried.kind === 'changed') {
      assert.deepEqual(
        [retried.message.status, retried.message.maxAttempts, retried.event.previousStatus],
        ['QUEUED', 7, 'CANCELLED'],
      );
    }
    const many = await messages.cancelMany([a!.id, b!.id, c!.id, 999_999], T0 + 4, null);
    assert.equal(many.length, 3);
    const back = await messages.retryMany([a!.id, b!.id], 5, T0 + 5, null);
    assert.deepEqual(
      back.map((changed) => changed.message.id),
      [a!.id, b!.id],
    );
  });

  test('expediting makes failed messages due now; other waits stay', async (t) => {
    const { messages } = await fresh(t);
    await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const claimed = (await claim(messages, Date.now(), 2)).map((c) => c.message);
    await record(messages, [
      retryRecord(claimed[0]!, Date.now(), 3_600_000, failure('AUTH')),
      retryRecord(claimed[1]!, Date.now(), 3_600_000, failure('RECIPIENT_REJECTED')),
    ]);
    assert.equal(await messages.expediteFailedWith(['AUTH', 'TLS'], Date.now()), 1);
    const due = await claim(messages, Date.now(), 10);
    assert.deepEqual(
      due.map((c) => c.message.id),
      [claimed[0]!.id],
    );
  });

  test('the event log: one order, filters, per-message timelines, the newest position', async (t) => {
    const { messages, events } = await fresh(t);
    assert.deepEqual(await events.latest(), LOG_START);
    const [a, b] = await enqueue(
      messages,
      [newMessage(1, { recipient: 'Ada@Example.com' }), newMessage(2)],
      T0,
    );
    const claimed = await claim(messages, Date.now(), 2);
    await record(messages, [sentRecord(claimed[0]!.message, Date.now())]);
    const all = await settledLog(events, 5);
    assert.equal(all.length, 5);
    for (let i = 1; i < all.length; i++) {
      assert.ok(comparePositions(all[i - 1]!, all[i]!) < 0, 'strictly increasing positions');
    }
    assert.deepEqual(await events.latest(), { xid: all[4]!.xid, seq: all[4]!.seq });
    // Paging by position gives the same sequence.
    const paged = [];
    for (let after = LOG_START as { xid: number; seq: number }; ;) {
      const page = await events.listAfter(after, 2);
      if (page.length === 0) break;
      paged.push(...page);
      after = page.at(-1)!;
    }
    assert.deepEqual(paged, all);
    const ada = await events.listAfter(LOG_START, 100, { recipientKey: 'ada@example.com' });
    assert.deepEqual(
      ada.map((e) => e.status),
      ['QUEUED', 'PROCESSING', 'SENT'],
    );
    assert.ok(ada.every((e) => e.recipient === 'Ada@Example.com'));
    const processing = await events.listAfter(LOG_START, 100, { statuses: ['PROCESSING'] });
    assert.deepEqual(
      processing.map((e) => e.messageId),
      [a!.id, b!.id],
    );
    assert.deepEqual(
      (await events.listForMessage(a!.id)).map((e) => e.reason),
      ['queued', 'claimed', 'sent'],
    );
  });

  test('lists, counts and bulk ids agree on every filter', async (t) => {
    const { messages } = await fresh(t);
    const stored = await enqueue(
      messages,
      Array.from({ length: 30 }, (_, i) =>
        newMessage(i, { recipient: `r${i % 4}@Example.com`, subject: `Note ${i}` }),
      ),
      T0,
    );
    const claimed = (await claim(messages, Date.now(), 10)).map((c) => c.message);
    await record(messages, [
      ...claimed.slice(0, 5).map((m) => sentRecord(m, Date.now())),
      // Attempted a second ago and due again at once.
      ...claimed.slice(5).map((m) => retryRecord(m, Date.now() - 1_000, 0, failure('TIMEOUT'))),
    ]);
    // Those five fail again, on configuration version 1: two TIMEOUT attempts each, counted once.
    const retried = new Set(claimed.slice(5).map((m) => m.id));
    const again = (await claim(messages, Date.now(), 30)).map((c) => c.message);
    assert.equal(again.filter((m) => retried.has(m.id)).length, 5);
    await messages.release(
      again
        .filter((m) => !retried.has(m.id))
        .map((m) => ({ messageId: m.id, leaseExpiresAtMs: m.leaseExpiresAtMs! })),
      Date.now(),
      null,
    );
    await record(
      messages,
      again
        .filter((m) => retried.has(m.id))
        .map((m) => ({
          ...retryRecord(m, Date.now(), 3_600_000, failure('TIMEOUT')),
          smtpConfigVersion: 1,
        })),
    );
    const filters = [
      {},
      { statuses: ['SENT' as const] },
      { statuses: ['QUEUED' as const], everFailed: true },
      { recipient: 'R1@EXAMPLE.COM' },
      { errorCodes: ['TIMEOUT' as const] },
      { errorCodes: ['TIMEOUT' as const, 'AUTH' as const] },
      { smtpConfigVersion: 1 },
      { lastErrorCodes: ['TIMEOUT' as const] },
      { subjectContains: 'note 1' },
      { createdAfterMs: T0, createdBeforeMs: T0 + 1 },
      { updatedAfterMs: T0 + 1 },
    ];
    for (const filter of filters) {
      const ids = await messages.idsMatching(filter, 1_000);
      const pages = [];
      for (let afterId: number | null = null; ;) {
        const page = await messages.list(filter, 7, afterId);
        pages.push(...page.messages.map((m) => m.id));
        if (!page.hasNextPage) break;
        afterId = page.messages.at(-1)!.id;
      }
      assert.deepEqual(pages, [...ids].reverse(), JSON.stringify(filter));
      assert.equal(await messages.countMatching(filter), ids.length, JSON.stringify(filter));
    }
    assert.equal(await messages.countMatching({ recipient: 'r1@example.com' }), 8);
    assert.equal(await messages.countMatching({ errorCodes: ['TIMEOUT'] }), 5);
    assert.equal(stored.length, 30);
    assert.deepEqual(await messages.queueSnapshot(), {
      queued: 25,
      processing: 0,
      oldestQueuedAtMs: T0,
    });
    assert.deepEqual(await messages.countByStatus(), {
      QUEUED: 25,
      PROCESSING: 0,
      SENT: 5,
      ABANDONED: 0,
      CANCELLED: 0,
      SUPPRESSED: 0,
    });
  });

  test('statistics: totals count each change once, by minute and by hour', async (t) => {
    const { messages, stats } = await fresh(t);
    await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const claimed = await claim(messages, Date.now(), 2);
    const now = Date.now();
    await record(messages, [
      sentRecord(claimed[0]!.message, now),
      retryRecord(claimed[1]!.message, now, 1_000, failure('AUTH')),
    ]);
    const totals = await stats.totals(T0 - 60_000, now + 60_000);
    assert.equal(totals.get('reason|queued'), 2);
    assert.equal(totals.get('reason|claimed'), 2);
    assert.equal(totals.get('reason|sent'), 1);
    assert.equal(totals.get('reason|retry_scheduled'), 1);
    assert.equal(totals.get('failure_code|AUTH'), 1);
    assert.equal(totals.get('failure_domain|example.com'), 1);
    assert.equal(totals.get('attempt|ok'), 1);
    assert.equal(totals.get('attempt|failed'), 1);
    // Only the queueing happened in the first minute.
    const early = await stats.totals(T0, T0 + 60_000);
    assert.deepEqual(Object.fromEntries(early), { 'reason|queued': 2 });
  });

  test('statistics: records that carry what the claim read count the same (PostgreSQL writes them in one statement)', async (t) => {
    const { messages, stats } = await fresh(t);
    await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const [a, b] = (await claim(messages, Date.now(), 2)).map((c) => c.message);
    const now = Date.now();
    const events = await record(messages, [
      sentRecord(a!, now),
      {
        ...retryRecord(b!, now, 1_000, failure('AUTH')),
        claimed: { createdAtMs: b!.createdAtMs, recipient: b!.recipient },
      },
    ]);
    assert.deepEqual(
      events.map((e) => [e.messageId, e.status, e.recipient, e.attempt]).sort(),
      [
        [a!.id, 'SENT', a!.recipient, 1],
        [b!.id, 'QUEUED', b!.recipient, 1],
      ].sort(),
    );
    const totals = await stats.totals(T0 - 60_000, now + 60_000);
    assert.equal(totals.get('reason|claimed'), 2);
    assert.equal(totals.get('reason|sent'), 1);
    assert.equal(totals.get('reason|retry_scheduled'), 1);
    assert.equal(totals.get('failure_code|AUTH'), 1);
    assert.equal(totals.get('failure_domain|example.com'), 1);
    assert.equal(totals.get('attempt|ok'), 1);
    assert.equal(totals.get('attempt|failed'), 1);
    assert.equal(totals.get('final_attempts|1'), 1);
  });

  test('retention prunes old finished messages and says how far', async (t) => {
    const { messages, retention, events } = await fresh(t);
    await enqueue(messages, [newMessage(1), newMessage(2)], T0);
    const claimed = await claim(messages, T0, 1);
    const [sent] = await record(messages, [sentRecord(claimed[0]!.message, T0)]);
    const result = await retention.pruneBatch({
      olderThanMs: T0 + 1_000,
      belowId: null,
      limit: 100,
      nowMs: T0 + 2_000,
    });
    assert.deepEqual(result, { messages: 1, dispatches: 1, events: 3 });
    // The newest pruned event: the message's SENT.
    assert.deepEqual(await events.prunedThrough(), { xid: sent!.xid, seq: sent!.seq });
    const left = await settledLog(events, 1);
    assert.deepEqual(
      left.map((e) => e.reason),
      ['queued'],
    );
  });

  test('SMTP configurations: versions, newest first, the password encrypted at rest', async (t) => {
    const secrets = createSecretBox([Buffer.alloc(32, 7).toString('base64')]);
    const storage = await fresh(t, { secrets });
    const { smtpConfigs } = storage;
    assert.equal(await smtpConfigs.latest(), null);
    const uri = 'smtp://user:s3cret@smtp.example.com:587/';
    const v1 = await smtpConfigs.insert({
      connectionUri: uri,
      fromAddress: 'a@example.com',
      fromName: null,
      headers: [{ name: 'X-Tag', value: '1' }],
      createdAtMs: T0,
    });
    const v2 = await smtpConfigs.insert({ ...v1, fromName: 'Two', createdAtMs: T0 + 1 });
    assert.ok(v2.version > v1.version);
    assert.deepEqual(await smtpConfigs.latest(), v2);
    assert.deepEqual(
      (await smtpConfigs.list()).map((c) => c.version),
      [v2.version, v1.version],
    );
    assert.equal(v1.connectionUri, uri);
    assert.equal(await smtpConfigs.anyEncrypted(), true);
    assert.equal(await smtpConfigs.encryptAtRest(), 0);
  });

  test('API tokens: stored by digest, revoked once, touched', async (t) => {
    const { apiTokens } = await fresh(t);
    assert.equal(await apiTokens.anyActive(), false);
    assert.equal(await apiTokens.anyStored(), false);
    const token = await apiTokens.insert({
      name: 'ci',
      scope: 'read',
      tokenHash: 'ab'.repeat(32),
      createdAtMs: T0,
      createdVia: 'loopback',
      createdByTokenId: null,
    });
    assert.equal(await apiTokens.anyActive(), true);
    assert.deepEqual(await apiTokens.findActiveByHash('ab'.repeat(32)), token);
    await apiTokens.touch(token.id, T0 + 5);
    assert.equal((await apiTokens.find(token.id))!.lastUsedAtMs, T0 + 5);
    const revoked = await apiTokens.revokeWithDescendants(token.id, T0 + 10);
    assert.equal(revoked!.token.revokedAtMs, T0 + 10);
    assert.deepEqual(revoked!.revokedIds, [token.id]);
    const again = await apiTokens.revokeWithDescendants(token.id, T0 + 20);
    assert.equal(again!.token.revokedAtMs, T0 + 10);
    assert.deepEqual(again!.revokedIds, []);
    assert.equal(await apiTokens.findActiveByHash('ab'.repeat(32)), null);
    assert.equal(await apiTokens.anyActive(), false);
    assert.equal(await apiTokens.anyStored(), true);
    assert.equal(await apiTokens.revokeWithDescendants(999_999, T0), null);
    assert.equal((await apiTokens.list()).length, 1);
  });

  test('revoking a token revokes what it created, however deep, through revoked ones too', async (t) => {
    const { apiTokens } = await fresh(t);
    const add = (name: string, parent: number | null) =>
      apiTokens.insert({
        name,
        scope: 'admin',
        tokenHash: name.padEnd(64, '0'),
        createdAtMs: T0,
        createdVia: parent === null ? 'api_token' : 'token',
        createdByTokenId: parent,
      });
    const root = await add('root', null);
    const child = await add('child', root.id);
    const grandchild = await add('grand', child.id);
    const other = await add('other', null);
    // The child is revoked first: its own child stays the root's descendant.
    assert.deepEqual((await apiTokens.revokeWithDescendants(child.id, T0 + 1))!.revokedIds, [
      child.id,
      grandchild.id,
    ]);
    const great = await add('great', grandchild.id);
    const result = await apiTokens.revokeWithDescendants(root.id, T0 + 2);
    assert.deepEqual(result!.revokedIds, [root.id, great.id]);
    assert.equal((await apiTokens.find(great.id))!.revokedAtMs, T0 + 2);
    assert.equal((await apiTokens.find(grandchild.id))!.revokedAtMs, T0 + 1);
    assert.equal((await apiTokens.find(other.id))!.revokedAtMs, null);
    assert.deepEqual(
      [
        (await apiTokens.find(great.id))!.createdVia,
        (await apiTokens.find(great.id))!.createdByTokenId,
      ],
      ['token', grandchild.id],
    );
  });

  test('rate buckets: a burst, then a refill; several buckets all or none', async (t) => {
    const { rates } = await fresh(t);
    const bucket = (key: string, count = 1) => ({ key, capacity: 3, refillMs: 3_600_000, count });
    assert.deepEqual(await rates.take([bucket('a', 2)]), { ok: true });
    assert.deepEqual(await rates.take([bucket('a')]), { ok: true });
    const refused = await rates.take([bucket('a')]);
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.short.length, 1);
      assert.equal(refused.short[0]!.key, 'a');
      // One token comes back every refillMs / capacity (20 minutes), give or take the time since.
      assert.ok(Math.abs(refused.short[0]!.retryAfterMs - 1_200_000) < 60_000);
    }
    // b has room, a has none: nothing is taken from b either.
    assert.equal((await rates.take([bucket('b', 3), bucket('a')])).ok, false);
    assert.deepEqual(await rates.take([bucket('b', 3)]), { ok: true });
    // Concurrent takes never grant more than a bucket holds.
    const results = await Promise.all(Array.from({ length: 10 }, () => rates.take([bucket('c')])));
    assert.equal(results.filter((result) => result.ok).length, 3);
  });

  test('a change announced is heard by this instance', async (t) => {
    const { signals } = await fresh(t);
    const heard: unknown[] = [];
    const stop = signals.subscribe((change) => heard.push(change));
    signals.announce({ kind: 'token-revoked', tokenId: 3 });
    stop();
    signals.announce({ kind: 'smtp-config', version: 2 });
    assert.deepEqual(heard, [{ kind: 'token-revoked', tokenId: 3 }]);
  });

  /** Two messages queued, then claimed: four events, handed to the feed as the writers do. */
  async function queueAndClaimTwo(storage: Storage, feed: Pick<EventFeed, 'committed'>) {
    const results = await storage.messages.enqueueMany([newMessage(1), newMessage(2)], T0);
    feed.committed(results.flatMap((r) => (r.kind === 'queued' ? [r.event] : [])));
    const claimed = await claim(storage.messages, Date.now(), 2);
    feed.committed(claimed.map((c) => c.event));
  }

  test('the feed publishes every committed event once, in the log order', async (t) => {
    const storage = await fresh(t);
    const published: { xid: number; seq: number }[] = [];
    const feed = await storage.startFeed({ publish: (events) => published.push(...events) });
    try {
      await queueAndClaimTwo(storage, feed);
      await waitFor(() => published.length === 4, { description: 'four events published' });
      const log = await storage.events.listAfter(LOG_START, 100);
      assert.deepEqual(
        published.map((e) => [e.xid, e.seq]),
        log.map((e) => [e.xid, e.seq]),
      );
    } finally {
      await feed.close();
    }
  });

  test('the feed hands each batch to beforePublish before it publishes it', async (t) => {
    const storage = await fresh(t);
    const seen: number[] = [];
    const published: number[] = [];
    const feed = await storage.startFeed({
      beforePublish: async (events) => {
        seen.push(...events.map((e) => e.seq));
      },
      publish: (events) => {
        // Every event published was handed over first, with its batch.
        for (const event of events) assert.ok(seen.includes(event.seq), `${event.seq} primed`);
        published.push(...events.map((e) => e.seq));
      },
    });
    try {
      await queueAndClaimTwo(storage, feed);
      await waitFor(() => published.length === 4, { description: 'four events published' });
      assert.deepEqual(seen, published);
    } finally {
      await feed.close();
    }
  });
});
