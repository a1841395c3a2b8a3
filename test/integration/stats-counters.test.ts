import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  createCounterBatch,
  HOUR_MS,
  latencyBucket,
  latencyBucketUpperMs,
  MINUTE_MS,
} from '../../src/db/counters.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import type { MessageEvent } from '../../src/domain/message.ts';

// Counters on a real SQLite file: totals over any period must equal counting the events one by
// one, to the minute, whether the period spans hours or not.

const dir = mkdtempSync(join(tmpdir(), 'mailscope-stats-'));
const database = openDatabase(join(dir, 'stats.db'));
after(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});
const stats = createStatsRepository(database.db);

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

function sentEvent(atMs: number): MessageEvent {
  return {
    seq: 0,
    xid: 0,
    messageId: 1,
    recipient: 'a@example.com',
    atMs,
    status: 'SENT',
    previousStatus: 'PROCESSING',
    reason: 'sent',
    attempt: 1,
    error: null,
    smtpConfigVersion: null,
    outcome: null,
    report: null,
  };
}

test('totals over a period equal the events in it, at minute resolution', () => {
  // One sent message every 7 minutes for 10 hours.
  const times: number[] = [];
  for (let at = T0; at < T0 + 10 * HOUR_MS; at += 7 * MINUTE_MS) times.push(at);
  // Written in a few batches, as transactions would.
  for (let i = 0; i < times.length; i += 13) {
    const batch = createCounterBatch();
    for (const at of times.slice(i, i + 13))
      batch.countEvent(sentEvent(at), { createdAtMs: at - 50, attempts: 1 });
    database.db.transaction(() => stats.write(batch));
  }
  const ranges: [number, number][] = [
    [T0, T0 + 10 * HOUR_MS],
    [T0 + 13 * MINUTE_MS, T0 + 5 * HOUR_MS + 29 * MINUTE_MS],
    [T0 + 2 * HOUR_MS + MINUTE_MS, T0 + 2 * HOUR_MS + 59 * MINUTE_MS],
    [T0 + 59 * MINUTE_MS, T0 + 3 * HOUR_MS],
    [T0 - HOUR_MS, T0 + 20 * HOUR_MS],
  ];
  for (const [since, until] of ranges) {
    const expected = times.filter((at) => at >= since && at < until).length;
    assert.equal(
      stats.totals(since, until).get('reason|sent') ?? 0,
      expected,
      `${since}..${until}`,
    );
  }
});

test('latency buckets bound their values within 10%', () => {
  for (const ms of [1, 2, 9, 10, 11, 150, 999, 1_000, 12_345, 3_600_000]) {
    const upper = latencyBucketUpperMs(latencyBucket(ms));
    assert.ok(upper >= ms * 0.95 && upper <= ms * 1.1 + 1, `${ms} -> ${upper}`);
  }
});
