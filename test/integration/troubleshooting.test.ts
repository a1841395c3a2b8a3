import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Scope } from '../helpers/scope.ts';
import { startService, subscribe, wsClient, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import type { TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// "Why didn't my email arrive?": statistics, failure filters, configuration versions on events,
// bulk actions, presets and the test email — all through the API, against real SMTP servers.

const service = (scope: Scope, env: Record<string, string> = {}) =>
  startService(scope, { DELIVERY_MAX_ATTEMPTS: '3', ...env });

const plain = (server: TestSmtpServer, userinfo = '') =>
  `smtp://${userinfo}${server.host}:${server.port}/?disable_starttls=true`;

async function configure(svc: TestService, connectionUri: string) {
  const result = await svc.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    { input: { connectionUri, fromAddress: 'sender@example.com' } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.configureSmtp.version as number;
}

async function send(svc: TestService, to: string, subject = 'Hello') {
  const result = await svc.gql(
    `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
    { input: { to, subject, text: 'Hi' } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.sendEmail.id as string;
}

async function ids(svc: TestService, filter: Record<string, unknown>) {
  const result = await svc.gql(
    `query ($filter: MessageFilter) { messages(filter: $filter, first: 500) { totalCount edges { node { id } } } }`,
    { filter },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.messages.edges.map((edge: any) => edge.node.id).sort() as string[];
}

async function settle(svc: TestService, count: number) {
  await waitFor(async () => (await ids(svc, { status: ['SENT', 'ABANDONED'] })).length === count, {
    description: `${count} messages to settle`,
  });
}

describe('deliveryStats and failure filters', () => {
  test('counts, failures by code and domain, attempts per message, time to SENT', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      greylist: 1,
      rejectRecipients: (address) =>
        address.endsWith('@gone.example')
          ? { code: 550, message: '5.1.1 mailbox unavailable' }
          : null,
    });
    const svc = await service(t, { DELIVERY_RETRY_BASE_MS: '20' });
    await configure(svc, plain(smtp));
    const ok = [await send(svc, 'a@ok.example'), await send(svc, 'b@ok.example')];
    const gone = [await send(svc, 'x@gone.example')];
    await settle(svc, 3);

    const stats = await svc.gql(`{
      deliveryStats {
        since until queued sent abandoned cancelled retryScheduled attempts failedAttempts
        failuresByCode { code count } failuresByDomain { domain count }
        attemptsPerMessage { attempts messages }
        timeToSent { count p50Ms p95Ms p99Ms }
        queueDepth processing oldestQueuedAgeMs
      }
    }`);
    assert.equal(stats.errors, undefined, JSON.stringify(stats.errors));
    const s = stats.data.deliveryStats;
    assert.equal(s.queued, 3);
    assert.equal(s.sent, 2);
    assert.equal(s.abandoned, 1);
    assert.equal(s.cancelled, 0);
    // Greylisting: each ok.example message failed once (451) then went through.
    assert.equal(s.retryScheduled, 2);
    assert.equal(s.attempts, 5);
    assert.equal(s.failedAttempts, 3);
    assert.deepEqual(s.failuresByCode, [{ code: 'RECIPIENT_REJECTED', count: 3 }]);
    assert.deepEqual(s.failuresByDomain, [
      { domain: 'ok.example', count: 2 },
      { domain: 'gone.example', count: 1 },
    ]);
    assert.deepEqual(s.attemptsPerMessage, [
      { attempts: 1, messages: 1 },
      { attempts: 2, messages: 2 },
    ]);
    assert.equal(s.timeToSent.count, 2);
    assert.ok(s.timeToSent.p50Ms >= 1 && s.timeToSent.p99Ms >= s.timeToSent.p50Ms);
    assert.equal(s.queueDepth, 0);
    assert.equal(s.oldestQueuedAgeMs, null);

    // Counters are per minute: the answer names the whole minutes its figures cover.
    const inside = await svc.gql(
      `{ deliveryStats(since: "2026-12-08T03:18:20.500Z", until: "2026-12-08T03:18:20.501Z") { since until } }`,
    );
    assert.deepEqual(inside.data.deliveryStats, {
      since: '2026-12-08T03:18:00.000Z',
      until: '2026-12-08T03:19:00.000Z',
    });

    const empty = await svc.gql(
      `{ deliveryStats(since: "2020-01-01T00:00:00.000Z", until: "2020-01-02T00:00:00.000Z") { queued sent } }`,
    );
    assert.deepEqual(empty.data.deliveryStats, { queued: 0, sent: 0 });
    const backwards = await svc.gql(
      `{ deliveryStats(since: "2030-01-01T00:00:00Z", until: "2020-01-01T00:00:00Z") { queued } }`,
    );
    assert.equal(backwards.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

    // everFailed sees the greylisted messages although they are SENT now.
    assert.deepEqual(await ids(svc, { everFailed: true }), [...ok, ...gone].sort());
    assert.deepEqual(await ids(svc, { everFailed: true, status: ['SENT'] }), [...ok].sort());
    assert.deepEqual(
      await ids(svc, { errorCode: ['RECIPIENT_REJECTED'] }),
      [...ok, ...gone].sort(),
    );
    assert.deepEqual(await ids(svc, { errorCode: ['AUTH'] }), []);
  });
});

describe('configuration versions', () => {
  test('events carry the version in use; a fix plus retryConfigurationFailures revives AUTH failures', async (t) => {
    const smtp = await startTestSmtpServer(t, { auth: { username: 'app', password: 'right' } });
    const svc = await service(t, { DELIVERY_MAX_ATTEMPTS: '1' });
    const v1 = await configure(svc, plain(smtp, 'app:wrong@'));
    const id = await send(svc, 'someone@example.com');
    await settle(svc, 1);
    assert.deepEqual(await ids(svc, { smtpConfigVersion: v1, errorCode: ['AUTH'] }), [id]);

    const v2 = await configure(svc, plain(smtp, 'app:right@'));
    assert.equal(v2, v1 + 1);
    const revived = await svc.gql(`mutation { retryConfigurationFailures { affected skipped } }`);
    assert.deepEqual(revived.data.retryConfigurationFailures, { affected: 1, skipped: 0 });
    await waitFor(async () => (await ids(svc, { status: ['SENT'] })).length === 1);

    const timeline = await svc.gql(
      `query ($id: ID!) { message(id: $id) { events { status reason smtpConfigVersion } dispatches { smtpConfigVersion succeeded } } }`,
      { id },
    );
    const { events, dispatches } = timeline.data.message;
    assert.deepEqual(
      events.map((e: any) => [e.status, e.smtpConfigVersion]),
      [
        ['QUEUED', v1],
        ['PROCESSING', v1],
        ['ABANDONED', v1],
        ['QUEUED', v2],
        ['PROCESSING', v2],
        ['SENT', v2],
      ],
    );
    assert.deepEqual(dispatches, [
      { smtpConfigVersion: v1, succeeded: false },
      { smtpConfigVersion: v2, succeeded: true },
    ]);
    assert.deepEqual(await ids(svc, { smtpConfigVersion: v2 }), [id]);
  });
});

describe('bulk actions', () => {
  test('retryMessages and cancelMessages report what they changed and what they skipped', async (t) => {
    // While `held` is pending, the server keeps its refusals to itself: a retried message stays
    // in flight (not ABANDONED again, so not retryable) until the test has looked.
    let held: Promise<void> | null = null;
    const smtp = await startTestSmtpServer(t, {
      rejectRecipients: async (address) => {
        if (!address.startsWith('bad')) return null;
        await held;
        return { code: 550, message: '5.1.1 no such user' };
      },
    });
    const svc = await service(t);
    await configure(svc, plain(smtp));
    const bad = [await send(svc, 'bad1@example.com'), await send(svc, 'bad2@example.com')];
    await send(svc, 'good@example.com');
    await settle(svc, 3);

    let release!: () => void;
    held = new Promise<void>((resolve) => (release = resolve));
    const retried = await svc.gql(
      `mutation { retryMessages(filter: { everFailed: true }) { affected skipped } }`,
    );
    assert.deepEqual(retried.data.retryMessages, { affected: 2, skipped: 0 });
    // The retried messages are in flight and the good one is SENT: none of them is retryable.
    const all = await svc.gql(`mutation { retryMessages(filter: {}) { affected skipped } }`);
    release();
    assert.deepEqual(all.data.retryMessages, { affected: 0, skipped: 3 });
    await waitFor(async () => (await ids(svc, { status: ['ABANDONED'] })).length === 2, {
      description: 'the retried messages to be ABANDONED again',
    });
    const attempts = await svc.gql(
      `{ messages(filter: { everFailed: true }) { edges { node { attempts } } } }`,
    );
    assert.deepEqual(
      attempts.data.messages.edges.map((e: any) => e.node.attempts),
      bad.map(() => 2),
    );

    const cancelled = await svc.gql(
      `mutation { cancelMessages(filter: { status: [SENT] }) { affected skipped } }`,
    );
    assert.deepEqual(cancelled.data.cancelMessages, { affected: 0, skipped: 1 });
  });

  test('cancelMessages stops queued mail', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const { host, port } = smtp;
    await smtp.close();
    const svc = await service(t, { DELIVERY_RETRY_BASE_MS: '600000' });
    await configure(svc, `smtp://${host}:${port}/?disable_starttls=true`);
    await send(svc, 'one@example.com');
    await send(svc, 'two@example.com');
    await waitFor(
      async () => (await ids(svc, { status: ['QUEUED'], everFailed: true })).length === 2,
    );
    const cancelled = await svc.gql(
      `mutation { cancelMessages(filter: { recipient: "ONE@example.com" }) { affected skipped } }`,
    );
    assert.deepEqual(cancelled.data.cancelMessages, { affected: 1, skipped: 0 });
    assert.equal((await ids(svc, { status: ['CANCELLED'] })).length, 1);
  });
});

describe('presets and the test email', () => {
  test('smtpProviders lists presets; configureSmtpProvider encodes and stores, never echoing the secret', async (t) => {
    const svc = await service(t);
    const providers = await svc.gql(
      `{ smtpProviders { id name host port security fixedUsername usernameRule documentationNote } }`,
    );
    const byId = new Map(providers.data.smtpProviders.map((p: any) => [p.id, p]));
    for (const id of ['SENDGRID', 'MAILGUN_US', 'MAILGUN_EU', 'POSTMARK', 'GENERIC']) {
      assert.ok(byId.has(id), id);
    }
    assert.equal((byId.get('SENDGRID') as any).fixedUsername, 'apikey');
    assert.ok([...byId.keys()].some((id) => String(id).startsWith('AMAZON_SES_')));

    const configured = await svc.gql(
      `mutation ($input: ConfigureSmtpProviderInput!) { configureSmtpProvider(input: $input) { connectionUri version fromAddress } }`,
      {
        input: { provider: 'SENDGRID', password: 'SG.abc/def+ghi=', fromAddress: 'me@example.com' },
      },
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    assert.equal(
      configured.data.configureSmtpProvider.connectionUri,
      'smtp://apikey:***@smtp.sendgrid.net:587/',
    );
    assert.ok(!JSON.stringify(configured).includes('SG.abc'));

    const bad = await svc.gql(
      `mutation ($input: ConfigureSmtpProviderInput!) { configureSmtpProvider(input: $input) { version } }`,
      { input: { provider: 'GENERIC', password: 'Secret-123', fromAddress: 'nope' } },
    );
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(bad.errors![0]!.message, /input\.host/);
    assert.match(bad.errors![0]!.message, /input\.fromAddress/);
    assert.ok(!JSON.stringify(bad).includes('Secret-123'));
    const history = await svc.gql(`{ smtpConfigHistory { version } }`);
    assert.equal(history.data.smtpConfigHistory.length, 1, 'the bad input stored nothing');
  });

  test('sendTestEmail sends one real message through the configuration in use', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const svc = await service(t);
    await configure(svc, plain(smtp));
    const result = await svc.gql(`mutation { sendTestEmail(to: "ops@example.com") { id status } }`);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    await waitFor(() => smtp.received.length === 1);
    assert.match(smtp.received[0]!.raw, /^Subject: mailscope test email$/m);
    const invalid = await svc.gql(`mutation { sendTestEmail(to: "not an address") { id } }`);
    assert.equal(invalid.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});

describe('queueStats subscription', () => {
  test('pushes figures at once and again when mail moves', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const svc = await service(t);
    await configure(svc, plain(smtp));
    const client = wsClient(t, svc.url);
    const stats = subscribe(
      client,
      `subscription { queueStats(windowSeconds: 600, intervalMs: 250) { queued sent queueDepth } }`,
    );
    await waitFor(() => stats.received.length >= 1);
    assert.deepEqual(stats.received[0], { queueStats: { queued: 0, sent: 0, queueDepth: 0 } });
    await send(svc, 'watch@example.com');
    await waitFor(() => stats.received.some((s: any) => s.queueStats.sent === 1), {
      description: 'a push with the message sent',
    });
    stats.unsubscribe();
    await client.dispose();
  });
});

describe('verifySmtp', () => {
  const VERIFY = `query ($uri: String) { verifySmtp(connectionUri: $uri) {
    ok connectionUri totalDurationMs
    steps { name ok durationMs detail addresses banner extensions authMechanisms maxMessageSize
      auth { mechanism accepted response }
      error { code responseCode command hint permanent } }
  } }`;

  test('checks the stored configuration step by step without sending mail', async (t) => {
    const smtp = await startTestSmtpServer(t, { auth: { username: 'app', password: 'Pa55-word' } });
    const svc = await service(t);
    await configure(svc, plain(smtp, 'app:Pa55-word@'));
    const result = await svc.gql(VERIFY);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const report = result.data.verifySmtp;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.steps.map((step: any) => step.name),
      ['DNS', 'CONNECT', 'GREETING', 'EHLO', 'AUTH'],
    );
    assert.equal(report.steps[4].auth.accepted, true);
    assert.equal(report.connectionUri, plain(smtp, 'app:***@'));
    assert.equal(smtp.received.length, 0, 'nothing was sent');
    assert.ok(!JSON.stringify(result).includes('Pa55-word'));
  });

  test('a wrong password stops at AUTH with an AUTH error and a hint', async (t) => {
    const smtp = await startTestSmtpServer(t, { auth: { username: 'app', password: 'Pa55-word' } });
    const svc = await service(t);
    const result = await svc.gql(VERIFY, { uri: plain(smtp, 'app:Wr0ng-word@') });
    const report = result.data.verifySmtp;
    assert.equal(report.ok, false);
    const last = report.steps.at(-1);
    assert.equal(last.name, 'AUTH');
    assert.equal(last.error.code, 'AUTH');
    assert.equal(last.error.responseCode, 535);
    assert.match(last.error.hint, /%40/);
    assert.ok(!JSON.stringify(result).includes('Wr0ng-word'));
  });

  test('a bad URI is BAD_USER_INPUT', async (t) => {
    const svc = await service(t);
    const result = await svc.gql(VERIFY, { uri: 'http://x:Secret-9@example.com' });
    assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.ok(!JSON.stringify(result).includes('Secret-9'));
  });
});
