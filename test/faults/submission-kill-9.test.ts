import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { freePort } from '../helpers/postgres.ts';
import { closeWith } from '../helpers/scope.ts';
import { graphqlRequest, startServiceProcess } from '../helpers/service.ts';
import { startStallingServer, startTestSmtpServer } from '../helpers/smtp-server.ts';
import { createTestDatabase, TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// SMTP submission's promise: a 250 means nothing will be lost. The service is killed with
// SIGKILL right after it answered 250, while its first attempt is stuck on an SMTP server that
// never greets; restarted on the same database (and a working SMTP server), it delivers every
// recipient's message, with the submitted bytes.

const TOKEN = 'kill-9-submission-admin-token';

test(`kill -9 right after the 250 of an SMTP submission (${TEST_DIALECT}): delivered after the restart`, async (t) => {
  const database = await createTestDatabase();
  closeWith(t, () => database.remove());
  const stalling = await startStallingServer(t);
  const sink = await startTestSmtpServer(t);
  const submissionPort = await freePort();
  const env = {
    ...database.env,
    API_TOKEN: TOKEN,
    EMBEDDED_SMTP_PORT: 'off',
    SUBMISSION_PORT: String(submissionPort),
    SMTP_FROM_ADDRESS: 'relay@mailscope.test',
    DELIVERY_LEASE_MS: '1000',
  };
  const first = await startServiceProcess(t, {
    ...env,
    SMTP_CONNECTION_URI: `smtp://${stalling.host}:${stalling.port}/?disable_starttls=true`,
    // The first attempt waits on the silent server for as long as the test needs.
    SMTP_TIMEOUT_MS: '60000',
  });
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: submissionPort,
    // Loopback may AUTH in cleartext; this listener has no certificate.
    ignoreTLS: true,
    auth: { user: 'app', pass: TOKEN },
  });
  closeWith(t, () => transport.close());
  const raw = Buffer.from(
    'From: app@example.com\r\nTo: ana@example.com\r\nCc: bo@example.com\r\n' +
      'Message-ID: <kill-9-submission@example.com>\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\n' +
      'Subject: survives\r\n\r\n' +
      'The 250 was a promise.\r\n',
  );
  const info = await transport.sendMail({
    envelope: { from: 'app@example.com', to: ['ana@example.com', 'bo@example.com'] },
    raw,
  });
  assert.match(info.response, /^250 /);
  await first.kill();
  assert.equal(sink.received.length, 0, 'nothing reached the working server before the kill');

  const second = await startServiceProcess(t, {
    ...env,
    SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
  });
  await waitFor(() => sink.received.length >= 2, {
    timeoutMs: 30_000,
    description: 'both recipients delivered after the restart',
  });
  assert.deepEqual(sink.received.map((mail) => mail.to[0]).sort(), [
    'ana@example.com',
    'bo@example.com',
  ]);
  for (const mail of sink.received) assert.equal(mail.raw, raw.toString('utf8'));
  await waitFor(async () => {
    const now = await graphqlRequest(
      `${second.url}/graphql`,
      `{ messages { edges { node { status } } } }`,
      {},
      TOKEN,
    );
    return now.data.messages.edges.every((e: any) => e.node.status === 'SENT');
  });
  const stored = await graphqlRequest(
    `${second.url}/graphql`,
    `{ messages { totalCount edges { node { status submittedOverSmtp } } } }`,
    {},
    TOKEN,
  );
  assert.equal(stored.data.messages.totalCount, 2);
  assert.ok(stored.data.messages.edges.every((e: any) => e.node.submittedOverSmtp));
});
