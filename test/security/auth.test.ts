import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { before, describe, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSchema } from '../../src/graphql/schema.ts';
import { fileScope, type Scope } from '../helpers/scope.ts';
import {
  failedWith,
  graphqlRequest,
  rawSocket,
  startService,
  subscribe,
  tempDir,
  wsClient,
  type TestService,
} from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { rootOperations, type RootOperation } from './operations.ts';

// Who may do what, checked on every root field of the schema over HTTP and graphql-ws, for the
// bootstrap token, an ADMIN token, a READ token, a wrong token and none.

const BOOTSTRAP = 'bootstrap-token-for-tests';
const operations = rootOperations(createSchema());

/**
 * The scope each root operation needs, written out from the contract ("Who may call what":
 * READ may call every query and subscription except apiTokens and verifySmtp, no mutation; and
 * webhookEndpoints shows a READ token its URLs' hosts only), not
 * read from the code under test. A field added to the schema must be added here.
 */
const REQUIRED_SCOPE: Record<string, 'ADMIN' | 'READ'> = {
  'query smtpConfig': 'READ',
  'query smtpConfigHistory': 'READ',
  'query message': 'READ',
  'query messages': 'READ',
  'query verifySmtp': 'ADMIN',
  'query smtpProviders': 'READ',
  'query deliveryStats': 'READ',
  'query eventCursor': 'READ',
  'query viewer': 'READ',
  'query apiTokens': 'ADMIN',
  'query checkSenderDomain': 'READ',
  'query suppressions': 'READ',
  'query unmatchedReports': 'READ',
  'query webhookEndpoints': 'READ',
  'mutation configureSmtp': 'ADMIN',
  'mutation sendEmail': 'ADMIN',
  'mutation sendEmails': 'ADMIN',
  'mutation retryMessage': 'ADMIN',
  'mutation cancelMessage': 'ADMIN',
  'mutation sendTestEmail': 'ADMIN',
  'mutation configureSmtpProvider': 'ADMIN',
  'mutation retryMessages': 'ADMIN',
  'mutation cancelMessages': 'ADMIN',
  'mutation retryConfigurationFailures': 'ADMIN',
  'mutation createApiToken': 'ADMIN',
  'mutation revokeApiToken': 'ADMIN',
  'mutation addSuppression': 'ADMIN',
  'mutation removeSuppression': 'ADMIN',
  'mutation createWebhookEndpoint': 'ADMIN',
  'mutation updateWebhookEndpoint': 'ADMIN',
  'mutation deleteWebhookEndpoint': 'ADMIN',
  'mutation rotateWebhookSecret': 'ADMIN',
  'mutation redeliverWebhook': 'ADMIN',
  'mutation sendTestWebhook': 'ADMIN',
  'subscription messageEvents': 'READ',
  'subscription queueStats': 'READ',
};
const requiredScope = (operation: RootOperation) =>
  REQUIRED_SCOPE[`${operation.kind} ${operation.field}`];

let svc: TestService;
let adminToken: string;
let readToken: string;
let readTokenId: string;

const endpoint = () => `${svc.url}/graphql`;
const gql = (query: string, variables: Record<string, unknown>, token?: string) =>
  graphqlRequest(endpoint(), query, variables, token);

const CREATE = `mutation ($name: String!, $scope: ApiTokenScope!) {
  createApiToken(name: $name, scope: $scope) { token apiToken { id name scope createdAt revokedAt } }
}`;

before(async () => {
  svc = await startService(fileScope, { API_TOKEN: BOOTSTRAP, WS_MAX_OPERATIONS_PER_TOKEN: '100' });
  const admin = await gql(CREATE, { name: 'ci admin', scope: 'ADMIN' }, BOOTSTRAP);
  adminToken = admin.data.createApiToken.token;
  const read = await gql(CREATE, { name: 'wall dashboard', scope: 'READ' }, BOOTSTRAP);
  readToken = read.data.createApiToken.token;
  readTokenId = read.data.createApiToken.apiToken.id;
  // One message, so subscriptions that replay from the start have something to send.
  await gql(
    `mutation { sendEmail(input: { to: "seed@example.com", subject: "s", text: "t" }) { id } }`,
    {},
    BOOTSTRAP,
  );
});
/** The first error code of one operation over HTTP, or null when it went through. */
async function httpOutcome(operation: RootOperation, token?: string) {
  const result = await gql(operation.query, operation.variables, token);
  return { status: result.status, code: result.errors?.[0]?.extensions?.code ?? null };
}

