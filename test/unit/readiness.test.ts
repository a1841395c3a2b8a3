import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryThreadHealth } from '../../src/delivery/delivery-thread-host.ts';
import { createReadiness } from '../../src/ops/readiness.ts';

const NOW = 1_000_000;
const healthy: DeliveryThreadHealth = {
  running: true,
  lastHeartbeatAtMs: NOW - 500,
  lastCycleAtMs: NOW - 800,
  smtpConnections: 1,
  runtime: null,
};

function check(
  health: Partial<DeliveryThreadHealth>,
  {
    database = null as string | null,
    smtp = 'STORED' as string | null,
    privateDestinationsRefused = false,
  } = {},
) {
  return createReadiness({
    databaseProblem: async () => database,
    deliveryHealth: () => ({ ...healthy, ...health }),
    smtpSource: () => smtp,
    privateDestinationsRefused,
    cycleStaleAfterMs: 10_000,
    now: () => NOW,
  }).check();
}

test('ready when every check passes', async () => {
  assert.deepEqual(await check({}), {
    ready: true,
    checks: { database: { ok: true }, worker: { ok: true }, smtp: { ok: true, source: 'STORED' } },
  });
});

const workerCases: [string, Partial<DeliveryThreadHealth>, RegExp][] = [
  ['thread exited', { running: false }, /has exited/],
  ['no heartbeat yet', { lastHeartbeatAtMs: null }, /not reported/],
  ['heartbeat 6 s old', { lastHeartbeatAtMs: NOW - 6_000 }, /not reported in the last 5 s/],
  ['worker never ran', { lastCycleAtMs: null }, /has not run yet/],
  ['last cycle 12 s ago', { lastCycleAtMs: NOW - 12_000 }, /last ran 12 s ago/],
];
for (const [name, health, problem] of workerCases) {
  test(`not ready: ${name}`, async () => {
    const report = await check(health);
    assert.equal(report.ready, false);
    assert.equal(report.checks.worker.ok, false);
    assert.match(report.checks.worker.problem!, problem);
    assert.equal(report.checks.database.ok, true);
  });
}

test('not ready: the database refuses writes, or no SMTP configuration', async () => {
  const locked = await check({}, { database: 'database is locked' });
  assert.equal(locked.ready, false);
  assert.equal(
    locked.checks.database.problem,
    'the database does not accept writes: database is locked',
  );
  const unconfigured = await check({}, { smtp: null });
  assert.equal(unconfigured.ready, false);
  assert.match(unconfigured.checks.smtp.problem!, /no SMTP server is configured/);
});

test('not ready on the embedded server when SMTP_DISALLOW_PRIVATE_IPS refuses loopback', async () => {
  const report = await check({}, { smtp: 'EMBEDDED', privateDestinationsRefused: true });
  assert.equal(report.ready, false);
  assert.equal(report.checks.smtp.ok, false);
  assert.match(report.checks.smtp.problem ?? '', /EMBEDDED_SMTP_PORT=off/);
  // A configured server is judged when it is dialled, not here.
  assert.equal((await check({}, { smtp: 'STORED', privateDestinationsRefused: true })).ready, true);
});
