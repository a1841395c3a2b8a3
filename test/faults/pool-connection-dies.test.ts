import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { reportFigures, tally } from '../helpers/faults.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 6: a pooled SMTP connection dies between messages. The next message goes out on a new
// connection and is not charged an attempt for a failure that happened before it was sent.
//
// What makes it hold: the connection pool (src/smtp/connection-pool.ts) drops a connection the
// server closed while idle, and a reused connection found dead at the next MAIL FROM (closed, or
// a 421 "closing channel" reply: the server's idle timeout crossed our command) is re-queued once
// onto a fresh connection (`maxRequeues: 1` in transport.ts) before the send's promise settles.
// The 421 case used to be charged an attempt: nodemailer marks the envelope object it is given
// with its MAIL FROM failure, and the same object given again on the re-queue failed the retry
// at once; the pool now gives each try an envelope of its own. A connection that dies after the
// final dot is not re-queued: the server may have the message, so that attempt is recorded
// (fault 4).

test('a pooled connection dies between messages: the next one is sent on a new connection, one attempt', async (t) => {
  let dropAtMailFrom: 'close' | '421' | null = null;
  const smtp = await startTestSmtpServer(t, {
    // The second transaction of a session finds the connection gone: the server drops it the
    // moment MAIL FROM arrives, before replying.
    mailFromFault: ({ transaction }) => {
      if (dropAtMailFrom === null || transaction < 2) return null;
      const fault = dropAtMailFrom;
      dropAtMailFrom = null;
      return fault;
    },
  });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
    DELIVERY_CONCURRENCY: '1',
    SMTP_MAX_CONNECTIONS: '1',
  });
  const first = await sendOne(svc, 'first@example.com');
  await waitForStatus(svc, [first.id], 'SENT');
  assert.equal(smtp.connectionCount, 1);

  // 1. The server drops the idle connection (an idle timeout, a restart of its own).
  smtp.dropConnections();
  await waitFor(() => smtp.openConnections === 0, { description: 'the connection to be gone' });
  const second = await sendOne(svc, 'second@example.com');
  const [afterIdleDrop] = await waitForStatus(svc, [second.id], 'SENT');
  assert.equal(smtp.connectionCount, 2, 'a new connection was opened');

  // 2. The connection dies just as the next message starts on it.
  dropAtMailFrom = 'close';
  const third = await sendOne(svc, 'third@example.com');
  const [afterDeadOnUse] = await waitForStatus(svc, [third.id], 'SENT');
  assert.equal(dropAtMailFrom, null, 'the connection was dropped at MAIL FROM');
  assert.equal(smtp.connectionCount, 3, 'a new connection was opened');

  // 3. The server's idle timeout crosses the next MAIL FROM: it answers 421 and closes.
  dropAtMailFrom = '421';
  const fourth = await sendOne(svc, 'fourth@example.com');
  const [after421] = await waitForStatus(svc, [fourth.id], 'SENT');
  assert.equal(dropAtMailFrom, null, 'the server answered MAIL FROM with 421');
  assert.equal(smtp.connectionCount, 4, 'a new connection was opened');

  for (const message of [afterIdleDrop, afterDeadOnUse, after421]) {
    assert.equal(message.attempts, 1, JSON.stringify(message.dispatches));
    assert.equal(message.dispatches.length, 1);
    assert.equal(message.dispatches[0].succeeded, true);
  }
  const { lost, duplicated } = tally(
    [first.messageId, second.messageId, third.messageId, fourth.messageId],
    smtp.received,
  );
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0);
  reportFigures(t, '6 pooled connection dies between messages', {
    acknowledged: 4,
    sent: 4 - lost.length,
    lost: lost.length,
    duplicated,
    // The send that found its connection dead, from start to 250 on the new connection.
    recoverMs: afterDeadOnUse.dispatches[0].durationMs,
    attemptsCharged: afterIdleDrop.attempts + afterDeadOnUse.attempts + after421.attempts,
    connectionsOpened: smtp.connectionCount,
  });
});
