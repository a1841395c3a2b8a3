import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  deliveryCounts,
  messageIdOf,
  reportFigures,
  startBurst,
  tally,
} from '../helpers/faults.ts';
import { cleanupStack, connect, statusCountsOf } from '../helpers/postgres.ts';
import { startServiceProcess, type ServiceProcess } from '../helpers/service.ts';
import { startTestSmtpServer, type ReceivedMail } from '../helpers/smtp-server.ts';
import { createPostgresDatabase } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 8: three instances share one PostgreSQL database and one SMTP server; a burst of
// sendEmail goes to them round-robin, and one instance is killed with kill -9 in the middle of
// it. The other two carry on: every acknowledged message reaches the server, and the messages
// the dead instance held are claimed again once their lease runs out. The only duplicates
// allowed are among those (a send whose 250 came back to a process that died before recording
// it), so never more than that instance's DELIVERY_CONCURRENCY.

const BURST = 3_000;
const CONCURRENCY = 8;
// Short, so the dead instance's messages come back soon. The survivors renew the leases of
// their sends in flight (every lease/3), so however long a send takes on a busy machine, no
// live instance loses its message; the longest claim-to-send is reported as longestSendMs.
const LEASE_MS = 3_000;
const NAMES = ['a', 'b', 'c'] as const;
// Each instance sends from its own address (SMTP_FROM_ADDRESS, used while no configuration is
// stored), so the server can tell which instance sent what.
const fromOf = (name: string) => `instance-${name}@instances.test`;

