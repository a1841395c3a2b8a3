import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
import { createDispatchRepository } from '../../src/db/dispatches.ts';
import { createEventRepository } from '../../src/db/events.ts';
import { createMessageRepository, type NewMessage } from '../../src/db/messages.ts';
import { createRetentionRepository } from '../../src/db/retention.ts';
import { createStatsRepository } from '../../src/db/stats.ts';
import { createEventBus } from '../../src/delivery/event-bus.ts';
import { streamEvents } from '../../src/delivery/event-stream.ts';
import { startRetentionJob } from '../../src/delivery/retention-job.ts';
import { createLogger } from '../../src/logger.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { startService, subscribe, tempDir, wsClient } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Retention prunes finished messages with their dispatches and events, never queued ones, and
// a cursor into pruned history is refused with a clear error rather than silently skipping.

const DAY_MS = 86_400_000;

const message = (n: number): NewMessage => ({
  recipient: `r${n}@example.com`,
  subject: 's',
  text: 't',
  html: null,
  headers: [],
  messageId: `<m${n}@example.com>`,
  maxAttempts: 3,
  idempotencyKey: null,
  requestHash: null,
  smtpConfigVersion: null,
});

/**
 * A fresh database with `sent` messages sent at `atMs` and `queued` more still waiting, closed
 * when `scope` ends.
 */
function seed(scope: Scope, sent: number, queued: number, atMs: number) {
  const dir = tempDir(scope);
  const database = openDatabase(join(dir.path, 'retention.db'));
  closeWith(scope, () => database.close());
  const stats = createStatsRepository(database.db);
  const messages = createMessageRepository(database.db, stats);
  messages.enqueueMany(
    Array.from({ length: sent }, (_, i) => message(i)),
    atMs,
  );
  const claimed = messages.claimDue({
    nowMs: atMs,
    leaseMs: 60_000,
    limit: sent,
    smtpConfigVersion: null,
  });
  messages.recordAttempts(
    claimed.map(({ message: m }) => ({
      messageId: m.id,
      leaseExpiresAtMs: m.leaseExpiresAtMs!,
      attempt: 1,
      atMs,
      durationMs: 5,
      smtpConfigVersion: null,
      response: '250 ok',
      error: null,
      transcript: null,
      next: { status: 'SENT' as const, reason: 'sent' as const },
    })),
  );
  messages.enqueueMany(
    Array.from({ length: queued }, (_, i) => message(sent + i)),
    atMs,
  );
  return {
    database,
    stats,
    messages,
    events: createEventRepository(database.db),
    dispatches: createDispatchRepository(database.db),
    retention: createRetentionRepository(database.db),
  };
}

