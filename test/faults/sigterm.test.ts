import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportFigures, startBurst, statusCounts, tally } from '../helpers/faults.ts';
import { fileScope } from '../helpers/scope.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 2: SIGTERM in the middle of a burst. The process must exit cleanly (exit code 0: its
// shutdown finished before its own 15 s limit, src/main.ts), leave nothing PROCESSING, and
// after a restart deliver every acknowledged message exactly once.

const dir = tempDir(fileScope);

const gql = (url: string, query: string, variables: Record<string, unknown> = {}) =>
  graphqlRequest(`${url}/graphql`, query, variables);

test('SIGTERM mid-burst: exits cleanly, nothing PROCESSING, no duplicates after restart', async (t) => {
  const smtp = await startTestSmtpServer(t);
  const databasePath = join(dir.path, 'sigterm-burst.db');
  const env = {
    DATABASE_PATH: databasePath,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_LEASE_MS: '1000',
    DELIVERY_CONCURRENCY: '8',
    SMTP_MAX_CONNECTIONS: '2',
  };
  const first = await startServiceProcess(t, env);
  // A burst with no end: it stops when the service stops answering, so the signal always lands
  // in the middle of it.
  const burst = startBurst(first.url, { prefix: 'term' });
  await waitFor(() => burst.acknowledged.length >= 1_000 && smtp.receivedCount > 0, {
    timeoutMs: 30_000,
    description: '1,000 messages to be acknowledged',
  });
  const signalledAt = performance.now();
  const acknowledgedAtSignal = burst.acknowledged.length;
  const exitCode = await first.stop();
  const exitMs = Math.round(performance.now() - signalledAt);
  await waitFor(() => burst.finished, { description: 'the burst to stop' });
  // 0, not 1: the shutdown finished in time, it was not cut off by the service's own limit.
  assert.equal(exitCode, 0, first.output());
  const acknowledged = [...burst.acknowledged];
  // Reported, not asserted (it depends on how fast the signal is handled): busy keep-alive
  // clients get "Connection: close" once shutdown begins, so they cannot hold it up.
  const acknowledgedAfterSignal = acknowledged.length - acknowledgedAtSignal;

  const left = statusCounts(databasePath);
  assert.equal(left['PROCESSING'] ?? 0, 0, `left behind: ${JSON.stringify(left)}`);

  const restartedAt = performance.now();
  const second = await startServiceProcess(t, env);
  await waitFor(
    async () => {
      if (tally(acknowledged, smtp.received).lost.length > 0) return false;
      const open = await gql(
        second.url,
        `{ messages(filter: { status: [QUEUED, PROCESSING] }) { totalCount } }`,
      );
      return open.data.messages.totalCount === 0;
    },
    { timeoutMs: 30_000, description: 'every acknowledged message delivered after the restart' },
  );
  const recoverMs = Math.round(performance.now() - restartedAt);
  const { sent, lost, duplicated } = tally(acknowledged, smtp.received);
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0, 'a clean shutdown sends nothing twice');
  reportFigures(t, '2 SIGTERM mid-burst', {
    acknowledged: acknowledged.length,
    sent,
    lost: lost.length,
    duplicated,
    recoverMs,
    exitMs,
    queuedAtExit: left['QUEUED'] ?? 0,
    acknowledgedAfterSignal,
  });
});

test('SIGTERM with sends stalled mid-DATA: exits cleanly and releases them', async (t) => {
  const smtp = await startTestSmtpServer(t, { stall: 'data' });
  const env = {
    DATABASE_PATH: join(dir.path, 'sigterm-stalled.db'),
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    // Far longer than the shutdown may take (15 s): a clean exit means the stalled sends were
    // released, not waited for.
    SMTP_TIMEOUT_MS: '600000',
  };
  const first = await startServiceProcess(t, env);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const sent = await gql(
      first.url,
      `mutation { sendEmail(input: { to: "t${i}@example.com", subject: "s", text: "t" }) { id } }`,
    );
    ids.push(sent.data.sendEmail.id);
  }
  await waitFor(
    async () =>
      (await gql(first.url, `{ messages(filter: { status: [PROCESSING] }) { totalCount } }`)).data
        .messages.totalCount === 3,
    { description: 'three sends stalled mid-DATA' },
  );
  assert.equal(await first.stop(), 0, first.output());
  await smtp.close();

  const idle = await startTestSmtpServer(t);
  const second = await startServiceProcess(t, {
    ...env,
    SMTP_CONNECTION_URI: `smtp://${idle.host}:${idle.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  });
  const timeline = await gql(
    second.url,
    `{ messages { edges { node { id events { status reason } } } } }`,
  );
  const edges = timeline.data.messages.edges;
  assert.deepEqual(edges.map((edge: any) => edge.node.id).sort(), [...ids].sort());
  for (const edge of edges) {
    const reasons = edge.node.events.map((e: any) => e.reason);
    assert.ok(reasons.includes('released_on_shutdown'), JSON.stringify(reasons));
  }
});

test('SIGTERM while claimed sends wait for a pooled connection: none starts after it, none is sent twice', async (t) => {
  // The first two messages are held at their final reply until the test lets them go; the
  // other six were claimed meanwhile and wait for one of the two connections.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const slow = await startTestSmtpServer(t, { beforeAccept: () => gate });
  const env = {
    DATABASE_PATH: join(dir.path, 'sigterm-pool-wait.db'),
    SMTP_CONNECTION_URI: `smtp://${slow.host}:${slow.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_CONCURRENCY: '8',
    SMTP_MAX_CONNECTIONS: '2',
  };
  const first = await startServiceProcess(t, env);
  for (let i = 0; i < 8; i++) {
    const sent = await gql(
      first.url,
      `mutation { sendEmail(input: { to: "w${i}@example.com", subject: "s", text: "t" }) { id } }`,
    );
    assert.equal(sent.errors, undefined);
  }
  const mailFroms = () => slow.events.filter((line) => /^MAIL FROM/.test(line)).length;
  await waitFor(
    async () =>
      mailFroms() === 2 &&
      (await gql(first.url, `{ messages(filter: { status: [PROCESSING] }) { totalCount } }`)).data
        .messages.totalCount === 8,
    { description: 'two sends held at their reply, six claimed and waiting for a connection' },
  );
  first.child.kill('SIGTERM');
  await waitFor(() => /delivery: stopping/.test(first.output()), {
    description: 'the worker to begin stopping',
  });
  open(); // the two finish within the grace period; their connections come free
  assert.equal(await first.stop(), 0, first.output());
  assert.equal(mailFroms(), 2, 'no SMTP transaction started after the signal');
  assert.equal(slow.received.length, 2);
  assert.doesNotMatch(first.output(), /lease went unrenewed|may be delivered twice/);

  const fast = await startTestSmtpServer(t);
  const second = await startServiceProcess(t, {
    ...env,
    SMTP_CONNECTION_URI: `smtp://${fast.host}:${fast.port}/?disable_starttls=true`,
  });
  await waitFor(async () => fast.received.length === 6, {
    description: 'the six that never started, sent after the restart',
  });
  const sentTo = [...slow.received, ...fast.received].map((mail) => mail.to[0]);
  assert.equal(new Set(sentTo).size, 8, `each once: ${JSON.stringify(sentTo)}`);
  const unsent = await gql(
    second.url,
    `{ messages(filter: { status: [QUEUED, PROCESSING] }) { totalCount } }`,
  );
  assert.equal(unsent.data.messages.totalCount, 0);
});