/** The first error code of one operation over graphql-ws once it answers, or null. */
async function wsOutcome(scope: Scope, operation: RootOperation, token: string) {
  const client = wsClient(scope, svc.url, token);
  const sub = subscribe(client, operation.query, operation.variables);
  await waitFor(() => sub.received.length > 0 || sub.errors.length > 0 || sub.closed, {
    description: `an answer to ${operation.field}`,
  });
  await client.dispose();
  const error = sub.errors.flat()[0] as { extensions?: { code?: string } } | undefined;
  return error === undefined ? null : (error.extensions?.code ?? 'ERROR');
}

test('the table of required scopes names every root operation of the schema, and only those', () => {
  assert.deepEqual(
    operations.map((operation) => `${operation.kind} ${operation.field}`).sort(),
    Object.keys(REQUIRED_SCOPE).sort(),
  );
});

describe('tokens', () => {
  test('a created token is shown once, stored as a digest, and listed without the secret', async () => {
    assert.match(adminToken, /^ms_[A-Za-z0-9_-]{43}$/);
    const list = await gql(`{ apiTokens { id name scope revokedAt lastUsedAt } }`, {}, adminToken);
    assert.deepEqual(
      list.data.apiTokens.map((t: { name: string; scope: string }) => [t.name, t.scope]),
      [
        ['wall dashboard', 'READ'],
        ['ci admin', 'ADMIN'],
      ],
    );
    assert.ok(!JSON.stringify(list).includes(adminToken.slice(3)));
    assert.ok(!JSON.stringify(list).includes(readToken.slice(3)));
  });

  test('viewer says who is calling', async () => {
    const query = `{ viewer { scope tokenName } }`;
    assert.deepEqual((await gql(query, {}, BOOTSTRAP)).data.viewer, {
      scope: 'ADMIN',
      tokenName: 'API_TOKEN',
    });
    assert.deepEqual((await gql(query, {}, readToken)).data.viewer, {
      scope: 'READ',
      tokenName: 'wall dashboard',
    });
  });

  test('a bad token name is BAD_USER_INPUT and stores nothing', async () => {
    const before = (await gql(`{ apiTokens { id } }`, {}, adminToken)).data.apiTokens.length;
    for (const name of ['', '   ', 'x'.repeat(101), 'line\nbreak']) {
      const result = await gql(CREATE, { name, scope: 'READ' }, adminToken);
      assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(name));
    }
    const afterCount = (await gql(`{ apiTokens { id } }`, {}, adminToken)).data.apiTokens.length;
    assert.equal(afterCount, before);
  });
});

