import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEventBus } from '../../src/delivery/event-bus.ts';
import { streamEvents } from '../../src/delivery/event-stream.ts';
import { startRetentionJob } from '../../src/ops/retention-job.ts';
import { LOG_START } from '../../src/domain/event-position.ts';
import { createLogger } from '../../src/logger.ts';
import { claim, enqueue, newMessage, record, sentRecord } from '../helpers/queue.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { startService, subscribe, wsClient } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { openTestStorage } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Retention prunes finished messages with their dispatches and events, never queued ones, and
// a cursor into pruned history is refused with a clear error rather than silently skipping.

const DAY_MS = 86_400_000;

/**
 * A fresh database with `sent` messages sent at `atMs` and `queued` more still waiting, closed
 * when `scope` ends.
 */
async function seed(scope: Scope, sent: number, queued: number, atMs: number) {
  const opened = await openTestStorage(scope);
  const { storage } = opened;
  const { messages } = storage;
  await enqueue(
    messages,
    Array.from({ length: sent }, (_, i) => newMessage(i)),
    atMs,
  );
  const claimed = await claim(messages, atMs, sent);
  await record(
    messages,
    claimed.map(({ message: m }) => sentRecord(m, atMs)),
  );
  await enqueue(
    messages,
    Array.from({ length: queued }, (_, i) => newMessage(sent + i)),
    atMs,
  );
  return storage;
}

