import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { reportFigures, tally } from '../helpers/faults.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 3: the SMTP server goes away for longer than the backoff, then comes back at the same
// address. Every message ends SENT, the dispatches show the CONNECTION errors in between, and
// the attempts follow the backoff (no busy loop while the server is down). The address is a
// TCP proxy's, which resets every connection while the server is down: a port given up and
// listened on again later could be taken by another process in between.

const BASE_MS = 200;
const MAX_MS = 800;
const MESSAGES = 20;

/** The shortest delay the backoff may put before retry `retry` (jitter is ±20%). */
const lowerBound = (retry: number) =>
  Math.floor(0.8 * Math.min(MAX_MS, BASE_MS * 2 ** (retry - 1)));

test('SMTP server down longer than the backoff, then back: all SENT, attempts follow the backoff', async (t) => {
  const address = await startTcpProxy(t);
  let smtp = await startTestSmtpServer(t);
  address.setTarget({ port: smtp.port });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${address.host}:${address.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_RETRY_BASE_MS: String(BASE_MS),
    DELIVERY_RETRY_MAX_MS: String(MAX_MS),
    DELIVERY_MAX_ATTEMPTS: '50',
    SMTP_TIMEOUT_MS: '1000',
  });
  // A first message opens the pool, so the outage also cuts an established connection.
  const warm = await sendOne(svc, 'warm@example.com');
  await waitForStatus(svc, [warm.id], 'SENT');

  // Down: the open connection is cut and new ones are reset.
  address.setTarget(null);
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
  smtp = await startTestSmtpServer(t);
  address.setTarget({ port: smtp.port });
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
    // bound: retries wait, they never spin (a busy loop is caught here, whatever the machine's
    // speed: a slower machine only makes the gaps longer). (1 ms of slack for durations rounded
    // to whole ms.)
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
  reportFigures(t, '3 SMTP server down then back', {
    acknowledged: MESSAGES,
    sent: MESSAGES - lost.length,
    lost: lost.length,
    duplicated,
    recoverMs,
    downMs,
    attemptsWhileDown,
  });
});