describe('idempotency keys', () => {
  test("one token's key neither finds nor blocks another token's message", async () => {
    const send = (token: string, text: string) =>
      gql(
        `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id text idempotencyKey submittedBy } }`,
        {
          input: {
            to: 'cust@example.com',
            subject: 'Your invoice',
            text,
            idempotencyKey: 'invoice-42',
          },
        },
        token,
      );
    const first = await send(adminToken, 'the invoice body');
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.equal(first.data.sendEmail.idempotencyKey, 'invoice-42', 'shown as it was given');
    // The same key and input from another token: its own message, not the first one.
    const other = await send(BOOTSTRAP, 'the invoice body');
    assert.equal(other.errors, undefined, JSON.stringify(other.errors));
    assert.notEqual(other.data.sendEmail.id, first.data.sendEmail.id);
    assert.equal(other.data.sendEmail.submittedBy, 'API_TOKEN');
    // Its repeat with other input is a CONFLICT about its own message, never the first one.
    const changed = await send(BOOTSTRAP, 'something else');
    assert.equal(changed.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.equal(changed.errors?.[0]?.extensions?.['messageId'], other.data.sendEmail.id);
    // The first token's own repeat still finds its own message.
    const again = await send(adminToken, 'the invoice body');
    assert.equal(again.data.sendEmail.id, first.data.sendEmail.id);
  });
});

describe(`every operation over HTTP (${operations.length} root fields)`, () => {
  test('no token and a wrong token: 401 UNAUTHENTICATED for every operation', async () => {
    for (const operation of operations) {
      for (const token of [undefined, 'wrong', `${readToken}x`, `Bearer ${readToken}`]) {
        const outcome = await httpOutcome(operation, token);
        assert.deepEqual(outcome, { status: 401, code: 'UNAUTHENTICATED' }, operation.field);
      }
    }
  });

  test('READ: queries and subscriptions pass the scope check, mutations and admin reads are FORBIDDEN', async () => {
    const forbidden: string[] = [];
    for (const operation of operations.filter((op) => op.kind !== 'subscription')) {
      const outcome = await httpOutcome(operation, readToken);
      if (requiredScope(operation) === 'ADMIN') {
        assert.equal(outcome.code, 'FORBIDDEN', operation.field);
        forbidden.push(operation.field);
      } else {
        assert.notEqual(outcome.code, 'FORBIDDEN', operation.field);
        assert.notEqual(outcome.code, 'UNAUTHENTICATED', operation.field);
      }
    }
    const mutations = operations.filter((op) => op.kind === 'mutation');
    assert.deepEqual(
      forbidden.sort(),
      ['apiTokens', 'verifySmtp', ...mutations.map((op) => op.field)].sort(),
    );
  });

  test('ADMIN (stored and bootstrap): every operation passes the scope check', async () => {
    for (const token of [adminToken, BOOTSTRAP]) {
      for (const operation of operations.filter((op) => op.kind !== 'subscription')) {
        const outcome = await httpOutcome(operation, token);
        assert.ok(
          outcome.code !== 'FORBIDDEN' && outcome.code !== 'UNAUTHENTICATED',
          `${operation.field}: ${outcome.code}`,
        );
      }
    }
  });
});

describe('every operation over graphql-ws', () => {
  test('READ: subscriptions and queries answer, mutations and admin reads are FORBIDDEN', async (t) => {
    for (const operation of operations) {
      const code = await wsOutcome(t, operation, readToken);
      if (requiredScope(operation) === 'ADMIN') {
        assert.equal(code, 'FORBIDDEN', operation.field);
      } else {
        assert.ok(
          code !== 'FORBIDDEN' && code !== 'UNAUTHENTICATED',
          `${operation.field}: ${code}`,
        );
      }
    }
  });

  test('ADMIN: every operation passes the scope check', async (t) => {
    for (const operation of operations) {
      const code = await wsOutcome(t, operation, adminToken);
      assert.ok(code !== 'FORBIDDEN' && code !== 'UNAUTHENTICATED', `${operation.field}: ${code}`);
    }
  });

  test('a live feed another caller runs is shared with callers of its scope only', async (t) => {
    // Live subscribers of one operation share one execution (shared-subscriptions.ts); one who
    // joins runs no resolver, so the scope check must hold at the join too.
    const send = await gql(CREATE, { name: 'courier', scope: 'SEND' }, BOOTSTRAP);
    const sendToken = send.data.createApiToken.token as string;
    const feed = `subscription { messageEvents { cursor message { recipient } } }`;
    const reader = subscribe(wsClient(t, svc.url, readToken), feed);
    const sendOne = (to: string) =>
      gql(
        `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
        { to },
        BOOTSTRAP,
      );
    await sendOne('first@example.com');
    await waitFor(() => reader.received.length > 0, { description: 'the READ feed to run' });

    const sender = subscribe(wsClient(t, svc.url, sendToken), feed);
    await waitFor(() => sender.errors.length > 0 || sender.received.length > 0, {
      description: 'the SEND subscriber to be answered',
    });
    const error = sender.errors.flat()[0] as { extensions?: { code?: string } } | undefined;
    assert.equal(error?.extensions?.code, 'FORBIDDEN');
    const seen = reader.received.length;
    await sendOne('second@example.com');
    await waitFor(() => reader.received.length > seen, { description: 'the next event' });
    assert.deepEqual(sender.received, [], 'the SEND subscriber got no event');
    // A second READ subscriber of the same feed still gets it (and shares).
    const another = subscribe(wsClient(t, svc.url, readToken), feed);
    await sendOne('third@example.com');
    await waitFor(() => another.received.length > 0, { description: 'the second READ feed' });
  });

  test('a wrong token or none: the connection is closed with 4403', async (t) => {
    for (const params of [{}, { authorization: 'Bearer wrong' }, { authorization: readToken }]) {
      const raw = rawSocket(t, svc.url);
      raw.socket.on('open', () =>
        raw.socket.send(JSON.stringify({ type: 'connection_init', payload: params })),
      );
      const code = await waitFor(() => raw.closeCode, { description: 'the socket to close' });
      assert.equal(code, 4403, JSON.stringify(params));
    }
  });

  test('a browser page from another origin cannot open a socket; the service’s own origin can', async (t) => {
    const foreign = rawSocket(t, svc.url, { origin: 'https://evil.example' });
    const own = rawSocket(t, svc.url, { origin: svc.url });
    await waitFor(() => foreign.refusedWith !== null || foreign.opened, {
      description: 'the foreign socket to be answered',
    });
    assert.equal(foreign.refusedWith, 403);
    await waitFor(() => own.opened || own.refusedWith !== null || own.closeCode !== null, {
      description: 'the own-origin socket to be answered',
    });
    assert.equal(own.opened, true, `refused with ${own.refusedWith}`);
  });
});

/**
 * A graphql-transport-ws socket spoken by hand (so the test sees the close code itself),
 * initialised with `token` and acknowledged; `messages` collects every frame it receives.
 */
async function openAcknowledgedSocket(scope: Scope, httpUrl: string, token: string) {
  const raw = rawSocket(scope, httpUrl);
  raw.socket.on('open', () =>
    raw.socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
    ),
  );
  await waitFor(() => raw.messages.some((m) => m.includes('connection_ack')), {
    description: 'connection_ack',
  });
  const closed = () => waitFor(() => raw.closeCode, { description: 'the socket to close' });
  return { socket: raw.socket, messages: raw.messages, closed };
}

describe('revocation', () => {
  test('revoking a token closes its live sockets with 4403 and refuses it from then on', async (t) => {
    const { socket, messages, closed } = await openAcknowledgedSocket(t, svc.url, readToken);
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: 'subscription { messageEvents(after: "0") { cursor } }' },
      }),
    );
    await waitFor(() => messages.some((m) => m.includes('"next"')));

    const forbidden = await gql(
      `mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`,
      { id: readTokenId },
      readToken,
    );
    assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'READ cannot revoke');

    const revoked = await gql(
      `mutation ($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`,
      { id: readTokenId },
      adminToken,
    );
    assert.match(revoked.data.revokeApiToken.revokedAt, /^\d{4}-\d\d-\d\dT/);
    assert.equal(await closed(), 4403);
    assert.equal((await gql(`{ viewer { scope } }`, {}, readToken)).status, 401);
    const unknown = await gql(`mutation { revokeApiToken(id: "424242") { id } }`, {}, adminToken);
    assert.equal(unknown.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });
});

describe('subscription caps and origins', () => {
  test('more than 100 live operations over all connections of one token are refused', async (t) => {
    const clients = Array.from({ length: 6 }, () => wsClient(t, svc.url, adminToken));
    const subs = clients.flatMap((client) =>
      Array.from({ length: 20 }, () =>
        subscribe(client, `subscription { queueStats { queueDepth } }`),
      ),
    );
    await waitFor(() => subs.every((s) => s.received.length > 0 || s.errors.length > 0));
    const refused = subs.filter((s) => failedWith(s, 'TOO_MANY_SUBSCRIPTIONS'));
    assert.equal(refused.length, 20);
    await Promise.all(clients.map((client) => client.dispose()));
  });

  test('ALLOWED_ORIGINS lets the listed browser origins in, and only them', async (t) => {
    const listed = await startService(t, { ALLOWED_ORIGINS: 'https://dash.example.com' });
    const status = async (origin: string) => {
      const raw = rawSocket(t, listed.url, { origin });
      return waitFor(() => (raw.opened ? 101 : raw.refusedWith), {
        description: `an answer to a socket from ${origin}`,
      });
    };
    assert.equal(await status('https://dash.example.com'), 101);
    assert.equal(await status('https://dash.example.com.evil.example'), 403);
    assert.equal(await status('null'), 403);
  });
});

describe('a token revoked by another process (the database changed under the service)', () => {
  test('the next subscribe on its open socket is refused and the socket closed with 4403', async (t) => {
    const path = join(tempDir(t).path, 'mailscope.db');
    const other = await startService(t, { API_TOKEN: BOOTSTRAP, DATABASE_PATH: path });
    const created = await graphqlRequest(
      `${other.url}/graphql`,
      CREATE,
      { name: 'cli', scope: 'READ' },
      BOOTSTRAP,
    );
    const token = created.data.createApiToken.token as string;
    const { socket, messages, closed } = await openAcknowledgedSocket(t, other.url, token);

    const db = new Database(path);
    db.prepare('update api_tokens set revoked_at = ? where name = ?').run(Date.now(), 'cli');
    db.close();
    socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ viewer { scope } }' } }),
    );
    assert.equal(await closed(), 4403);
    assert.ok(!messages.some((m) => m.includes('"next"')), 'nothing was answered');
  });
});

describe('without API_TOKEN', () => {
  test('a token written straight into the database (the CLI) closes the anonymous sockets too', async (t) => {
    const fresh = await startService(t);
    const anonymous = subscribe(
      wsClient(t, fresh.url),
      `subscription { queueStats { queueDepth } }`,
    );
    await waitFor(() => anonymous.received.length > 0, { description: 'the anonymous feed' });
    const database = fresh.databaseUrl ?? fresh.databasePath;
    const created = spawnSync(
      process.execPath,
      [
        'bin/mailscope.js',
        'create-token',
        '--name',
        'cli-ops',
        '--scope',
        'admin',
        '--database',
        database,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /ms_/, 'the CLI printed the token');
    // No signal comes from the CLI: the service finds the token itself, and closes the socket.
    await waitFor(() => anonymous.closed, { description: 'the anonymous socket to be closed' });
    assert.equal(
      (await graphqlRequest(`${fresh.url}/graphql`, `{ viewer { scope } }`)).status,
      401,
    );
  });

  let local: TestService;
  before(async () => {
    local = await startService(fileScope);
  });

  test('loopback callers are ADMIN until the first token exists; then a token is needed', async (t) => {
    const url = `${local.url}/graphql`;
    const viewer = await graphqlRequest(url, `{ viewer { scope tokenName } }`);
    assert.deepEqual(viewer.data.viewer, { scope: 'ADMIN', tokenName: null });

    // DNS rebinding: a page whose own name resolves to 127.0.0.1 is "same origin", but its
    // requests name that host; anonymous callers must address a loopback name.
    const rebound = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', host: 'rebound.example' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ query: '{ viewer { scope } }' }));
    });
    assert.equal(rebound, 401);

    const client = wsClient(t, local.url);
    const sub = subscribe(client, `subscription { queueStats { queueDepth } }`);
    await waitFor(() => sub.received.length > 0);

    // A first token of another scope would leave nobody able to manage tokens over the API.
    for (const scope of ['SEND', 'READ']) {
      const refused = await graphqlRequest(url, CREATE, { name: 'app', scope });
      assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', scope);
      assert.equal(refused.errors?.[0]?.extensions?.['field'], 'scope', scope);
      assert.match(refused.errors![0]!.message, /the first token must be ADMIN/);
    }
    assert.equal(sub.closed, false, 'nothing was stored: still anonymous');

    const created = await graphqlRequest(url, CREATE, { name: 'first', scope: 'ADMIN' });
    const token = created.data.createApiToken.token as string;
    // The anonymous socket is closed: anonymous callers are no longer admitted.
    await waitFor(() => sub.closed);
    await client.dispose();
    assert.equal((await graphqlRequest(url, `{ viewer { scope } }`)).status, 401);
    const named = await graphqlRequest(url, `{ viewer { scope tokenName } }`, {}, token);
    assert.deepEqual(named.data.viewer, { scope: 'ADMIN', tokenName: 'first' });
    const send = await graphqlRequest(url, CREATE, { name: 'app', scope: 'SEND' }, token);
    assert.equal(send.errors, undefined, 'the admin then makes the others');
  });
});
