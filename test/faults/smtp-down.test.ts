import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { reportFigures, tally } from '../helpers/faults.ts';
import { serviceStarter, trackCleanups } from '../helpers/fixtures.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 3: the SMTP server goes away for longer than the backoff, then comes back on the same
// port. Every message ends SENT, the dispatches show the CONNECTION errors in between, and the
// attempts follow the backoff (no busy loop while the server is down).

const addCleanup = trackCleanups();
const startService = serviceStarter(addCleanup);

const BASE_MS = 200;
const MAX_MS = 800;
const MESSAGES = 20;

/** The shortest delay the backoff may put before retry `retry` (jitter is ±20%). */
const lowerBound = (retry: number) =>
  Math.floor(0.8 * Math.min(MAX_MS, BASE_MS * 2 ** (retry - 1)));

test('SMTP server down longer than the backoff, then back: all SENT, attempts follow the backoff', async (t) => {
  let smtp = await startTestSmtpServer();
  const port = smtp.port;
  addCleanup(() => smtp.close());
  const svc = await startService({
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_RETRY_BASE_MS: String(BASE_MS),
    DELIVERY_RETRY_MAX_MS: String(MAX_MS),
    DELIVERY_MAX_ATTEMPTS: '50',
    SMTP_TIMEOUT_MS: '1000',
  });
  // A first message opens the pool, so the outage also cuts an established connection.
  const warm = await sendOne(svc, 'warm@example.com');
  await waitForStatus(svc, [warm.id], 'SENT');

  await smtp.close();
  const downAt = performance.now();
  const sent = [];
  for (let i = 0; i < MESSAGES; i++) sent.push(await sendOne(svc, `down${i}@example.com`));
  const ids = sent.map((m) => m.id as string);
  // Down for longer than the backoff: every message has failed at least three times.
  await waitFor(
    async () => {
      const page = await svc.gql(
        `{ messages(filter: { status: [QUEUED, PROCESSING] }, first: 500) { edges { node { attempts } } } }`,
      );
      const edges = page.data.messages.edges;
      return edges.length === MESSAGES && edges.every((e: any) => e.node.attempts >= 3);
    },
    {
      timeoutMs: 20_000,
      description: 'three failed attempts per message while the server is down',
    },
  );
  smtp = await startTestSmtpServer({ port });
  const backAt = performance.now();
  const messages = await waitForStatus(svc, ids, 'SENT');
  const recoverMs = Math.round(performance.now() - backAt);

  let attemptsWhileDown = 0;
  for (const message of messages) {
    const dispatches = message.dispatches;
    const failures = dispatches.filter((d: any) => !d.succeeded);
    attemptsWhileDown += failures.length;
    assert.ok(failures.length >= 3, `message ${message.id}: ${failures.length} failures`);
    assert.equal(dispatches.at(-1).succeeded, true);
    for (const failure of failures) assert.equal(failure.error.code, 'CONNECTION');
    // The gap between an attempt's end and the next attempt is at least the backoff's lower
    // bound: retries wait, they never spin. (1 ms of slack for durations rounded to whole ms.)
    for (let k = 1; k < dispatches.length; k++) {
      const previous = dispatches[k - 1];
      const endOfPrevious = Date.parse(previous.at) + previous.durationMs;
      const gap = Date.parse(dispatches[k].at) - endOfPrevious;
      assert.ok(
        gap >= lowerBound(k) - 1,
        `message ${message.id}: retry ${k} came ${gap} ms after the failure, backoff ≥ ${lowerBound(k)} ms`,
      );
    }
  }
  const { lost, duplicated } = tally(
    messages.map((m) => m.messageId),
    smtp.received,
  );
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0);
  const downMs = Math.round(backAt - downAt);
  // No busy loop: a message retried at the backoff's pace makes at most this many attempts in
  // the time the server was down (each gap at least the lower bound; +1 for the first try).
  let bound = 1;
  for (let elapsed = 0, k = 1; elapsed + lowerBound(k) <= downMs; k++) {
    elapsed += lowerBound(k);
    bound++;
  }
  for (const message of messages) {
    const failures = message.dispatches.filter((d: any) => !d.succeeded).length;
    assert.ok(failures <= bound, `message ${message.id}: ${failures} attempts in ${downMs} ms`);
  }
  reportFigures(t, '3 SMTP server down then back', {
    acknowledged: MESSAGES,
    sent: MESSAGES - lost.length,
    lost: lost.length,
    duplicated,
    recoverMs,
    downMs,
    attemptsWhileDown,
    maxAttemptsAllowedByBackoff: bound * MESSAGES,
  });
});
