import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { reportFigures, startBurst, statusCounts, tally } from '../helpers/faults.ts';
import { fileScope } from '../helpers/scope.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 1: kill -9 of the service in the middle of a burst of sendEmail, then a restart on the
// same database. Every acknowledged message must reach the SMTP server at least once; the only
// duplicates allowed are the messages that were in flight (PROCESSING) when the process died.

const dir = tempDir(fileScope);

const CONCURRENCY = 8;

// Both durability settings survive a process crash (they differ on power loss, which a test
// cannot cause): the README's choice of FULL rests on that difference, not on this test.
for (const synchronous of ['full', 'normal'] as const) {
  test(`kill -9 mid-burst (synchronous=${synchronous}): every acknowledged message delivered, duplicates only from in-flight`, async (t) => {
    // A server that takes a moment per message keeps sends in flight when the process dies.
    const smtp = await startTestSmtpServer(t, { beforeAccept: () => nextTurn() });
    const databasePath = join(dir.path, `kill-${synchronous}.db`);
    const env = {
      DATABASE_PATH: databasePath,
      SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
      EMBEDDED_SMTP_PORT: 'off',
      DELIVERY_LEASE_MS: '1000',
      DELIVERY_CONCURRENCY: String(CONCURRENCY),
      SMTP_MAX_CONNECTIONS: '2',
      SQLITE_SYNCHRONOUS: synchronous,
    };
    const first = await startServiceProcess(t, env);
    // A burst with no end (it stops when the service stops answering): 1,000 acknowledged and
    // mail flowing, the crash lands while both are under way.
    const burst = startBurst(first.url, { prefix: 'kill' });
    await waitFor(() => burst.acknowledged.length >= 1_000 && smtp.receivedCount > 0, {
      timeoutMs: 30_000,
      description: '1,000 messages to be acknowledged',
    });
    await first.kill();
    await waitFor(() => burst.finished, { description: 'the burst to stop' });
    const acknowledged = [...burst.acknowledged];

    // What the dead process left: PROCESSING messages are the only ones that can be sent twice,
    // because only they may have reached the server without their outcome being recorded. The
    // worker never has more than DELIVERY_CONCURRENCY of them.
    const left = statusCounts(databasePath);
    const inFlightAtKill = left['PROCESSING'] ?? 0;
    assert.ok(inFlightAtKill <= CONCURRENCY, `${inFlightAtKill} PROCESSING > concurrency`);
    const receivedBeforeRestart = smtp.receivedCount;

    const restartedAt = performance.now();
    const second = await startServiceProcess(t, env);
    const gql = (query: string) => graphqlRequest(`${second.url}/graphql`, query);
    await waitFor(
      async () => {
        if (tally(acknowledged, smtp.received).lost.length > 0) return false;
        const counts = (
          await gql(
            `{ processing: messages(filter: { status: [PROCESSING, QUEUED] }) { totalCount } }`,
          )
        ).data;
        return counts.processing.totalCount === 0;
      },
      { timeoutMs: 30_000, description: 'every acknowledged message delivered after the restart' },
    );
    const recoverMs = Math.round(performance.now() - restartedAt);
    const { sent, lost, duplicated } = tally(acknowledged, smtp.received);

    assert.deepEqual(lost, [], 'acknowledged messages that never reached the SMTP server');
    assert.ok(
      duplicated <= inFlightAtKill,
      `${duplicated} duplicates, but only ${inFlightAtKill} messages were in flight at the kill`,
    );
    const statuses = (
      await gql(
        `{ sent: messages(filter: { status: [SENT] }) { totalCount } all: messages { totalCount } }`,
      )
    ).data;
    assert.equal(statuses.sent.totalCount, statuses.all.totalCount, 'everything stored ends SENT');
    reportFigures(t, `1 kill -9 mid-burst (synchronous=${synchronous})`, {
      acknowledged: acknowledged.length,
      sent,
      lost: lost.length,
      duplicated,
      recoverMs,
      inFlightAtKill,
      stored: statuses.all.totalCount,
      receivedBeforeKill: receivedBeforeRestart,
    });
  });
}