describe('retention', () => {
  test('prunes the oldest finished messages over the cap, batch by batch, never queued ones', async (t) => {
    const t0 = Date.UTC(2026, 0, 1);
    const { messages, events, dispatches, retention, stats } = await seed(t, 7, 3, t0);
    const before = await stats.totals(t0 - DAY_MS, t0 + DAY_MS);
    const belowId = await retention.capId(2);
    assert.equal(belowId, 9);
    const request = { olderThanMs: null, belowId, limit: 3, nowMs: t0 };

    // Keep 2 of 10: the 7 sent (ids 1-7) may go; the 3 queued (ids 8-10) stay whatever the cap.
    const batch = () => retention.pruneBatch(request);
    assert.deepEqual(await batch(), { messages: 3, dispatches: 3, events: 9 });
    assert.deepEqual(await batch(), { messages: 3, dispatches: 3, events: 9 });
    assert.deepEqual(await batch(), { messages: 1, dispatches: 1, events: 3 });
    assert.deepEqual(await batch(), { messages: 0, dispatches: 0, events: 0 });

    const left = await messages.list({}, 50, null);
    assert.deepEqual(
      left.messages.map((m) => [m.id, m.status]),
      [
        [10, 'QUEUED'],
        [9, 'QUEUED'],
        [8, 'QUEUED'],
      ],
    );
    for (const id of [1, 4, 7]) {
      assert.equal(await messages.find(id), null);
      assert.deepEqual(await events.listForMessage(id), []);
      assert.deepEqual(await dispatches.listForMessage(id), []);
    }
    assert.equal((await events.listForMessage(8)).length, 1);
    // The newest pruned event: message 7's SENT (7 queued + 7 claimed + 7 sent = seq 21).
    assert.equal((await events.prunedThrough()).seq, 21);
    // (On PostgreSQL the log is read where every transaction before is over: wait for that.)
    const oldest = await waitFor(async () => (await events.listAfter(LOG_START, 1))[0]);
    assert.equal(oldest.seq, 22);
    // Statistics come from counters, which pruning leaves alone.
    assert.deepEqual(await stats.totals(t0 - DAY_MS, t0 + DAY_MS), before);
  });

  test('RETENTION_DAYS prunes finished messages older than the cutoff only', async (t) => {
    const now = Date.UTC(2026, 5, 1);
    const { messages, retention } = await seed(t, 4, 1, now - 10 * DAY_MS);
    // A newer sent message that must survive a 7-day retention.
    await enqueue(messages, [newMessage(99)], now - DAY_MS);
    const job = startRetentionJob({
      retention,
      options: { retentionDays: 7, maxMessages: null, intervalMs: 3_600_000, batchSize: 2 },
      log: createLogger({ level: 'silent', name: 'test' }),
      now: () => now,
    });
    closeWith(t, () => job.close());
    assert.equal(await job.runOnce(), 4);
    assert.deepEqual(
      (await messages.list({}, 50, null)).messages.map((m) => m.status),
      ['QUEUED', 'QUEUED'],
    );
  });

  test('a replay that pruning overtakes ends with CURSOR_EXPIRED instead of skipping', async (t) => {
    const t0 = Date.UTC(2026, 0, 1);
    // 5 messages: seq 1-5 queued, 6-10 claimed, 11-15 sent.
    const { events, retention } = await seed(t, 5, 0, t0);
    const all = await waitFor(async () => {
      const log = await events.listAfter(LOG_START, 100);
      return log.length === 15 ? log : null;
    });
    const replay = (after: (typeof all)[number] | typeof LOG_START) =>
      streamEvents({
        events,
        bus: createEventBus(),
        after,
        filter: {},
        replayPageSize: 2,
        prunedThrough: () => events.prunedThrough(),
      });
    const behind = replay(LOG_START);
    const ahead = replay(all[11]!);
    assert.deepEqual(
      [(await behind.next()).value, (await behind.next()).value].map((e: any) => e.seq),
      [1, 2],
    );
    // Messages 1 and 2 go (their newest event is 12): the reader at seq 2 would skip 3-12.
    const belowId = await retention.capId(3);
    assert.equal(belowId, 3);
    await retention.pruneBatch({ olderThanMs: null, belowId, limit: 500, nowMs: t0 });
    assert.equal((await events.prunedThrough()).seq, 12);
    assert.deepEqual((await behind.next()).value, { cursorExpired: true });
    assert.equal((await behind.next()).done, true);
    // A reader at the newest pruned event has missed nothing and carries on.
    assert.equal(((await ahead.next()).value as { seq: number }).seq, 13);
    await ahead.return!();
  });

  test('a replay from the start reads past a pruned message whose events lie among retained ones', async (t) => {
    const t0 = Date.UTC(2026, 0, 1);
    const opened = await openTestStorage(t);
    const { messages, events, retention } = opened.storage;
    // Message 1's last event (its SENT) comes after every event of message 2: a late attempt,
    // or a late delivery report, does that.
    await enqueue(messages, [newMessage(0), newMessage(1)], t0);
    const [first, second] = await claim(messages, t0, 2);
    await record(messages, [sentRecord(second!.message, t0)]);
    await record(messages, [sentRecord(first!.message, t0)]);
    const log = await waitFor(async () => {
      const all = await events.listAfter(LOG_START, 100);
      return all.length === 6 ? all : null;
    });
    await retention.pruneBatch({
      olderThanMs: null,
      belowId: second!.message.id,
      limit: 500,
      nowMs: t0,
    });
    const pruned = await events.prunedThrough();
    assert.deepEqual(pruned, { xid: log.at(-1)!.xid, seq: log.at(-1)!.seq });
    const kept = log.filter((event) => event.messageId === second!.message.id);
    assert.equal(kept.length, 3);

    const replay = streamEvents({
      events,
      bus: createEventBus(),
      after: LOG_START,
      filter: {},
      replayPageSize: 1,
      prunedThrough: () => events.prunedThrough(),
    });
    const seen = [];
    for (let i = 0; i < kept.length; i++) seen.push((await replay.next()).value);
    await replay.return!();
    assert.deepEqual(
      seen.map((event: any) => event.seq),
      kept.map((event) => event.seq),
      'every retained event, none expired',
    );
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
        // The page and the count are separate reads: on PostgreSQL a pruning may fall between.
        return page.data.messages.totalCount === 2 &&
          nodes.length === 2 &&
          nodes.every((n: any) => n.status === 'SENT')
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

describe('the feed after a message with the newest events was pruned', () => {
  test('eventCursor and "0" both lead to a live feed; cursors ahead of the log and history-only filters are refused', async (t) => {
    // late@ is deferred once, then held at its second attempt until released: its SENT comes
    // after every event of the message sent meanwhile, and retention (keeping 1) then prunes it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let lateAttempts = 0;
    const smtp = await startTestSmtpServer(t, {
      rejectRecipients: async (address) => {
        if (address !== 'late@example.com') return null;
        lateAttempts++;
        if (lateAttempts === 1) return { code: 451, message: '4.7.1 Try again later' };
        await held;
        return null;
      },
    });
    const svc = await startService(t, {
      SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
      RETENTION_MAX_MESSAGES: '1',
      RETENTION_INTERVAL_MS: '1000',
    });
    const send = async (to: string) =>
      (
        await svc.gql(
          `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
          { to },
        )
      ).data.sendEmail.id as string;
    const statusOf = async (id: string) =>
      (await svc.gql(`{ message(id: "${id}") { status } }`)).data.message?.status ?? null;
    const late = await send('late@example.com');
    await waitFor(() => lateAttempts === 2, { description: 'the second attempt held' });
    const kept = await send('kept@example.com');
    await waitFor(async () => (await statusOf(kept)) === 'SENT', { description: 'kept SENT' });
    release();
    await waitFor(async () => (await statusOf(late)) === null, {
      description: 'the late message SENT, then pruned',
    });

    const client = wsClient(t, svc.url);
    const query = `subscription ($after: String, $filter: MessageFilter) { messageEvents(after: $after, filter: $filter) { cursor status message { id } } }`;
    const cursor = (await svc.gql(`{ eventCursor }`)).data.eventCursor as string;
    const resumed = subscribe(client, query, { after: cursor });
    const fromStart = subscribe(client, query, { after: '0' });
    const next = await send('next@example.com');
    for (const feed of [resumed, fromStart]) {
      await waitFor(
        () =>
          (feed.received as any[]).some(
            (r) => r.messageEvents.message.id === next && r.messageEvents.status === 'SENT',
          ) || feed.errors.length > 0,
        { description: 'the new message on the feed' },
      );
      assert.deepEqual(feed.errors, []);
    }
    const replayedIds = new Set(
      (fromStart.received as any[]).map((r) => r.messageEvents.message.id),
    );
    assert.ok(replayedIds.has(kept), 'the retained message is replayed from "0"');

    const ahead = subscribe(client, query, { after: String(Number(cursor) + 1_000_000) });
    await waitFor(() => ahead.errors.length > 0 || ahead.closed);
    const aheadError = (ahead.errors as any[]).flat()[0];
    assert.equal(aheadError.extensions.code, 'BAD_USER_INPUT');
    assert.match(aheadError.message, /ahead of this event log/);

    const historyOnly = subscribe(client, query, { filter: { errorCode: ['AUTH'] } });
    await waitFor(() => historyOnly.errors.length > 0 || historyOnly.closed);
    const filterError = (historyOnly.errors as any[]).flat()[0];
    assert.equal(filterError.extensions.code, 'BAD_USER_INPUT');
    assert.equal(filterError.extensions.field, 'filter.errorCode');
  });
});
