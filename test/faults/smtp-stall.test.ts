import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMessage, sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { messageIdOf, reportFigures, tally } from '../helpers/faults.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer, type ReceivedMail } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 4: the server stalls after the final dot of DATA (never replies), or drops the
// connection there without a reply. The attempt is recorded as TIMEOUT / CONNECTION, the retry
// carries the same Message-ID, and a stalled send holds no worker slot the others need.

const TIMEOUT_MS = 3_000;

test('stall after the final dot, and close without a reply: recorded, retried with the same Message-ID', async (t) => {
  const faulted: { kind: string; mail: ReceivedMail }[] = [];
  const smtp = await startTestSmtpServer(t, {
    dataFault(mail) {
      const kind = /^Subject: (stall|close)-me/im.exec(mail.raw)?.[1] as 'stall' | 'close';
      // Only the first attempt of each misbehaves; the retry is accepted.
      if (!kind || faulted.some((f) => f.kind === kind)) return null;
      faulted.push({ kind, mail });
      return kind;
    },
  });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    SMTP_TIMEOUT_MS: String(TIMEOUT_MS),
    DELIVERY_RETRY_BASE_MS: '100',
    DELIVERY_CONCURRENCY: '4',
    SMTP_MAX_CONNECTIONS: '4',
  });
  const stalled = await sendOne(svc, 'stall@example.com', 'stall-me');
  const closed = await sendOne(svc, 'close@example.com', 'close-me');
  const others = [];
  for (let i = 0; i < 8; i++)
    others.push(await sendOne(svc, `other${i}@example.com`, `other ${i}`));
  const startedAt = performance.now();
  const all = await waitForStatus(svc, [stalled.id, closed.id, ...others.map((m) => m.id)], 'SENT');
  const recoverMs = Math.round(performance.now() - startedAt);
  const [stalledNow, closedNow, ...othersNow] = all;

  for (const [message, kind, code] of [
    [stalledNow, 'stall', 'TIMEOUT'],
    [closedNow, 'close', 'CONNECTION'],
  ] as const) {
    assert.equal(message.attempts, 2, `${kind}: ${JSON.stringify(message.dispatches)}`);
    assert.equal(message.dispatches[0].succeeded, false);
    assert.equal(message.dispatches[0].error.code, code);
    assert.equal(message.dispatches[1].succeeded, true);
    // The server saw the same Message-ID on the failed attempt and on the accepted retry.
    const first = faulted.find((f) => f.kind === kind)!;
    assert.equal(messageIdOf(first.mail), message.messageId);
    const accepted = smtp.received.filter((mail) => messageIdOf(mail) === message.messageId);
    assert.equal(accepted.length, 1);
  }
  for (const other of othersNow) assert.equal(other.attempts, 1);
  // Accepted once each: the faulted copies were never accepted, so they are not duplicates.
  const { lost, duplicated } = tally(
    all.map((m) => m.messageId),
    smtp.received,
  );
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0);
  reportFigures(t, '4 stall mid-DATA / close after dot', {
    acknowledged: all.length,
    sent: all.length - lost.length,
    lost: lost.length,
    duplicated,
    recoverMs,
    stalledAttemptMs: stalledNow.dispatches[0].durationMs,
    // The receiving server got the faulted copies too; the Message-ID lets it de-duplicate.
    copiesSeenByServerBeforeFailure: faulted.length,
  });
});

test('a send stalled for good holds its own slot only: the others are all sent meanwhile', async (t) => {
  const smtp = await startTestSmtpServer(t, {
    dataFault: (mail) => (/^Subject: stall-me/im.test(mail.raw) ? 'stall' : null),
  });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    // Longer than the test: the stall ends only when the test does, so whatever the machine's
    // speed, the others can only be sent while it lasts.
    SMTP_TIMEOUT_MS: '600000',
    DELIVERY_CONCURRENCY: '2',
    SMTP_MAX_CONNECTIONS: '2',
  });
  const stalled = await sendOne(svc, 'stall@example.com', 'stall-me');
  await waitFor(() => smtp.events.includes('DATA'), { description: 'the stalled send at DATA' });
  const others = [];
  for (let i = 0; i < 8; i++)
    others.push(await sendOne(svc, `other${i}@example.com`, `other ${i}`));
  const sent = await waitForStatus(
    svc,
    others.map((m) => m.id),
    'SENT',
  );
  assert.ok(sent.every((message) => message.attempts === 1));
  const stalledNow = await readMessage(svc, stalled.id);
  assert.equal(stalledNow.status, 'PROCESSING', 'the stalled send is still waiting');
  assert.deepEqual(stalledNow.dispatches, [], 'and has no outcome yet');
});

test('one worker slot: a stalled send frees it when it times out', async (t) => {
  let stalls = 0;
  const smtp = await startTestSmtpServer(t, {
    dataFault: () => (stalls++ === 0 ? 'stall' : null),
  });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    SMTP_TIMEOUT_MS: '500',
    DELIVERY_RETRY_BASE_MS: '50',
    DELIVERY_CONCURRENCY: '1',
    SMTP_MAX_CONNECTIONS: '1',
  });
  const first = await sendOne(svc, 'a@example.com');
  const second = await sendOne(svc, 'b@example.com');
  const [a, b] = await waitForStatus(svc, [first.id, second.id], 'SENT');
  assert.equal(a.dispatches[0].error.code, 'TIMEOUT');
  assert.equal(b.attempts, 1);
});
