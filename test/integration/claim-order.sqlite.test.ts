import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClaimRequest } from '../../src/db/port.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import type { Message } from '../../src/domain/message.ts';
import { newMessage, retryRecord } from '../helpers/queue.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';

// The SQLite claim in the queue's order, across its ranges: leases that ran out, leases granted
// while the clock was ahead, due messages, messages due beyond the horizon (scheduled while the
// clock was ahead), a turn's limit shared between them, and deferred retries never taken
// (on PostgreSQL the database's clock decides, so only this dialect has the clock rules).

const dir = tempDir(fileScope);
let messages: ReturnType<typeof createMessageRepository>;
/** A database of the test's own. */
function fresh(name: string): void {
  const database = openDatabase(join(dir.path, `${name}.db`));
  closeWith(fileScope, () => database.close());
  messages = createMessageRepository(database.db, createStatsRepository(database.db));
}

const T0 = Date.UTC(2026, 10, 1);
const LEASE_MS = 60_000;
const HORIZON_MS = 3_600_000;
const HOUR = 3_600_000;

function claimAt(nowMs: number, limit: number, excludeIds: number[] = []): Message[] {
  const request: ClaimRequest = {
    nowMs,
    leaseMs: LEASE_MS,
    limit,
    smtpConfigVersion: null,
    horizonMs: HORIZON_MS,
    excludeIds,
  };
  return messages.recordAndClaim([], request).claimed.map((claimed) => claimed.message);
}

/** A failed attempt at `atMs` whose retry is due at `nextAttemptAtMs`. */
function retryAt(message: Message, atMs: number, nextAttemptAtMs: number): void {
  // retryRecord's attempt lasts 3 ms; its delay runs from the attempt's end.
  const record = retryRecord(message, atMs, nextAttemptAtMs - atMs - 3);
  assert.equal(messages.recordAndClaim([record], { ...noClaim, nowMs: atMs }).events.length, 1);
}
const noClaim = { leaseMs: LEASE_MS, limit: 0, smtpConfigVersion: null } as const;

const enqueueAt = (nowMs: number, ...ns: number[]) =>
  messages.enqueueMany(
    ns.map((n) => newMessage(n)),
    nowMs,
  );

test('a claim takes the queue in order across its ranges and shares its limit between them', () => {
  fresh('ranges');
  const now = T0 + 2 * HOUR;
  // Claimed at T0: their leases have run out by `now`. `excluded` stands for the caller's own
  // send in flight, which a claim never takes whatever its lease.
  enqueueAt(T0, 1, 2);
  const [ended, excluded] = claimAt(T0, 2).map((m) => m.id) as [number, number];
  // Claimed by a clock a day ahead: its lease ends later than any lease granted now could.
  enqueueAt(T0, 3);
  const [ahead] = claimAt(T0 + 24 * HOUR, 1, [ended, excluded]).map((m) => m.id);
  // Retried: one within the horizon (not due at `now`), two far beyond it (scheduled while the
  // clock was ahead, so due).
  enqueueAt(T0, 4, 5, 6);
  const [deferred, beyond, beyondToo] = claimAt(T0, 3, [ended, excluded, ahead!]);
  retryAt(deferred!, T0, now + HOUR / 2);
  retryAt(beyond!, T0, now + 10 * 24 * HOUR);
  retryAt(beyondToo!, T0, now + 10 * 24 * HOUR);
  const [dueA, dueB] = enqueueAt(T0, 7, 8).map((result) => result.message.id);

  // Expired leases first (the ended one, then the one from the clock ahead), then due messages
  // oldest first, then those due beyond the horizon; the limit counts across every range.
  assert.deepEqual(
    claimAt(now, 3, [excluded]).map((m) => m.id),
    [ended, ahead, dueA],
  );
  assert.deepEqual(
    claimAt(now, 2, [excluded]).map((m) => m.id),
    [beyond!.id, dueB],
  );
  assert.deepEqual(
    claimAt(now, 10, [excluded]).map((m) => m.id),
    [beyondToo!.id],
  );
  // Nothing else is claimable at `now`: the retry within the horizon waits for its time.
  assert.deepEqual(claimAt(now, 10, [excluded]), []);
  const taken = [excluded, ended, ahead!, dueA!, dueB!, beyond!.id, beyondToo!.id];
  assert.deepEqual(
    claimAt(now + HOUR / 2, 10, taken).map((m) => m.id),
    [deferred!.id],
  );
});

test('a backlog of deferred retries is not claimed, and due messages behind it are', () => {
  fresh('backlog');
  const now = T0 + 4 * HOUR;
  const backlog = enqueueAt(T0, ...Array.from({ length: 500 }, (_, n) => 100 + n));
  const claimed = claimAt(T0, backlog.length);
  for (const message of claimed) retryAt(message, T0, now + HOUR / 2);
  const [due] = enqueueAt(T0, 99).map((result) => result.message.id);
  assert.deepEqual(
    claimAt(now, 64).map((m) => m.id),
    [due],
  );
  assert.equal(claimAt(now + HOUR / 2, 5_000, [due!]).length, backlog.length);
});
