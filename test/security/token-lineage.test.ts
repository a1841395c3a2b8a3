import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { runCli } from '../helpers/cli.ts';
import { configFor, graphqlRequest, tempDir } from '../helpers/service.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Issue 19, item 3: with SEND_RATE_LIMIT_PER_MINUTE=2 an ADMIN token sent 2, then 3 tokens it
// had just created sent 2 each in the same minute, and the tokens it created outlived it. Now a
// service-wide bucket (SEND_RATE_LIMIT_TOTAL_PER_MINUTE, following the per-token limit when
// unset) holds the sum; token creation is recorded, rate-limited and audited; revoking a token
// revokes the tokens it created, transitively, closing their sockets. And (item 6) revoking the
// last token no longer reopens anonymous admin access; the CLI lets an operator back in.

const addCleanup = (cleanup: () => unknown) => closeWith(fileScope, cleanup);
const ADMIN = 'lineage-admin';

interface Service {
  app: RunningApp;
  url: string;
  databasePath: string;
  /** Every JSON log line the service wrote. */
  log: Record<string, unknown>[];
  gql(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; data?: any; errors?: any[] }>;
}

/** The service in this process, with its log lines kept for the audit assertions. */
async function start(env: Record<string, string>): Promise<Service> {
  const dir = tempDir(fileScope);
  const databasePath = join(dir.path, 'mailscope.db');
  const log: Record<string, unknown>[] = [];
  const app = await startApp(configFor({ DATABASE_PATH: databasePath, ...env }), {
    log: createLogger({
      level: 'info',
      name: 'main',
      destination: { write: (line: string) => void log.push(JSON.parse(line)) },
    }),
  });
  addCleanup(async () => {
    await app.close();
    dir.remove();
  });
  return {
    app,
    url: app.url,
    databasePath,
    log,
    gql: (token, query, variables = {}) =>
      graphqlRequest(`${app.url}/graphql`, query, variables, token ?? undefined),
  };
}

const CREATE = `mutation ($name: String!) { createApiToken(name: $name, scope: ADMIN) { token apiToken { id } } }`;
const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;

async function mint(svc: Service, by: string | null, name: string) {
  const created = await svc.gql(by, CREATE, { name });
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  return created.data.createApiToken as { token: string; apiToken: { id: string } };
}

test("the review's attack: tokens minted in the same minute send nothing more", async () => {
  for (const attacker of ['API_TOKEN', 'a stored ADMIN token']) {
    const svc = await start({ API_TOKEN: ADMIN, SEND_RATE_LIMIT_PER_MINUTE: '2' });
    const token = attacker === 'API_TOKEN' ? ADMIN : (await mint(svc, ADMIN, 'leaked')).token;
    assert.equal((await svc.gql(token, SEND, { to: 'a@example.com' })).errors, undefined);
    assert.equal((await svc.gql(token, SEND, { to: 'b@example.com' })).errors, undefined);
    for (let i = 0; i < 3; i++) {
      const minted = await mint(svc, token, `minted-${i}`);
      const refused = await svc.gql(minted.token, SEND, { to: `c${i}@example.com` });
      assert.equal(refused.errors?.[0]?.extensions?.code, 'RATE_LIMITED', attacker);
      assert.ok(refused.errors![0].extensions.retryAfterSeconds >= 1);
      assert.match(refused.errors![0].message, /SEND_RATE_LIMIT_TOTAL_PER_MINUTE/);
    }
    const stored = await svc.gql(ADMIN, `{ messages { totalCount } }`);
    assert.equal(stored.data.messages.totalCount, 2, `${attacker}: 2 sent in the minute, not 8`);
  }
});

test('a raised service-wide limit lets tokens send side by side, up to the sum', async () => {
  const svc = await start({
    API_TOKEN: ADMIN,
    SEND_RATE_LIMIT_PER_MINUTE: '2',
    SEND_RATE_LIMIT_TOTAL_PER_MINUTE: '5',
  });
  const tokens = [
    ADMIN,
    (await mint(svc, ADMIN, 'app-1')).token,
    (await mint(svc, ADMIN, 'app-2')).token,
  ];
  const outcomes: (string | null)[] = [];
  for (const token of tokens) {
    for (let i = 0; i < 2; i++) {
      const result = await svc.gql(token, SEND, { to: `x${outcomes.length}@example.com` });
      outcomes.push(result.errors?.[0]?.extensions?.code ?? null);
    }
  }
  assert.deepEqual(outcomes, [null, null, null, null, null, 'RATE_LIMITED']);
});

