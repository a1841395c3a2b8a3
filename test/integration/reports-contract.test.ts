import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Storage } from '../../src/db/port.ts';
import type { Message } from '../../src/domain/message.ts';
import type {
  BounceType,
  DeliveryOutcome,
  IncomingReport,
  ReportSource,
} from '../../src/domain/report.ts';
import { startRetentionJob } from '../../src/ops/retention-job.ts';
import { createLogger } from '../../src/logger.ts';
import { claim, enqueue, newMessage, record, sentRecord } from '../helpers/queue.ts';
import type { Scope } from '../helpers/scope.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';

// Reports after SENT and the suppression list, through the storage port, on the suite's
// dialect (npm test runs it on SQLite and on PostgreSQL).

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

async function fresh(scope: Scope): Promise<Storage> {
  return (await openTestStorage(scope)).storage;
}

/** Messages 1..n stored, claimed and recorded SENT. */
async function sentMessages(storage: Storage, count: number): Promise<Message[]> {
  const stored = await enqueue(
    storage.messages,
    Array.from({ length: count }, (_, index) => newMessage(index + 1)),
    T0,
  );
  const claimed = await claim(storage.messages, Date.now(), count);
  assert.equal(claimed.length, count);
  await record(
    storage.messages,
    claimed.map((entry) => sentRecord(entry.message, Date.now())),
  );
  return Promise.all(stored.map(async (message) => (await storage.messages.find(message.id))!));
}

function report(
  target: IncomingReport['target'],
  outcome: DeliveryOutcome,
  options: {
    id?: string;
    bounceType?: BounceType | null;
    source?: ReportSource;
    recipient?: string | null;
  } = {},
): IncomingReport {
  return {
    target,
    outcome,
    sourceEventId: options.id ?? `${outcome}-${Math.random()}`,
    recipient: options.recipient ?? null,
    detail: {
      source: options.source ?? 'DSN',
      bounceType: options.bounceType ?? (outcome === 'BOUNCED' ? 'HARD' : null),
      enhancedStatus: outcome === 'BOUNCED' ? '5.1.1' : null,
      diagnostic: outcome === 'BOUNCED' ? 'smtp; 550 5.1.1 <r1@example.com>: user unknown' : null,
      remoteMta: 'dns; mx.example.com',
      hint: null,
    },
  };
}

