import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSendRateLimiter } from '../../src/auth/send-rate-limiter.ts';
import { graphqlRequest, startService, type TestService } from '../helpers/service.ts';

// SEND_RATE_LIMIT_PER_MINUTE: a token bucket per token; the send past the limit is RATE_LIMITED
// with a retry-after, and nothing is stored for it.

const BOOTSTRAP = 'rate-limit-admin';
let svc: TestService;
before(async () => {
  svc = await startService({ API_TOKEN: BOOTSTRAP, SEND_RATE_LIMIT_PER_MINUTE: '2' });
});
after(async () => {
  await svc.close();
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

test('the bucket refills continuously: one send every 60 s / limit', () => {
  let now = 0;
  const limiter = createSendRateLimiter({ perMinute: 6, now: () => now });
  for (let i = 0; i < 6; i++) assert.deepEqual(limiter.take('k'), { ok: true });
  assert.deepEqual(limiter.take('k'), { ok: false, retryAfterMs: 10_000 });
  now = 9_999;
  assert.equal(limiter.take('k').ok, false);
  now = 10_000;
  assert.equal(limiter.take('k').ok, true);
  assert.equal(limiter.take('other').ok, true);
  const unlimited = createSendRateLimiter({ perMinute: null });
  for (let i = 0; i < 1_000; i++) assert.equal(unlimited.take('k').ok, true);
});
