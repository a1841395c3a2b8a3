import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportFigures, startBurst, tally } from '../helpers/faults.ts';
import { cleanupStack, connect, startPrivateCluster, storedLog } from '../helpers/postgres.ts';
import {
  graphqlRequest,
  startServiceProcess,
  subscribe,
  wsClient,
  type Subscription,
} from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 10: another client holds a transaction open (one that has taken a transaction id) for
// 10 s while the service sends. Mail keeps flowing, but events committed after that transaction
// began cannot be placed in the log's one order until it ends, so the live feed waits; once it
// ends, the feed delivers every event, in the stored order, with no gap and no repeat. A
// subscriber that connects during the hold with a cursor waits the same way.
//
// The transaction is held on a cluster of the test's own: transaction ids are cluster-wide, so
// holding one on the shared server would hold up every other test's feed on it.

const HOLD_MS = 10_000;
const MESSAGES = 300;

type Event = { messageEvents: { cursor: string; status: string; at: string } };
const EVENTS = `subscription ($after: String) { messageEvents(after: $after) { cursor status at } }`;
const xidOf = (cursor: string) => BigInt(cursor.split('.')[0]!);
const cursors = (subscription: Subscription<Event>) =>
  subscription.received.map((e) => `${e.messageEvents.cursor} ${e.messageEvents.status}`);

test('a transaction held open for 10 s: the feed waits, then delivers every event in order, nothing skipped', async (t) => {
  const defer = cleanupStack(t);
  const cluster = await startPrivateCluster();
  defer(() => cluster.remove());
  const smtp = await startTestSmtpServer(t);
  defer(() => smtp.close());
  const service = await startServiceProcess(t, {
    DATABASE_URL: cluster.url,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  });
  defer(() => service.stop());
  const sql = await connect(cluster.url);
  defer(() => sql.end());

  const client = wsClient(t, service.url);
  defer(() => client.dispose());
  const fromStart = subscribe<Event>(client, EVENTS, { after: '0' });
  defer(() => fromStart.unsubscribe());
  // Mail before the hold, so the feed is known to be live when it starts.
  const before = startBurst(service.url, { count: 20, parallel: 4, prefix: 'before' });
  await before.done;
  await waitFor(
    async () => (await storedLog(sql)).length === 60 && fromStart.received.length === 60,
    { description: 'the 60 events of 20 messages sent before the hold' },
  );

  const holder = await connect(cluster.url);
  defer(() => holder.end());
  await holder.query('BEGIN');
  const { rows } = await holder.query<{ xid: string }>(`SELECT pg_current_xact_id()::text AS xid`);
  const heldXid = BigInt(rows[0]!.xid);
  const heldAt = performance.now();
  let held = true;
  defer(() => (held ? holder.query('ROLLBACK') : undefined));

  const burst = startBurst(service.url, { count: MESSAGES, parallel: 8, prefix: 'held' });
  defer(() => burst.stop());
  // A subscriber resuming during the hold, from the last event it could have seen.
  const lastBefore = fromStart.received.at(-1)!.messageEvents.cursor;
  const resumed = subscribe<Event>(client, EVENTS, { after: lastBefore });
  defer(() => resumed.unsubscribe());

  // The service delivers while the transaction is held: the queue does not wait for it.
  await burst.done;
  assert.equal(burst.acknowledged.length, MESSAGES, JSON.stringify(burst.failures));
  await waitFor(
    async () => {
      const { rows: open } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE status <> 'SENT'`,
      );
      return open[0]!.n === 0 && tally(burst.acknowledged, smtp.received).lost.length === 0;
    },
    { timeoutMs: 60_000, description: 'every message SENT while the transaction is held' },
  );
  await waitFor(() => performance.now() - heldAt >= HOLD_MS, {
    timeoutMs: HOLD_MS + 1_000,
    intervalMs: 100,
    description: 'the hold to last 10 s',
  });

  // Still held: the feeds have everything before the held transaction and nothing after it.
  const logWhileHeld = await storedLog(sql);
  const settled = logWhileHeld.filter((e) => xidOf(e.cursor) < heldXid).length;
  const eventsHeldBack = logWhileHeld.length - settled;
  assert.ok(eventsHeldBack >= 3 * MESSAGES, `${eventsHeldBack} events written during the hold`);
  assert.equal(
    fromStart.received.length,
    settled,
    'the live feed got ahead of the held transaction',
  );
  assert.ok(fromStart.received.every((e) => xidOf(e.messageEvents.cursor) < heldXid));
  assert.equal(resumed.received.length, 0, 'the resumed feed got ahead of the held transaction');

  await holder.query('ROLLBACK');
  held = false;
  const releasedAt = performance.now();
  const heldMs = Math.round(releasedAt - heldAt);

  const log = await storedLog(sql);
  await waitFor(
    () => fromStart.received.length >= log.length && resumed.received.length >= log.length - 60,
    { timeoutMs: 30_000, description: `both feeds to catch up with the ${log.length} events` },
  );
  const catchUpMs = Math.round(performance.now() - releasedAt);
  // The longest any event waited: from its change to the moment the feeds had caught up.
  const oldestHeldBackMs = Math.min(
    ...fromStart.received
      .filter((e) => xidOf(e.messageEvents.cursor) >= heldXid)
      .map((e) => Date.parse(e.messageEvents.at)),
  );
  const feedDelayMs = Date.now() - oldestHeldBackMs;
  const expected = log.map((e) => `${e.cursor} ${e.status}`);
  assert.deepEqual(fromStart.errors, []);
  assert.deepEqual(resumed.errors, []);
  assert.deepEqual(cursors(fromStart), expected, 'the live feed equals the stored log');
  assert.deepEqual(
    cursors(resumed),
    expected.slice(60),
    'the resumed feed equals the log after its cursor',
  );

  const { sent, lost, duplicated } = tally(burst.acknowledged, smtp.received);
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0);
  // The figures are read back over the API too: nothing about the hold shows there.
  const total = await graphqlRequest(`${service.url}/graphql`, `{ messages { totalCount } }`);
  assert.equal(total.data.messages.totalCount, MESSAGES + 20);

  reportFigures(t, '10 PostgreSQL: a transaction held open for 10 s', {
    acknowledged: burst.acknowledged.length,
    sent,
    lost: lost.length,
    duplicated,
    recoverMs: catchUpMs,
    heldMs,
    feedDelayMs,
    eventsHeldBack,
    events: log.length,
  });
});
