import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createSendRateLimiter } from '../../src/auth/send-rate-limiter.ts';
import { fileScope } from '../helpers/scope.ts';
import { graphqlRequest, startService, type TestService } from '../helpers/service.ts';

// SEND_RATE_LIMIT_PER_MINUTE: a token bucket per token; the send past the limit is RATE_LIMITED
// with a retry-after, and nothing is stored for it.

const BOOTSTRAP = 'rate-limit-admin';
let svc: TestService;
before(async () => {
  // The service-wide limit is raised so that each token's own bucket is what is tested here
  // (token-lineage.test.ts has the service-wide one).
  svc = await startService(fileScope, {
    API_TOKEN: BOOTSTRAP,
    SEND_RATE_LIMIT_PER_MINUTE: '2',
    SEND_RATE_LIMIT_TOTAL_PER_MINUTE: '100',
  });
});

const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;
const send = (token: string, to: string) =>
  graphqlRequest(`${svc.url}/graphql`, SEND, { to }, token);

test('the third send in a minute is RATE_LIMITED with retryAfterSeconds; each token has its own bucket', async () => {
  assert.equal((await send(BOOTSTRAP, 'a@example.com')).errors, undefined);
  assert.equal((await send(BOOTSTRAP, 'b@example.com')).errors, undefined);
  const limited = await send(BOOTSTRAP, 'c@example.com');
  assert.equal(limited.status, 200);
  assert.equal(limited.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  const retryAfter = limited.errors?.[0]?.extensions?.['retryAfterSeconds'];
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30,
    String(retryAfter),
  );

  const testEmail = await graphqlRequest(
    `${svc.url}/graphql`,
    `mutation { sendTestEmail(to: "t@example.com") { id } }`,
    {},
    BOOTSTRAP,
  );
  assert.equal(testEmail.errors?.[0]?.extensions?.code, 'RATE_LIMITED', 'sendTestEmail counts too');

  const count = await graphqlRequest(
    `${svc.url}/graphql`,
    `{ messages { totalCount } }`,
    {},
    BOOTSTRAP,
  );
  assert.equal(count.data.messages.totalCount, 2, 'the refused send stored nothing');

  const created = await graphqlRequest(
    `${svc.url}/graphql`,
    `mutation { createApiToken(name: "app", scope: ADMIN) { token } }`,
    {},
    BOOTSTRAP,
  );
  const other = created.data.createApiToken.token as string;
  assert.equal(
    (await send(other, 'd@example.com')).errors,
    undefined,
    'another token, another bucket',
  );
});

test('the bucket refills continuously: one send every 60 s / limit', async () => {
  let now = 0;
  const limiter = createSendRateLimiter({ perMinute: 6, now: () => now });
  for (let i = 0; i < 6; i++) assert.deepEqual(await limiter.take('k'), { ok: true });
  assert.deepEqual(await limiter.take('k'), { ok: false, retryAfterMs: 10_000 });
  now = 9_999;
  assert.equal((await limiter.take('k')).ok, false);
  now = 10_000;
  assert.equal((await limiter.take('k')).ok, true);
  assert.equal((await limiter.take('other')).ok, true);
  const unlimited = createSendRateLimiter({ perMinute: null });
  for (let i = 0; i < 1_000; i++) assert.equal((await unlimited.take('k')).ok, true);
});

test('sendEmails counts every message it carries, all or none', async () => {
  let now = 0;
  const limiter = createSendRateLimiter({ perMinute: 6, now: () => now });
  assert.deepEqual(await limiter.take('k', 4), { ok: true });
  assert.deepEqual(await limiter.take('k', 3), { ok: false, retryAfterMs: 10_000 });
  assert.deepEqual(await limiter.take('k', 2), { ok: true }, 'the refused batch took nothing');
  assert.deepEqual(await limiter.take('k', 7), { ok: false, exceedsCapacity: 6 });
});

test('over the API: a batch beyond what is left is RATE_LIMITED and stores nothing', async (t) => {
  const batchSvc = await startService(t, { API_TOKEN: BOOTSTRAP, SEND_RATE_LIMIT_PER_MINUTE: '5' });
  const sendMany = (count: number) =>
    graphqlRequest(
      `${batchSvc.url}/graphql`,
      `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: count }, (_, i) => ({
          to: `u${i}@example.com`,
          subject: 's',
          text: 't',
        })),
      },
      BOOTSTRAP,
    );
  assert.equal((await sendMany(3)).errors, undefined);
  const limited = await sendMany(3);
  assert.equal(limited.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  assert.ok(limited.errors?.[0]?.extensions?.['retryAfterSeconds'] >= 1);
  const tooBig = await sendMany(6);
  assert.equal(tooBig.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  assert.match(tooBig.errors![0]!.message, /6 messages in one call are more than the 5 per minute/);
  assert.equal(tooBig.errors?.[0]?.extensions?.['retryAfterSeconds'], undefined);
  const count = await graphqlRequest(
    `${batchSvc.url}/graphql`,
    `{ messages { totalCount } }`,
    {},
    BOOTSTRAP,
  );
  assert.equal(count.data.messages.totalCount, 3);
});

test('a call refused for its input costs the token nothing: the corrected retry goes through', async (t) => {
  const inputSvc = await startService(t, { API_TOKEN: BOOTSTRAP, SEND_RATE_LIMIT_PER_MINUTE: '3' });
  const call = (query: string, variables: Record<string, unknown>) =>
    graphqlRequest(`${inputSvc.url}/graphql`, query, variables, BOOTSTRAP);
  const SEND_MANY = `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`;
  const batch = (badAt: number | null) =>
    Array.from({ length: 3 }, (_, i) => ({
      to: i === badAt ? 'not an address' : `u${i}@example.com`,
      subject: 's',
      text: 't',
    }));
  for (let i = 0; i < 5; i++) {
    const refused = await call(SEND, { to: 'no-at-sign' });
    assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(refused.errors?.[0]?.extensions?.['field'], 'input.to');
    const badBatch = await call(SEND_MANY, { inputs: batch(1) });
    assert.equal(badBatch.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(badBatch.errors?.[0]?.extensions?.['field'], 'inputs[1].to');
  }
  const corrected = await call(SEND_MANY, { inputs: batch(null) });
  assert.equal(corrected.errors, undefined, 'the whole minute of sends is still there');
  assert.equal(corrected.data.sendEmails.length, 3);
  const fourth = await call(SEND, { to: 'd@example.com' });
  assert.equal(fourth.errors?.[0]?.extensions?.code, 'RATE_LIMITED', 'and the limit still holds');
});