describe('retention', () => {
  test('prunes the oldest finished messages over the cap, batch by batch, never queued ones', (t) => {
    const t0 = Date.UTC(2026, 0, 1);
    const { messages, events, dispatches, retention, stats } = seed(t, 7, 3, t0);
    const before = stats.totals(t0 - DAY_MS, t0 + DAY_MS);
    const belowId = retention.capId(2);
    assert.equal(belowId, 9);
    const request = { olderThanMs: null, belowId, limit: 3, nowMs: t0 };

    // Keep 2 of 10: the 7 sent (ids 1-7) may go; the 3 queued (ids 8-10) stay whatever the cap.
    assert.deepEqual(retention.pruneBatch(request), { messages: 3, dispatches: 3, events: 9 });
    assert.deepEqual(retention.pruneBatch(request), { messages: 3, dispatches: 3, events: 9 });
    assert.deepEqual(retention.pruneBatch(request), { messages: 1, dispatches: 1, events: 3 });
    assert.deepEqual(retention.pruneBatch(request), { messages: 0, dispatches: 0, events: 0 });

    const left = messages.list({}, 50, null);
    assert.deepEqual(
      left.messages.map((m) => [m.id, m.status]),
      [
        [10, 'QUEUED'],
        [9, 'QUEUED'],
        [8, 'QUEUED'],
      ],
    );
    for (const id of [1, 4, 7]) {
      assert.equal(messages.find(id), null);
      assert.deepEqual(events.listForMessage(id), []);
      assert.deepEqual(dispatches.listForMessage(id), []);
    }
    assert.equal(events.listForMessage(8).length, 1);
    // The newest pruned event: message 7's SENT (7 queued + 7 claimed + 7 sent = seq 21).
    assert.equal(events.prunedThroughSeq(), 21);
    assert.deepEqual(
      events.listAfter(0, 1).map((e) => e.seq),
      [22],
    );
    // Statistics come from counters, which pruning leaves alone.
    assert.deepEqual(stats.totals(t0 - DAY_MS, t0 + DAY_MS), before);
  });

  test('RETENTION_DAYS prunes finished messages older than the cutoff only', async (t) => {
    const now = Date.UTC(2026, 5, 1);
    const { messages, retention } = seed(t, 4, 1, now - 10 * DAY_MS);
    // A newer sent message that must survive a 7-day retention.
    messages.enqueueMany([message(99)], now - DAY_MS);
    const job = startRetentionJob({
      retention,
      options: { retentionDays: 7, maxMessages: null, intervalMs: 3_600_000, batchSize: 2 },
      log: createLogger({ level: 'silent', name: 'test' }),
      now: () => now,
    });
    closeWith(t, () => job.close());
    assert.equal(await job.runOnce(), 4);
    assert.deepEqual(
      messages.list({}, 50, null).messages.map((m) => m.status),
      ['QUEUED', 'QUEUED'],
    );
  });

  test('a replay that pruning overtakes ends with CURSOR_EXPIRED instead of skipping', async (t) => {
    const t0 = Date.UTC(2026, 0, 1);
    // 5 messages: seq 1-5 queued, 6-10 claimed, 11-15 sent.
    const { events, retention } = seed(t, 5, 0, t0);
    const replay = (afterSeq: number) =>
      streamEvents({
        events,
        bus: createEventBus(),
        afterSeq,
        filter: {},
        replayPageSize: 2,
        prunedThroughSeq: () => events.prunedThroughSeq(),
      });
    const behind = replay(0);
    const ahead = replay(12);
    assert.deepEqual(
      [(await behind.next()).value, (await behind.next()).value].map((e: any) => e.seq),
      [1, 2],
    );
    // Messages 1 and 2 go (their newest event is 12): the reader at seq 2 would skip 3-12.
    const belowId = retention.capId(3);
    assert.equal(belowId, 3);
    retention.pruneBatch({ olderThanMs: null, belowId, limit: 500, nowMs: t0 });
    assert.equal(events.prunedThroughSeq(), 12);
    assert.deepEqual((await behind.next()).value, { cursorExpired: true });
    assert.equal((await behind.next()).done, true);
    // A reader at the newest pruned event has missed nothing and carries on.
    assert.equal(((await ahead.next()).value as { seq: number }).seq, 13);
    await ahead.return!();
  });

  test('a cursor into pruned history is CURSOR_EXPIRED; "0" replays from the oldest kept', async (t) => {
    const svc = await startService(t, {
      RETENTION_MAX_MESSAGES: '2',
      RETENTION_INTERVAL_MS: '1000',
    });
    for (let i = 0; i < 5; i++) {
      const sent = await svc.gql(
        `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
        { to: `r${i}@example.com` },
      );
      assert.equal(sent.errors, undefined);
    }
    const kept = await waitFor(
      async () => {
        const page = await svc.gql(`{ messages { totalCount edges { node { id status } } } }`);
        const nodes = page.data.messages.edges.map((e: any) => e.node);
        return page.data.messages.totalCount === 2 && nodes.every((n: any) => n.status === 'SENT')
          ? nodes.map((n: any) => n.id)
          : null;
      },
      { description: 'retention to keep the 2 newest messages' },
    );
    assert.deepEqual(kept, ['5', '4']);

    const client = wsClient(t, svc.url);
    const query = `subscription ($after: String) { messageEvents(after: $after) { cursor status message { id } } }`;
    const expired = subscribe(client, query, { after: '1' });
    await waitFor(() => expired.closed || expired.errors.length > 0);
    const error = (expired.errors as any[]).flat()[0];
    assert.equal(error.extensions.code, 'CURSOR_EXPIRED');
    assert.match(error.message, /pruned by retention/);
    assert.match(error.message, /messages query/);
    assert.match(error.message, /after: "0"/);

    const replay = subscribe(client, query, { after: '0' });
    await waitFor(() => replay.received.length >= 6, { description: 'the kept events' });
    const timelines = new Map<string, string[]>();
    for (const { messageEvents: event } of replay.received as any[]) {
      timelines.set(event.message.id, [...(timelines.get(event.message.id) ?? []), event.status]);
    }
    assert.deepEqual(Object.fromEntries(timelines), {
      '4': ['QUEUED', 'PROCESSING', 'SENT'],
      '5': ['QUEUED', 'PROCESSING', 'SENT'],
    });

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /^mailscope_retention_pruned_messages_total 3$/m);

    // History statistics survive: all five still count as sent.
    const stats = await svc.gql(`{ deliveryStats { sent } }`);
    assert.equal(stats.data.deliveryStats.sent, 5);
  });
});