describe(`reports and suppressions (${TEST_DIALECT})`, () => {
  test('a report is an event with an outcome; the status stays SENT', async (t) => {
    const storage = await fresh(t);
    const [message] = await sentMessages(storage, 1);
    const result = await storage.reports.record(
      report({ kind: 'id', id: message!.id }, 'DELIVERED', { id: 'd1' }),
      T0 + 1_000,
    );
    assert.equal(result.kind, 'recorded');
    if (result.kind !== 'recorded') return;
    assert.equal(result.message.status, 'SENT');
    assert.equal(result.message.outcome, 'DELIVERED');
    assert.equal(result.event.status, 'SENT');
    assert.equal(result.event.previousStatus, 'SENT');
    assert.equal(result.event.reason, 'report_dsn');
    assert.equal(result.event.outcome, 'DELIVERED');
    assert.equal(result.event.report?.remoteMta, 'dns; mx.example.com');
    assert.equal(result.suppression, null);
    const timeline = await storage.events.listForMessage(message!.id);
    const reports = timeline.filter((event) => event.outcome !== null);
    assert.deepEqual(
      reports.map((event) => [event.reason, event.outcome, event.report?.source]),
      [['report_dsn', 'DELIVERED', 'DSN']],
    );
  });

  test('the same report twice counts once', async (t) => {
    const storage = await fresh(t);
    const [message] = await sentMessages(storage, 1);
    const first = report({ kind: 'id', id: message!.id }, 'DEFERRED', { id: 'same' });
    assert.equal((await storage.reports.record(first, T0)).kind, 'recorded');
    assert.equal((await storage.reports.record(first, T0 + 5)).kind, 'duplicate');
    // The same event id from another source is another report.
    const other = { ...first, detail: { ...first.detail, source: 'SES' as const } };
    assert.equal((await storage.reports.record(other, T0 + 6)).kind, 'recorded');
    const timeline = await storage.events.listForMessage(message!.id);
    assert.equal(timeline.filter((event) => event.outcome !== null).length, 2);
    const totals = await storage.stats.totals(T0 - 60_000, T0 + 60_000);
    assert.equal(totals.get('outcome|DEFERRED'), 2);
  });

  test('precedence holds whatever order reports arrive in', async (t) => {
    const storage = await fresh(t);
    const messages = await sentMessages(storage, 4);
    const orders: DeliveryOutcome[][] = [
      ['DEFERRED', 'DELIVERED', 'BOUNCED', 'COMPLAINED'],
      ['COMPLAINED', 'BOUNCED', 'DELIVERED', 'DEFERRED'],
      ['BOUNCED', 'DEFERRED', 'DELIVERED'],
      ['DELIVERED', 'DEFERRED'],
    ];
    const expected: DeliveryOutcome[] = ['COMPLAINED', 'COMPLAINED', 'BOUNCED', 'DELIVERED'];
    for (const [index, order] of orders.entries()) {
      for (const outcome of order) {
        const result = await storage.reports.record(
          report({ kind: 'id', id: messages[index]!.id }, outcome, {
            bounceType: outcome === 'BOUNCED' ? 'SOFT' : null,
          }),
          T0,
        );
        assert.equal(result.kind, 'recorded');
      }
      const stored = await storage.messages.find(messages[index]!.id);
      assert.equal(stored?.outcome, expected[index], `order ${order.join(' ')}`);
    }
    // The list filter reads the same column.
    const bounced = await storage.messages.list({ outcomes: ['BOUNCED'] }, 10, null);
    assert.deepEqual(
      bounced.messages.map((message) => message.id),
      [messages[2]!.id],
    );
    assert.equal(await storage.messages.countMatching({ outcomes: ['COMPLAINED'] }), 2);
  });

  test('hard bounces and complaints suppress; soft and undetermined ones never do', async (t) => {
    const storage = await fresh(t);
    const [hard, soft, undetermined, complaint] = await sentMessages(storage, 4);
    const hardResult = await storage.reports.record(
      report({ kind: 'id', id: hard!.id }, 'BOUNCED', { bounceType: 'HARD' }),
      T0,
    );
    assert.equal(hardResult.kind === 'recorded' && hardResult.suppression?.reason, 'HARD_BOUNCE');
    await storage.reports.record(
      report({ kind: 'id', id: soft!.id }, 'BOUNCED', { bounceType: 'SOFT' }),
      T0,
    );
    await storage.reports.record(
      report({ kind: 'id', id: undetermined!.id }, 'BOUNCED', { bounceType: 'UNDETERMINED' }),
      T0,
    );
    await storage.reports.record(
      report({ kind: 'id', id: complaint!.id }, 'COMPLAINED', { source: 'ARF' }),
      T0,
    );
    const entry = await storage.suppressions.find('R1@EXAMPLE.COM');
    assert.equal(entry?.reason, 'HARD_BOUNCE');
    assert.equal(entry?.messageId, hard!.id);
    assert.equal(entry?.source, 'DSN');
    assert.match(entry?.detail ?? '', /user unknown/);
    assert.equal(await storage.suppressions.find(soft!.recipient), null);
    assert.equal(await storage.suppressions.find(undetermined!.recipient), null);
    assert.equal((await storage.suppressions.find(complaint!.recipient))?.reason, 'COMPLAINT');
    const page = await storage.suppressions.list(null, 10, null);
    assert.equal(page.totalCount, 2);
    assert.deepEqual(
      page.suppressions.map((s) => s.address),
      [complaint!.recipient, hard!.recipient],
    );
    // A second hard bounce for a listed address adds nothing.
    const again = await storage.reports.record(
      report({ kind: 'id', id: hard!.id }, 'BOUNCED', { bounceType: 'HARD' }),
      T0,
    );
    assert.equal(again.kind === 'recorded' && again.suppression, null);
    assert.equal((await storage.suppressions.list(null, 10, null)).totalCount, 2);
  });

  test('matching by quoted Message-ID compares the recipient; unmatched reports are kept', async (t) => {
    const storage = await fresh(t);
    const shared = '<shared@example.com>';
    await enqueue(
      storage.messages,
      [newMessage(1, { messageId: shared }), newMessage(2, { messageId: shared })],
      T0,
    );
    const byRecipient = await storage.reports.record(
      report({ kind: 'message_id', messageId: shared, recipient: 'R2@example.com' }, 'DELIVERED'),
      T0,
    );
    assert.equal(
      byRecipient.kind === 'recorded' && byRecipient.message.recipient,
      'r2@example.com',
    );
    // Two messages share it and no recipient says which: not guessed.
    const ambiguous = await storage.reports.record(
      report({ kind: 'message_id', messageId: shared, recipient: null }, 'DELIVERED', {
        id: 'amb',
      }),
      T0,
    );
    assert.equal(ambiguous.kind, 'unmatched');
    const none = await storage.reports.record(
      report({ kind: 'none' }, 'BOUNCED', { id: 'lost', recipient: 'who@example.net' }),
      T0 + 1,
    );
    assert.equal(none.kind, 'unmatched');
    assert.equal(
      (await storage.reports.record(report({ kind: 'none' }, 'BOUNCED', { id: 'lost' }), T0 + 2))
        .kind,
      'duplicate',
    );
    const unknownId = await storage.reports.record(
      report({ kind: 'id', id: 999_999 }, 'DELIVERED', { id: 'gone' }),
      T0 + 3,
    );
    assert.equal(unknownId.kind, 'unmatched');
    const unmatched = await storage.reports.listUnmatched(10);
    assert.deepEqual(
      unmatched.map((entry) => [entry.outcome, entry.recipient]),
      [
        ['DELIVERED', null],
        ['BOUNCED', 'who@example.net'],
        ['DELIVERED', null],
      ],
    );
    const totals = await storage.stats.totals(T0 - 60_000, T0 + 60_000);
    assert.equal(totals.get('unmatched_report|DSN'), 3);
  });

  test('a suppressed address is stored SUPPRESSED, stopped at the claim, and retried once removed', async (t) => {
    const storage = await fresh(t);
    const admin = { kind: 'token' as const, tokenId: 7 };
    // Queued before it was listed.
    const [queued, other] = await enqueue(storage.messages, [newMessage(1), newMessage(2)], T0);
    const added = await storage.suppressions.add(
      { address: 'R1@Example.com', reason: 'MANUAL', detail: 'asked us to stop' },
      admin,
      T0,
    );
    assert.equal(added.created, true);
    assert.equal(added.suppression.createdByTokenId, 7);
    const repeat = await storage.suppressions.add(
      { address: 'r1@example.com', reason: 'MANUAL', detail: null },
      admin,
      T0,
    );
    assert.equal(repeat.created, false);
    assert.equal(repeat.suppression.id, added.suppression.id);
    assert.deepEqual(
      [...(await storage.suppressions.activeKeys(['r1@EXAMPLE.com', 'r2@example.com']))],
      ['r1@example.com'],
    );

    // Stored SUPPRESSED at once when the caller says so.
    const [direct] = await storage.messages.enqueueMany([newMessage(3, { suppressed: true })], T0);
    assert.equal(direct!.message.status, 'SUPPRESSED');
    assert.equal(direct!.kind === 'queued' && direct!.event.reason, 'suppressed');
    // Listed now: the storage looks the list up itself, with or without an idempotency key.
    const listedNow = [
      ...(await storage.messages.enqueueMany([newMessage(1), newMessage(4)], T0)),
      ...(await storage.messages.enqueueMany(
        [newMessage(1, { idempotencyKey: 'k1', requestHash: 'h1' }), newMessage(5)],
        T0,
      )),
    ];
    assert.deepEqual(
      listedNow.map((result) => [
        result.message.status,
        result.kind === 'queued' && result.event.reason,
      ]),
      [
        ['SUPPRESSED', 'suppressed'],
        ['QUEUED', 'queued'],
        ['SUPPRESSED', 'suppressed'],
        ['QUEUED', 'queued'],
      ],
    );
    const counted = await storage.stats.totals(T0 - 60_000, T0 + 60_000);
    assert.equal(counted.get('reason|suppressed'), 3);
    assert.equal(counted.get('reason|queued'), 4);
    for (const result of listedNow) {
      if (result.message.status === 'SUPPRESSED') continue;
      await storage.messages.cancel(result.message.id, T0, null);
    }

    // Queued before it was listed: stopped at the claim, nothing handed to the worker.
    const { claimed, events } = await storage.messages.recordAndClaim([], {
      nowMs: Date.now(),
      leaseMs: 60_000,
      limit: 10,
      smtpConfigVersion: null,
    });
    assert.deepEqual(
      claimed.map((entry) => entry.message.id),
      [other!.id],
    );
    const stopped = events.find((event) => event.messageId === queued!.id);
    assert.equal(stopped?.status, 'SUPPRESSED');
    assert.equal(stopped?.previousStatus, 'QUEUED');
    assert.equal(stopped?.reason, 'suppressed');
    assert.equal((await storage.messages.find(queued!.id))?.status, 'SUPPRESSED');
    assert.equal((await storage.messages.countByStatus()).SUPPRESSED, 4);

    // Retry is refused while listed, works once removed.
    const refused = await storage.messages.retry(queued!.id, 3, T0, null);
    assert.equal(refused.kind, 'conflict');
    assert.equal(await storage.suppressions.remove('R1@EXAMPLE.COM', admin, T0 + 1), true);
    assert.equal(await storage.suppressions.remove('r1@example.com', admin, T0 + 2), false);
    assert.equal(await storage.suppressions.find('r1@example.com'), null);
    const retried = await storage.messages.retry(queued!.id, 3, T0 + 3, null);
    assert.equal(retried.kind, 'changed');
    assert.equal(retried.kind === 'changed' && retried.message.status, 'QUEUED');
    assert.equal(retried.kind === 'changed' && retried.event.previousStatus, 'SUPPRESSED');
    // Listed again later: a new entry, the old one kept on record.
    const relisted = await storage.suppressions.add(
      { address: 'r1@example.com', reason: 'MANUAL', detail: null },
      { kind: 'api_token', tokenId: null },
      T0 + 4,
    );
    assert.equal(relisted.created, true);
    assert.notEqual(relisted.suppression.id, added.suppression.id);
    assert.equal(relisted.suppression.createdBy, 'api_token');
  });
  test('retention prunes unmatched reports older than RETENTION_DAYS and keeps newer ones', async (t) => {
    const storage = await fresh(t);
    const DAY_MS = 86_400_000;
    const now = T0 + 30 * DAY_MS;
    await storage.reports.record(
      report({ kind: 'none' }, 'BOUNCED', { id: 'old' }),
      now - 10 * DAY_MS,
    );
    await storage.reports.record(report({ kind: 'none' }, 'BOUNCED', { id: 'new' }), now - DAY_MS);
    assert.equal((await storage.reports.listUnmatched(10)).length, 2);
    const job = startRetentionJob({
      retention: storage.retention,
      options: { retentionDays: 7, maxMessages: null, intervalMs: 3_600_000 },
      log: createLogger({ level: 'silent', name: 'test' }),
      now: () => now,
    });
    t.after(() => job.close());
    await job.runOnce();
    const left = await storage.reports.listUnmatched(10);
    assert.deepEqual(
      left.map((r) => r.atMs),
      [now - DAY_MS],
    );
  });
});
