import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Scope } from '../helpers/scope.ts';
import { startTestSmtpServer, startStallingServer } from '../helpers/smtp-server.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The delivery pipeline against real SMTP servers: each scenario configures the service with a
// server that behaves one way, sends through GraphQL, and checks what a person would look at.

const MESSAGE_FIELDS = `
  id status attempts recipient messageId
  lastError { code message responseCode enhancedStatus command response permanent hint }
  dispatches { attempt succeeded durationMs response at transcript
    error { code responseCode enhancedStatus command response permanent hint } }
  events { status previousStatus reason attempt }
`;

const service = (scope: Scope, env: Record<string, string> = {}) =>
  startService(scope, { DELIVERY_MAX_ATTEMPTS: '3', ...env });

/**
 * Where nothing listens: port 1 is below the range ports are handed out from, so no test or
 * other process can be listening there (a port freed by a closed server could be taken again).
 */
const NOTHING_LISTENS = { host: '127.0.0.1', port: 1 };

async function configure(svc: TestService, connectionUri: string) {
  const result = await svc.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version connectionUri } }`,
    { input: { connectionUri, fromAddress: 'sender@example.com', fromName: 'Sender' } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.configureSmtp;
}

async function send(svc: TestService, to = 'bob@example.com') {
  const result = await svc.gql(
    `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id status } }`,
    { input: { to, subject: 'Hello', text: 'Hi Bob' } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  assert.equal(result.data.sendEmail.status, 'QUEUED');
  return result.data.sendEmail.id as string;
}

async function message(svc: TestService, id: string) {
  const result = await svc.gql(`query ($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`, {
    id,
  });
  return result.data.message;
}

async function settled(svc: TestService, id: string, status: string) {
  return waitFor(
    async () => {
      const current = await message(svc, id);
      return current.status === status ? current : null;
    },
    { description: `message ${id} to be ${status}` },
  );
}

describe('delivery through a real SMTP server', () => {
  test('accepted: SENT with the server reply recorded and the message on the server', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      acceptMessage: () => '2.0.0 Ok: queued as 4XyZ',
    });
    const svc = await service(t);
    await configure(svc, `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`);
    const id = await send(svc);
    const sent = await settled(svc, id, 'SENT');
    assert.equal(sent.attempts, 1);
    assert.equal(sent.dispatches.length, 1);
    assert.equal(sent.dispatches[0].succeeded, true);
    assert.equal(sent.dispatches[0].response, '250 2.0.0 Ok: queued as 4XyZ');
    assert.equal(sent.dispatches[0].transcript, null, 'successes keep no transcript by default');
    assert.deepEqual(
      sent.events.map((e: any) => `${e.previousStatus}->${e.status}:${e.reason}`),
      ['null->QUEUED:queued', 'QUEUED->PROCESSING:claimed', 'PROCESSING->SENT:sent'],
    );
    assert.equal(smtp.received.length, 1);
    const mail = smtp.received[0]!;
    assert.deepEqual(mail.to, ['bob@example.com']);
    assert.equal(mail.from, 'sender@example.com');
    assert.match(mail.raw, /^Subject: Hello$/m);
    assert.ok(mail.raw.includes(`Message-ID: ${sent.messageId}`), mail.raw.slice(0, 500));
  });

  test('RCPT 550 5.1.1: one attempt, ABANDONED, permanent RECIPIENT_REJECTED', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      rejectRecipients: (address) =>
        address === 'nobody@example.com'
          ? { code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected' }
          : null,
    });
    const svc = await service(t);
    await configure(svc, `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`);
    const id = await send(svc, 'nobody@example.com');
    const abandoned = await settled(svc, id, 'ABANDONED');
    assert.equal(abandoned.attempts, 1);
    const error = abandoned.lastError;
    assert.equal(error.code, 'RECIPIENT_REJECTED');
    assert.equal(error.responseCode, 550);
    assert.equal(error.enhancedStatus, '5.1.1');
    assert.equal(error.permanent, true);
    assert.match(error.command, /RCPT/);
    assert.match(error.response, /^550 5\.1\.1 <nobody@example.com>: Recipient address rejected/);
    assert.ok(error.hint);
    assert.equal(abandoned.events.at(-1).reason, 'failed_permanently');
    assert.equal(smtp.received.length, 0);
    // The attempt's own SMTP conversation, ending in the refusal.
    const transcript: string = abandoned.dispatches[0].transcript;
    assert.match(transcript, /^C: RCPT TO:<nobody@example\.com>$/m);
    assert.match(transcript, /^S: 550 5\.1\.1 <nobody@example\.com>: Recipient address rejected/m);
  });

  test('451 greylisting: retried with backoff, then SENT', async (t) => {
    const smtp = await startTestSmtpServer(t, { greylist: 2 });
    const svc = await service(t);
    await configure(svc, `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`);
    const id = await send(svc);
    const sent = await settled(svc, id, 'SENT');
    assert.equal(sent.attempts, 3);
    assert.deepEqual(
      sent.dispatches.map((d: any) => [d.attempt, d.succeeded, d.error?.responseCode ?? null]),
      [
        [1, false, 451],
        [2, false, 451],
        [3, true, null],
      ],
    );
    assert.equal(sent.dispatches[0].error.permanent, false);
    const retries = sent.events.filter((e: any) => e.reason === 'retry_scheduled');
    assert.equal(retries.length, 2);
  });

  test('server down: CONNECTION errors, retried, then ABANDONED after the attempt budget', async (t) => {
    const { host, port } = NOTHING_LISTENS;
    const svc = await service(t);
    await configure(svc, `smtp://${host}:${port}/?disable_starttls=true`);
    const id = await send(svc);
    const abandoned = await settled(svc, id, 'ABANDONED');
    assert.equal(abandoned.attempts, 3);
    assert.ok(abandoned.dispatches.every((d: any) => d.error.code === 'CONNECTION'));
    assert.equal(abandoned.lastError.permanent, false);
    assert.equal(abandoned.events.at(-1).reason, 'attempts_exhausted');
  });

  test('a server that stalls: TIMEOUT', async (t) => {
    const stalling = await startStallingServer(t);
    const svc = await service(t, { SMTP_TIMEOUT_MS: '300', DELIVERY_MAX_ATTEMPTS: '1' });
    await configure(svc, `smtp://${stalling.host}:${stalling.port}/?disable_starttls=true`);
    const id = await send(svc);
    const abandoned = await settled(svc, id, 'ABANDONED');
    assert.equal(abandoned.lastError.code, 'TIMEOUT');
    assert.equal(abandoned.lastError.permanent, false);
  });

  test('AUTH 535 is retried, and fixing the configuration lets queued mail flow', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      auth: { username: 'ada@example.com', password: 'p@ss/w0rd' },
    });
    // A ten-minute backoff: only the configuration change can make the message go again soon.
    const svc = await service(t, { DELIVERY_RETRY_BASE_MS: '600000' });
    const base = `${smtp.host}:${smtp.port}/?disable_starttls=true`;
    await configure(svc, `smtp://ada%40example.com:wrong-secret@${base}`);
    const id = await send(svc);
    const failing = await waitFor(async () => {
      const current = await message(svc, id);
      return current.attempts >= 1 && current.status === 'QUEUED' ? current : null;
    });
    assert.equal(failing.lastError.code, 'AUTH');
    assert.equal(failing.lastError.responseCode, 535);
    assert.equal(failing.lastError.permanent, false);
    assert.ok(!JSON.stringify(failing).includes('wrong-secret'), 'password leaked');
    const authTranscript = (await message(svc, id)).dispatches[0].transcript as string;
    assert.match(authTranscript, /AUTH PLAIN/);
    assert.match(authTranscript, /535/);
    for (const secret of ['wrong-secret', Buffer.from('wrong-secret').toString('base64')]) {
      assert.ok(!authTranscript.includes(secret), 'password leaked into the transcript');
    }

    const fixed = await configure(svc, `smtp://ada%40example.com:p%40ss%2Fw0rd@${base}`);
    assert.equal(fixed.connectionUri.includes('p%40ss'), false);
    const sent = await settled(svc, id, 'SENT');
    assert.ok(sent.attempts >= 2);
    assert.equal(smtp.received[0]!.user, 'ada@example.com');
  });

  test('retryMessage grants a fresh budget to an ABANDONED message', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      rejectRecipients: () => ({ code: 550, message: '5.1.1 no such user' }),
    });
    const svc = await service(t);
    await configure(svc, `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`);
    const id = await send(svc);
    await settled(svc, id, 'ABANDONED');

    const cancel = await svc.gql(`mutation ($id: ID!) { cancelMessage(id: $id) { id } }`, { id });
    assert.equal(cancel.errors?.[0]?.extensions?.code, 'CONFLICT');

    const retried = await svc.gql(`mutation ($id: ID!) { retryMessage(id: $id) { status } }`, {
      id,
    });
    assert.equal(retried.data.retryMessage.status, 'QUEUED');
    const again = await settled(svc, id, 'ABANDONED');
    assert.equal(again.attempts, 2);
    assert.deepEqual(
      again.events.map((e: any) => e.reason),
      ['queued', 'claimed', 'failed_permanently', 'retried', 'claimed', 'failed_permanently'],
    );

    const missing = await svc.gql(`mutation { retryMessage(id: "999999") { id } }`);
    assert.equal(missing.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  test('cancelMessage stops a message waiting for its retry; retryMessage revives it', async (t) => {
    const { host, port } = NOTHING_LISTENS;
    const svc = await service(t, { DELIVERY_RETRY_BASE_MS: '600000' });
    await configure(svc, `smtp://${host}:${port}/?disable_starttls=true`);
    const id = await send(svc);
    await waitFor(async () => (await message(svc, id)).attempts === 1);
    const waiting = await message(svc, id);
    assert.equal(waiting.status, 'QUEUED');

    const retryQueued = await svc.gql(`mutation ($id: ID!) { retryMessage(id: $id) { id } }`, {
      id,
    });
    assert.equal(retryQueued.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.match(retryQueued.errors[0].message, /QUEUED/);

    const cancelled = await svc.gql(`mutation ($id: ID!) { cancelMessage(id: $id) { status } }`, {
      id,
    });
    assert.equal(cancelled.data.cancelMessage.status, 'CANCELLED');
    const revived = await svc.gql(`mutation ($id: ID!) { retryMessage(id: $id) { status } }`, {
      id,
    });
    assert.equal(revived.data.retryMessage.status, 'QUEUED');
    await waitFor(async () => (await message(svc, id)).attempts === 2);
  });
});
