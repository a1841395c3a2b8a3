import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeWith } from '../helpers/scope.ts';
import { graphqlRequest, startService } from '../helpers/service.ts';
import { createPostgresDatabase } from '../helpers/storage.ts';

// The send limits hold across instances: on PostgreSQL the buckets are in the database, so a
// token (or the whole service) cannot send N times its limit by spreading over N instances, nor
// mint tokens on one instance to send through another.

const ADMIN = 'instances-rate-admin';
const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;

test('two instances share the per-token and service-wide send limits', async (t) => {
  const database = await createPostgresDatabase();
  closeWith(t, () => database.remove());
  const env = {
    DATABASE_URL: database.url,
    API_TOKEN: ADMIN,
    SEND_RATE_LIMIT_PER_MINUTE: '2',
    SEND_RATE_LIMIT_TOTAL_PER_MINUTE: '3',
  };
  const [a, b] = await Promise.all([startService(t, env), startService(t, env)]);
  const send = (url: string, token: string, to: string) =>
    graphqlRequest(`${url}/graphql`, SEND, { to }, token);

  assert.ok((await send(a!.url, ADMIN, 'one@example.com')).data?.sendEmail);
  assert.ok((await send(b!.url, ADMIN, 'two@example.com')).data?.sendEmail);
  // The token's two are used up, whichever instance is asked.
  for (const svc of [a!, b!]) {
    const third = await send(svc.url, ADMIN, 'three@example.com');
    assert.equal(third.errors?.[0]?.extensions?.['code'], 'RATE_LIMITED');
    assert.ok(Number(third.errors?.[0]?.extensions?.['retryAfterSeconds']) > 0);
  }
  // A fresh token, minted on one instance, sends once on the other: the service's third.
  const minted = await graphqlRequest(
    `${a!.url}/graphql`,
    `mutation { createApiToken(name: "minted", scope: ADMIN) { token } }`,
    {},
    ADMIN,
  );
  const token = minted.data.createApiToken.token as string;
  assert.ok((await send(b!.url, token, 'four@example.com')).data?.sendEmail);
  const fifth = await send(a!.url, token, 'five@example.com');
  assert.equal(fifth.errors?.[0]?.extensions?.['code'], 'RATE_LIMITED');
  assert.match(fifth.errors![0]!.message, /SEND_RATE_LIMIT_TOTAL_PER_MINUTE/);
  const stored = await graphqlRequest(
    `${b!.url}/graphql`,
    `{ messages { totalCount } }`,
    {},
    ADMIN,
  );
  assert.equal(stored.data.messages.totalCount, 3, 'nothing refused was stored');
});
