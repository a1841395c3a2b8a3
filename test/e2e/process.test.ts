import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The service as a real process (`npm start`'s command): restarts, SIGTERM and kill -9.

const dir = tempDir();
after(() => dir.remove());

const gql = (url: string, query: string, variables: Record<string, unknown> = {}) =>
  graphqlRequest(`${url}/graphql`, query, variables);

const COUNT_BY_STATUS = `{
  queued: messages(filter: { status: [QUEUED] }) { totalCount }
  processing: messages(filter: { status: [PROCESSING] }) { totalCount }
  sent: messages(filter: { status: [SENT] }) { totalCount }
  all: messages { totalCount }
}`;

test('a restart keeps configuration and history', async () => {
  const smtp = await startTestSmtpServer({ auth: { username: 'keeper', password: 's3cret' } });
  const env = { DATABASE_PATH: join(dir.path, 'restart.db') };
  const first = await startServiceProcess(env);
  const configured = await gql(
    first.url,
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://keeper:s3cret@${smtp.host}:${smtp.port}/?disable_starttls=true`,
        fromAddress: 'keeper@example.com',
      },
    },
  );
  assert.equal(configured.data.configureSmtp.version, 1);
  const sent = await gql(
    first.url,
    `mutation { sendEmail(input: { to: "r@example.com", subject: "s", text: "t" }) { id } }`,
  );
  const id = sent.data.sendEmail.id;
  await waitFor(
    async () =>
      (await gql(first.url, `{ message(id: "${id}") { status } }`)).data.message.status === 'SENT',
  );
  assert.equal(await first.stop(), 0, first.output());

  const second = await startServiceProcess(env);
  try {
    const config = await gql(
      second.url,
      `{ smtpConfig { version embedded connectionUri fromAddress } }`,
    );
    assert.deepEqual(config.data.smtpConfig, {
      version: 1,
      embedded: false,
      connectionUri: `smtp://keeper:***@${smtp.host}:${smtp.port}/?disable_starttls=true`,
      fromAddress: 'keeper@example.com',
    });
    const message = await gql(
      second.url,
      `{ message(id: "${id}") { status attempts events { status } } }`,
    );
    assert.equal(message.data.message.status, 'SENT');
    assert.deepEqual(
      message.data.message.events.map((e: any) => e.status),
      ['QUEUED', 'PROCESSING', 'SENT'],
    );
  } finally {
    await second.stop();
    await smtp.close();
  }
});

test('kill -9 mid-burst, then restart: every accepted message is delivered', async () => {
  // A slow server keeps messages in flight when the process dies.
  const smtp = await startTestSmtpServer({ keepMessages: true });
  const env = {
    DATABASE_PATH: join(dir.path, 'crash.db'),
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    DELIVERY_LEASE_MS: '1000',
    DELIVERY_CONCURRENCY: '8',
    SMTP_MAX_CONNECTIONS: '2',
  };
  const first = await startServiceProcess(env);
  const accepted: string[] = [];
  const sends = Array.from(
    { length: 200 },
    (_, i) =>
      gql(
        first.url,
        `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id messageId } }`,
        { input: { to: `crash${i}@example.com`, subject: `crash ${i}`, text: 'x' } },
      )
        .then((result) => {
          if (result.data?.sendEmail) accepted.push(result.data.sendEmail.messageId);
        })
        .catch(() => {}), // requests cut off by the kill were never accepted
  );
  await waitFor(() => smtp.receivedCount >= 20, { description: 'deliveries to start' });
  await first.kill();
  await Promise.all(sends);
  assert.ok(accepted.length >= 20, `only ${accepted.length} accepted`);

  const second = await startServiceProcess(env);
  try {
    await waitFor(
      async () => {
        const counts = (await gql(second.url, COUNT_BY_STATUS)).data;
        return counts.sent.totalCount === counts.all.totalCount;
      },
      { timeoutMs: 30_000, description: 'every message to be SENT after the restart' },
    );
    const delivered = new Set(
      smtp.received.map((mail) => /^Message-ID: (.+)$/im.exec(mail.raw)?.[1]?.trim()),
    );
    const missing = accepted.filter((messageId) => !delivered.has(messageId));
    assert.deepEqual(missing, [], 'accepted messages that never reached the SMTP server');
  } finally {
    await second.stop();
    await smtp.close();
  }
});

test('SIGTERM: exits promptly with nothing left PROCESSING', async () => {
  const smtp = await startTestSmtpServer({ stall: 'data' });
  const env = {
    DATABASE_PATH: join(dir.path, 'sigterm.db'),
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    SMTP_TIMEOUT_MS: '60000',
  };
  const first = await startServiceProcess(env);
  for (let i = 0; i < 3; i++) {
    await gql(
      first.url,
      `mutation { sendEmail(input: { to: "t${i}@example.com", subject: "s", text: "t" }) { id } }`,
    );
  }
  await waitFor(
    async () => (await gql(first.url, COUNT_BY_STATUS)).data.processing.totalCount === 3,
  );
  const stoppedAt = Date.now();
  assert.equal(await first.stop(), 0, first.output());
  assert.ok(Date.now() - stoppedAt < 10_000, 'shutdown took too long');
  await smtp.close();

  const idle = await startTestSmtpServer();
  const second = await startServiceProcess({
    ...env,
    SMTP_CONNECTION_URI: `smtp://${idle.host}:${idle.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  });
  try {
    const timeline = await gql(
      second.url,
      `{ messages { edges { node { events { status reason } } } } }`,
    );
    for (const edge of timeline.data.messages.edges) {
      const reasons = edge.node.events.map((e: any) => e.reason);
      assert.ok(reasons.includes('released_on_shutdown'), JSON.stringify(reasons));
    }
  } finally {
    await second.stop();
    await idle.close();
  }
});
