import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { messageIdOf, reportFigures, tally } from '../helpers/faults.ts';
import { serviceStarter, trackCleanups } from '../helpers/fixtures.ts';
import { startTestSmtpServer, type ReceivedMail } from '../helpers/smtp-server.ts';

// Fault 4: the server stalls after the final dot of DATA (never replies), or drops the
// connection there without a reply. The attempt is recorded as TIMEOUT / CONNECTION, the retry
// carries the same Message-ID, and the stalled send holds no worker slot for the others.

const addCleanup = trackCleanups();
const startService = serviceStarter(addCleanup);

const TIMEOUT_MS = 3_000;

test('stall after the final dot, and close without a reply: recorded, retried with the same Message-ID, slots freed', async (t) => {
  const faulted: { kind: string; mail: ReceivedMail; atMs: number }[] = [];
  const receivedAtMs = new Map<string, number>();
  const smtp = await startTestSmtpServer({
    dataFault(mail) {
      const kind = /^Subject: (stall|close)-me/im.exec(mail.raw)?.[1] as 'stall' | 'close';
      // Only the first attempt of each misbehaves; the retry is accepted.
      if (!kind || faulted.some((f) => f.kind === kind)) return null;
      faulted.push({ kind, mail, atMs: Date.now() });
      return kind;
    },
    beforeAccept(mail) {
      receivedAtMs.set(messageIdOf(mail)!, Date.now());
    },
  });
  addCleanup(() => smtp.close());
  const svc = await startService({
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
  // Slots freed: the other messages went through while the stalled send waited for its reply.
  const stallEndMs = Date.parse(stalledNow.dispatches[0].at) + stalledNow.dispatches[0].durationMs;
  for (const other of othersNow) {
    assert.equal(other.attempts, 1);
    assert.ok(
      receivedAtMs.get(other.messageId)! < stallEndMs,
      `message ${other.id} waited for the stalled send to time out`,
    );
  }
  const { lost, duplicated } = tally(
    all.map((m) => m.messageId),
    smtp.received,
  );
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

test('one worker slot: a stalled send frees it when it times out', async () => {
  let stalls = 0;
  const smtp = await startTestSmtpServer({
    dataFault: () => (stalls++ === 0 ? 'stall' : null),
  });
  addCleanup(() => smtp.close());
  const svc = await startService({
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