test('three instances on one database, kill -9 of one mid-burst: nothing lost, duplicates only from its in-flight sends', async (t) => {
  const defer = cleanupStack(t);
  const database = await createPostgresDatabase();
  defer(() => database.remove());

  const victim = 'b';
  // Once armed, the server holds its 250 to the victim's next message until the victim is
  // dead: a send that reached the server but whose outcome was never recorded, the one case
  // that may be sent twice. Other messages take a turn of the event loop, so that sends are in
  // flight whenever the kill lands.
  let armed = false;
  let held: ReceivedMail | null = null;
  let releaseHeld!: () => void;
  const victimDead = new Promise<void>((resolve) => (releaseHeld = resolve));
  const smtp = await startTestSmtpServer(t, {
    beforeAccept: async (mail) => {
      if (armed && held === null && mail.from === fromOf(victim)) {
        held = mail;
        await victimDead;
        return;
      }
      await nextTurn();
    },
  });
  defer(() => smtp.close());

  const env = (name: string) => ({
    DATABASE_URL: database.url,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    SMTP_FROM_ADDRESS: fromOf(name),
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_LEASE_MS: String(LEASE_MS),
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    // One connection per send in flight: no claimed message waits for a connection.
    SMTP_MAX_CONNECTIONS: String(CONCURRENCY),
  });
  // Started together: the migration runs once, under its advisory lock.
  const instances = new Map<string, ServiceProcess>();
  await Promise.all(
    NAMES.map(async (name) => {
      const instance = await startServiceProcess(t, env(name));
      defer(() => instance.stop());
      instances.set(name, instance);
    }),
  );
  // Before the instances are stopped: a held reply would hold up the victim's shutdown.
  defer(() => releaseHeld());
  const sql = await connect(database.url);
  defer(() => sql.end());

  const burst = startBurst(
    NAMES.map((name) => instances.get(name)!.url),
    { count: BURST, parallel: 16, prefix: 'kill', stopOnFailure: false },
  );
  defer(() => burst.stop());
  const sentBy = (name: string) => smtp.received.filter((m) => m.from === fromOf(name)).length;
  await waitFor(() => burst.acknowledged.length >= 1_000 && NAMES.every((n) => sentBy(n) > 0), {
    timeoutMs: 60_000,
    description: '1,000 messages acknowledged and every instance sending',
  });
  armed = true;
  await waitFor(() => held !== null, {
    timeoutMs: 30_000,
    description: "the server to hold one of the victim's messages",
  });
  await instances.get(victim)!.kill();
  const killedAt = performance.now();
  releaseHeld();
  const acknowledgedAtKill = burst.acknowledged.length;
  await burst.done;
  const acknowledged = [...burst.acknowledged];
  assert.ok(acknowledged.length < BURST, 'requests to the dead instance fail');
  assert.ok((burst.failures['network'] ?? 0) > 0, 'requests to the dead instance fail');
  assert.deepEqual(
    Object.keys(burst.failures),
    ['network'],
    `only requests to the dead instance fail: ${JSON.stringify(burst.failures)}`,
  );

  // The survivors finish everything, the dead instance's claims included once their lease ran
  // out.
  await waitFor(
    async () => {
      if (tally(acknowledged, smtp.received).lost.length > 0) return false;
      const counts = await statusCountsOf(sql);
      return (counts['QUEUED'] ?? 0) + (counts['PROCESSING'] ?? 0) === 0;
    },
    { timeoutMs: 120_000, description: 'every acknowledged message delivered by the survivors' },
  );
  const recoverMs = Math.round(performance.now() - killedAt);
  const { sent, lost, duplicated } = tally(acknowledged, smtp.received);
  assert.deepEqual(lost, [], 'acknowledged messages that never reached the SMTP server');

  const counts = await statusCountsOf(sql);
  const stored = Object.values(counts).reduce((sum, n) => sum + n, 0);
  assert.deepEqual(
    Object.keys(counts),
    ['SENT'],
    `everything stored ends SENT: ${JSON.stringify(counts)}`,
  );
  assert.ok(stored >= acknowledged.length, 'every acknowledged message is stored');

  // What the victim held when it died: the messages claimed again after their lease ran out.
  // Nothing else may have lost a lease: the survivors record their sends well within it.
  const { rows: reclaimed } = await sql.query<{ message_id: string }>(
    `SELECT m.message_id FROM messages m
     WHERE EXISTS (SELECT 1 FROM message_events e
                   WHERE e.message_id = m.id AND e.reason = 'lease_expired')`,
  );
  const reclaimedIds = new Set(reclaimed.map((row) => row.message_id));
  assert.ok(
    reclaimedIds.size <= CONCURRENCY,
    `${reclaimedIds.size} messages claimed after an expired lease, but the victim sends at most ${CONCURRENCY} at once`,
  );
  const heldId = messageIdOf(held!);
  assert.ok(heldId !== null && reclaimedIds.has(heldId), 'the held message was claimed again');

  // Every duplicate is a message the victim had in flight: one copy sent by it, one by a
  // survivor after the lease ran out; never a third.
  const copies = deliveryCounts(smtp.received);
  const duplicatedIds = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
  for (const id of duplicatedIds) {
    const senders = smtp.received.filter((m) => messageIdOf(m) === id).map((m) => m.from);
    assert.equal(senders.length, 2, `${id} was sent ${senders.length} times`);
    assert.ok(senders.includes(fromOf(victim)), `${id} was sent twice without the victim`);
    assert.ok(reclaimedIds.has(id), `${id} was sent twice but never lost its lease`);
  }
  assert.ok(
    duplicatedIds.includes(heldId),
    'the held message, accepted but unrecorded, is sent again',
  );
  assert.ok(duplicated <= CONCURRENCY);

  // How close the survivors came to losing a lease: claim to the end of the send.
  const { rows: longest } = await sql.query<{ ms: number | null }>(
    `SELECT max(s.at - c.at)::int AS ms FROM message_events c
     JOIN message_events s ON s.message_id = c.message_id AND s.status = 'SENT'
     WHERE c.reason = 'claimed' AND NOT EXISTS (SELECT 1 FROM message_events x
       WHERE x.message_id = c.message_id AND x.reason = 'lease_expired')`,
  );

  reportFigures(t, '8 PostgreSQL: three instances, kill -9 of one mid-burst', {
    acknowledged: acknowledged.length,
    sent,
    lost: lost.length,
    duplicated,
    recoverMs,
    leaseMs: LEASE_MS,
    reclaimedAfterLease: reclaimedIds.size,
    longestSendMs: longest[0]?.ms ?? null,
    stored,
    storedUnacknowledged: stored - acknowledged.length,
    acknowledgedAtKill,
    sentByA: sentBy('a'),
    sentByB: sentBy('b'),
    sentByC: sentBy('c'),
  });
});
