import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendOne, waitForStatus } from '../helpers/fault-service.ts';
import { reportFigures, tally } from '../helpers/faults.ts';
import { serviceStarter, trackCleanups } from '../helpers/fixtures.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Fault 6: a pooled SMTP connection dies between messages. The next message goes out on a new
// connection and is not charged an attempt for a failure that happened before it was sent.
//
// What makes it hold: nodemailer's pool drops a connection the server closed while idle, and a
// connection found dead when the next message's MAIL FROM goes out (the server's close crossed
// it on the wire) is re-queued once onto a fresh connection (`maxRequeues: 1` in transport.ts)
// before the send's promise settles. A connection that dies after the final dot is not
// re-queued: the message may have been accepted, so that attempt fails and is recorded (fault 4).

const addCleanup = trackCleanups();
const startService = serviceStarter(addCleanup);

test('a pooled connection dies between messages: the next one is sent on a new connection, one attempt', async (t) => {
  let dropAtMailFrom = false;
  const smtp = await startTestSmtpServer({
    // The second transaction of a session finds the connection gone: the server drops it the
    // moment MAIL FROM arrives, before replying.
    mailFromFault: ({ transaction }) => {
      if (!dropAtMailFrom || transaction < 2) return null;
      dropAtMailFrom = false;
      return 'close';
    },
  });
  addCleanup(() => smtp.close());
  const svc = await startService({
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
  dropAtMailFrom = true;
  const third = await sendOne(svc, 'third@example.com');
  const [afterDeadOnUse] = await waitForStatus(svc, [third.id], 'SENT');
  assert.equal(dropAtMailFrom, false, 'the connection was dropped at MAIL FROM');
  assert.equal(smtp.connectionCount, 3, 'a new connection was opened');

  for (const message of [afterIdleDrop, afterDeadOnUse]) {
    assert.equal(message.attempts, 1, JSON.stringify(message.dispatches));
    assert.equal(message.dispatches.length, 1);
    assert.equal(message.dispatches[0].succeeded, true);
  }
  const { lost, duplicated } = tally(
    [first.messageId, second.messageId, third.messageId],
    smtp.received,
  );
  assert.deepEqual(lost, []);
  assert.equal(duplicated, 0);
  reportFigures(t, '6 pooled connection dies between messages', {
    acknowledged: 3,
    sent: 3 - lost.length,
    lost: lost.length,
    duplicated,
    // The send that found its connection dead, from start to 250 on the new connection.
    recoverMs: afterDeadOnUse.dispatches[0].durationMs,
    attemptsCharged: afterIdleDrop.attempts + afterDeadOnUse.attempts,
    connectionsOpened: smtp.connectionCount,
  });
});
