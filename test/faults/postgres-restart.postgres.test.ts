import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportFigures, startBurst, tally } from '../helpers/faults.ts';
import { cleanupStack, connect, startPrivateCluster, storedLog } from '../helpers/postgres.ts';
import { graphqlRequest, startServiceProcess, subscribe, wsClient } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 9: PostgreSQL goes away in the middle of a burst (a clean `pg_ctl stop -m fast`, every
// session cut) and comes back on the same port. The service is not restarted. While the
// database is down, every operation answers SERVICE_UNAVAILABLE (HTTP 200) and stores nothing,
// /readyz says 503 while /healthz says 200, and the worker claims nothing; once it is back,
// everything resumes by itself: nothing acknowledged is lost or sent twice, and a live
// subscriber's feed carries on with no gap and no repeat.
//
// The database is a cluster of the test's own: stopping the shared server would break every
// other test running on it.

const CONCURRENCY = 8;
const STORAGE_LOG = /could not write to the database/g;

test('PostgreSQL restarted mid-burst: refused with SERVICE_UNAVAILABLE while down, resumes by itself, nothing lost', async (t) => {
  const defer = cleanupStack(t);
  const cluster = await startPrivateCluster();
  defer(() => cluster.remove());
  const smtp = await startTestSmtpServer(t);
  defer(() => smtp.close());
  const service = await startServiceProcess(t, {
    DATABASE_URL: cluster.url,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    SMTP_MAX_CONNECTIONS: '2',
    // No lease may run out during the outage: a second send would be this instance's own.
    DELIVERY_LEASE_MS: '60000',
  });
  defer(() => service.stop());
  const gql = (query: string, variables: Record<string, unknown> = {}) =>
    graphqlRequest(`${service.url}/graphql`, query, variables);
  const probe = async (path: string) => (await fetch(`${service.url}${path}`)).status;

  // A subscriber from the start of the log to the end of the test, across the outage.
  const client = wsClient(t, service.url);
  defer(() => client.dispose());
  const feed = subscribe<{ messageEvents: { cursor: string; status: string } }>(
    client,
    `subscription { messageEvents(after: "0") { cursor status } }`,
  );
  defer(() => feed.unsubscribe());

  const burst = startBurst(service.url, { parallel: 8, prefix: 'restart', stopOnFailure: false });
  defer(() => burst.stop());
  await waitFor(() => burst.acknowledged.length >= 300 && smtp.receivedCount >= 100, {
    timeoutMs: 60_000,
    description: '300 messages acknowledged and mail flowing',
  });

  await cluster.stop('fast');
  const stoppedAt = performance.now();
  const acknowledgedAtStop = burst.acknowledged.length;
  const receivedAtStop = smtp.receivedCount;
  const storageLogsAtStop = service.output().match(STORAGE_LOG)?.length ?? 0;

  // Every operation is refused the same way, and says why.
  const refusedSend = await gql(
    `mutation { sendEmail(input: { to: "while-down@example.com", subject: "s", text: "t" }) { id } }`,
  );
  const refusedConfig = await gql(
    `mutation { configureSmtp(input: { connectionUri: "smtp://127.0.0.1:1/?disable_starttls=true", fromAddress: "while-down@example.com" }) { version } }`,
  );
  const refusedQuery = await gql(`{ messages { totalCount } }`);
  for (const [name, refused] of Object.entries({ refusedSend, refusedConfig, refusedQuery })) {
    assert.equal(refused.status, 200, `${name}: ${JSON.stringify(refused)}`);
    assert.equal(refused.data ?? null, null, name);
    assert.equal(refused.errors?.[0]?.extensions?.['code'], 'SERVICE_UNAVAILABLE', name);
    assert.match(refused.errors![0]!.message, /database/i, name);
  }
  await waitFor(async () => (await probe('/readyz')) === 503, {
    description: '/readyz to answer 503',
  });
  assert.equal(await probe('/healthz'), 200, 'the process is alive');

  // The worker keeps trying, and claims nothing meanwhile: only sends claimed before the stop
  // may still reach the server.
  await waitFor(() => (service.output().match(STORAGE_LOG)?.length ?? 0) >= storageLogsAtStop + 3, {
    timeoutMs: 30_000,
    description: 'the worker to fail to reach the database three times',
  });
  const sentWhileDown = smtp.receivedCount - receivedAtStop;
  assert.ok(
    sentWhileDown <= CONCURRENCY,
    `${sentWhileDown} sent while the database was down: more than was in flight`,
  );
  assert.equal(await probe('/readyz'), 503);
  const refusedWhileDown = burst.failed;

  await cluster.start();
  const backAt = performance.now();
  const downMs = Math.round(backAt - stoppedAt);

  // Everything resumes by itself: sendEmail is acknowledged again, /readyz is 200 again.
  await waitFor(() => burst.acknowledged.length > acknowledgedAtStop, {
    timeoutMs: 60_000,
    description: 'a sendEmail acknowledged after the database came back',
  });
  const resumedMs = Math.round(performance.now() - backAt);
  await waitFor(() => burst.acknowledged.length >= acknowledgedAtStop + 300, {
    timeoutMs: 60_000,
    description: '300 more messages acknowledged after the database came back',
  });
  await waitFor(async () => (await probe('/readyz')) === 200, {
    timeoutMs: 30_000,
    description: '/readyz to answer 200 again',
  });
  await burst.stop();
  const acknowledged = [...burst.acknowledged];
  await waitFor(
    async () => {
      if (tally(acknowledged, smtp.received).lost.length > 0) return false;
      const open = await gql(
        `{ messages(filter: { status: [QUEUED, PROCESSING] }) { totalCount } }`,
      );
      return open.data?.messages.totalCount === 0;
    },
    { timeoutMs: 60_000, description: 'every acknowledged message delivered' },
  );
  const recoverMs = Math.round(performance.now() - backAt);
  const { sent, lost, duplicated } = tally(acknowledged, smtp.received);
  assert.deepEqual(lost, [], 'acknowledged messages that never reached the SMTP server');
  assert.equal(duplicated, 0, 'an instance that stays up never sends its own message twice');
  assert.equal(service.child.exitCode, null, 'the service was never restarted');

  // While down, requests were refused with SERVICE_UNAVAILABLE, never an internal error, and
  // never cut off.
  assert.deepEqual(
    Object.keys(burst.failures),
    ['SERVICE_UNAVAILABLE'],
    JSON.stringify(burst.failures),
  );

  // What was refused stored nothing. A sendEmail whose COMMIT was under way when the server
  // stopped may be stored without having been acknowledged: at most one per client lane.
  const sql = await connect(cluster.url);
  defer(() => sql.end());
  const { rows } = await sql.query<{ n: number; down: number }>(
    `SELECT count(*)::int AS n,
       count(*) FILTER (WHERE recipient = 'while-down@example.com')::int AS down FROM messages`,
  );
  assert.equal(rows[0]!.down, 0, 'the refused sendEmail stored nothing');
  const stored = rows[0]!.n;
  assert.ok(stored >= acknowledged.length);
  assert.ok(
    stored - acknowledged.length <= 8,
    `${stored - acknowledged.length} stored unacknowledged`,
  );
  const config = await gql(`{ smtpConfig { fromAddress } }`);
  assert.notEqual(config.data.smtpConfig.fromAddress, 'while-down@example.com');

  // The live feed went on across the outage: the whole log, in its order, nothing twice.
  const log = await storedLog(sql);
  await waitFor(() => feed.received.length >= log.length, {
    timeoutMs: 30_000,
    description: `the subscriber to receive all ${log.length} events`,
  });
  assert.deepEqual(feed.errors, []);
  assert.deepEqual(
    feed.received.map((e) => `${e.messageEvents.cursor} ${e.messageEvents.status}`),
    log.map((e) => `${e.cursor} ${e.status}`),
    'the feed equals the stored log',
  );

  reportFigures(t, '9 PostgreSQL restarted mid-burst', {
    acknowledged: acknowledged.length,
    sent,
    lost: lost.length,
    duplicated,
    recoverMs,
    downMs,
    resumedMs,
    refusedWhileDown,
    sentWhileDown,
    storedUnacknowledged: stored - acknowledged.length,
    events: log.length,
  });
});