test('creation is recorded, rate-limited and audited', async () => {
  const svc = await start({ API_TOKEN: ADMIN, TOKEN_CREATE_RATE_LIMIT_PER_HOUR: '3' });
  const parent = await mint(svc, ADMIN, 'parent');
  const child = await mint(svc, parent.token, 'child');
  await mint(svc, child.token, 'grandchild');
  const refused = await svc.gql(parent.token, CREATE, { name: 'one too many' });
  assert.equal(refused.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  assert.ok(refused.errors![0].extensions.retryAfterSeconds >= 1);
  assert.match(refused.errors![0].message, /TOKEN_CREATE_RATE_LIMIT_PER_HOUR/);

  const listed = await svc.gql(ADMIN, `{ apiTokens { id name createdVia createdByTokenId } }`);
  assert.deepEqual(listed.data.apiTokens, [
    { id: '3', name: 'grandchild', createdVia: 'STORED_TOKEN', createdByTokenId: '2' },
    { id: '2', name: 'child', createdVia: 'STORED_TOKEN', createdByTokenId: '1' },
    { id: '1', name: 'parent', createdVia: 'API_TOKEN', createdByTokenId: null },
  ]);
  const audit = svc.log.filter((line) => typeof line['audit'] === 'string');
  assert.deepEqual(
    audit.map((line) => [line['audit'], line['tokenId'] ?? null]),
    [
      ['api_token.created', 1],
      ['api_token.created', 2],
      ['api_token.created', 3],
      ['api_token.create_refused', null],
    ],
  );
  assert.deepEqual(audit[1]!['by'], { via: 'token', tokenId: 1, tokenName: 'parent' });
  // The token's name is its own field; `name` stays the logger's (which part wrote the line).
  assert.equal(audit[1]!['tokenName'], 'child');
  for (const line of audit) assert.equal(line['name'], 'main', JSON.stringify(line));
  assert.match(String(audit[2]!['msg']), /API token 3 "grandchild" \(admin\) created by token 2/);
  // The audit log never holds a token itself.
  const text = JSON.stringify(svc.log);
  for (const token of [parent.token, child.token]) assert.ok(!text.includes(token));
});

/** A graphql-ws socket spoken by hand, acknowledged, with one live subscription running. */
async function liveSocket(url: string, token: string) {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  let code: number | null = null;
  void closed.then((c) => (code = c));
  socket.on('open', () =>
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
    ),
  );
  await waitFor(() => messages.some((m) => m.includes('connection_ack')));
  socket.send(
    JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { queueStats { queueDepth } }' },
    }),
  );
  await waitFor(() => messages.some((m) => m.includes('"next"')));
  addCleanup(() => socket.close());
  return { closed, code: () => code };
}

test('revoking a token revokes every token it created, transitively, and closes their sockets', async () => {
  const svc = await start({ API_TOKEN: ADMIN });
  const a = await mint(svc, ADMIN, 'a');
  const b = await mint(svc, a.token, 'b');
  const c = await mint(svc, b.token, 'c');
  const d = await mint(svc, ADMIN, 'd, unrelated');
  const sockets = await Promise.all([a, b, c, d].map((t) => liveSocket(svc.url, t.token)));

  const revoked = await svc.gql(
    ADMIN,
    `mutation ($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`,
    { id: a.apiToken.id },
  );
  assert.match(revoked.data.revokeApiToken.revokedAt, /^\d{4}-/);
  assert.deepEqual(await Promise.all(sockets.slice(0, 3).map((s) => s.closed)), [4403, 4403, 4403]);
  for (const token of [a, b, c]) {
    assert.equal((await svc.gql(token.token, `{ viewer { scope } }`)).status, 401);
  }
  assert.equal(sockets[3]!.code(), null, "the unrelated token's socket stays open");
  assert.equal((await svc.gql(d.token, `{ viewer { scope } }`)).status, 200);
  const list = await svc.gql(ADMIN, `{ apiTokens { name revokedAt } }`);
  assert.deepEqual(
    list.data.apiTokens.map((t: { name: string; revokedAt: string | null }) => [
      t.name,
      t.revokedAt !== null,
    ]),
    [
      ['d, unrelated', false],
      ['c', true],
      ['b', true],
      ['a', true],
    ],
  );
  const audit = svc.log.find((line) => line['audit'] === 'api_token.revoked');
  assert.deepEqual(audit?.['revokedIds'], [1, 2, 3]);
});

test('revoking the last token does not reopen anonymous access; the CLI lets the operator back in', async () => {
  // No API_TOKEN: loopback callers are admins only until a token has existed.
  const svc = await start({});
  assert.equal((await svc.gql(null, `{ viewer { scope } }`)).status, 200);
  const only = await mint(svc, null, 'only');
  const listed = await svc.gql(only.token, `{ apiTokens { createdVia } }`);
  assert.deepEqual(listed.data.apiTokens, [{ createdVia: 'LOOPBACK' }]);
  const revoked = await svc.gql(
    only.token,
    `mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`,
    { id: only.apiToken.id },
  );
  assert.equal(revoked.errors, undefined);

  const anonymous = await svc.gql(null, `{ viewer { scope } }`);
  assert.equal(anonymous.status, 401, 'no token is active, and still a token is needed');
  assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.equal((await svc.gql(only.token, `{ viewer { scope } }`)).status, 401);

  // The way back in: the CLI writes a token straight into the database file.
  const cli = await runCli(fileScope, [
    'create-token',
    '--name',
    'ops',
    '--scope',
    'admin',
    '--database',
    svc.databasePath,
    '--json',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const { token } = JSON.parse(cli.stdout) as { token: string };
  const viewer = await svc.gql(
    token,
    `{ viewer { scope tokenName } apiTokens { name createdVia } }`,
  );
  assert.deepEqual(viewer.data.viewer, { scope: 'ADMIN', tokenName: 'ops' });
  assert.deepEqual(viewer.data.apiTokens[0], { name: 'ops', createdVia: 'CLI' });
  const missing = await runCli(fileScope, [
    'create-token',
    '--name',
    'x',
    '--database',
    join(svc.databasePath, 'nope.db'),
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no database at/);
});

test('a refused first token that is not ADMIN is an audit line too', async () => {
  const svc = await start({});
  const refused = await svc.gql(
    null,
    `mutation { createApiToken(name: "app", scope: SEND) { token } }`,
  );
  assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  const audit = svc.log.filter((line) => line['audit'] === 'api_token.create_refused');
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!['reason'], 'first_not_admin');
  assert.deepEqual(audit[0]!['by'], { via: 'loopback' });
  assert.equal(audit[0]!['name'], 'main');
});
