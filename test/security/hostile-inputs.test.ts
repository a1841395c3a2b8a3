import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { fileScope } from '../helpers/scope.ts';
import {
  failedWith,
  rawSocket,
  startService,
  subscribe,
  tempDir,
  wsClient,
  type TestService,
} from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Hostile inputs, each answered with the right typed error, nothing stored, and the process
// healthy afterwards. The service runs as in production (NODE_ENV=production): introspection
// off, internal details masked.

const TOKEN = 'hostile-inputs-admin';
const dir = tempDir(fileScope);
let svc: TestService;

before(async () => {
  svc = await startService(fileScope, {
    API_TOKEN: TOKEN,
    NODE_ENV: 'production',
    DATABASE_PATH: join(dir.path, 'mailscope.db'),
    SENDER_DOMAIN_ALLOWLIST: 'example.com',
  });
});

interface Outcome {
  status: number;
  code: string | null;
  message: string;
}

async function http(body: unknown, init: { method?: string; contentType?: string } = {}) {
  const response = await fetch(`${svc.url}/graphql`, {
    method: init.method ?? 'POST',
    headers: {
      'content-type': init.contentType ?? 'application/json',
      authorization: `Bearer ${TOKEN}`,
    },
    ...(init.method === 'GET'
      ? {}
      : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const json = (await response.json()) as {
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = json.errors?.[0];
  return {
    status: response.status,
    code: error?.extensions?.code ?? null,
    message: error?.message ?? '',
  };
}

const gql = (query: string, variables: Record<string, unknown> = {}) => http({ query, variables });

async function ws(query: string, variables: Record<string, unknown> = {}): Promise<Outcome> {
  // Disposed of here; the file's scope is the backstop when an assertion fails first.
  const client = wsClient(fileScope, svc.url, TOKEN);
  const sub = subscribe(client, query, variables);
  await waitFor(() => sub.errors.length > 0 || sub.received.length > 0 || sub.closed);
  await client.dispose();
  // graphql-ws hands a refused operation's errors over as one array.
  const error = sub.errors.flat()[0] as
    { message?: string; extensions?: { code?: string } } | undefined;
  return { status: 0, code: error?.extensions?.code ?? null, message: error?.message ?? '' };
}

const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;
const CONFIGURE = `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`;
const VERIFY = `query ($uri: String) { verifySmtp(connectionUri: $uri) { ok } }`;
const mail = (input: Record<string, unknown>) => ({
  to: 'ok@example.com',
  subject: 's',
  text: 't',
  ...input,
});
const config = (input: Record<string, unknown>) => ({
  connectionUri: 'smtp://user:pw@mail.example.com:587/',
  fromAddress: 'sender@example.com',
  ...input,
});
const nested = (levels: number) =>
  `{ message(id: "1") { ${'events { message { '.repeat(levels)}id${' } }'.repeat(levels)} } }`;

type Case = [name: string, expectedCode: string, run: () => Promise<Outcome>];

const cases: Case[] = [
  // NUL, which PostgreSQL cannot store: refused alike on both storages, before anything runs.
  [
    'sendEmail idempotencyKey with NUL',
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ idempotencyKey: 'k\u0000z' }) }),
  ],
  [
    'messages filter subjectContains with NUL',
    'BAD_USER_INPUT',
    () =>
      gql(`query ($f: MessageFilter) { messages(filter: $f) { totalCount } }`, {
        f: { subjectContains: '\u0000' },
      }),
  ],
  [
    'addSuppression detail with NUL, as a literal',
    'GRAPHQL_VALIDATION_FAILED',
    () =>
      gql(`mutation { addSuppression(address: "a@example.com", detail: "x\\u0000y") { address } }`),
  ],
  [
    'graphql-ws: messageEvents filter with NUL',
    'BAD_USER_INPUT',
    () =>
      ws(`subscription ($f: MessageFilter) { messageEvents(filter: $f) { cursor } }`, {
        f: { recipient: '\u0000@example.com' },
      }),
  ],
  // A needle longer than any subject or address could match nothing: refused up front.
  [
    'messages filter subjectContains of 5 MB',
    'BAD_USER_INPUT',
    () =>
      gql(`query ($f: MessageFilter) { messages(filter: $f) { totalCount } }`, {
        f: { subjectContains: 'a'.repeat(5 * 1024 * 1024) },
      }),
  ],
  [
    'messages filter recipient of 300 characters',
    'BAD_USER_INPUT',
    () =>
      gql(`query ($f: MessageFilter) { messages(filter: $f) { totalCount } }`, {
        f: { recipient: `${'a'.repeat(290)}@example.com` },
      }),
  ],
  // Variables that do not coerce are the caller's mistake over graphql-ws too, not a bug.
  [
    'graphql-ws: a required variable missing',
    'BAD_USER_INPUT',
    () => ws(`query ($id: ID!) { message(id: $id) { id } }`),
  ],
  [
    'graphql-ws: a variable of the wrong type',
    'BAD_USER_INPUT',
    () => ws(`subscription ($a: String) { messageEvents(after: $a) { cursor } }`, { a: 5 }),
  ],
  // Connection URIs
  ...[
    'http://user:pw@mail.example.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'smtp://',
    'smtp://mail.example.com:99999/',
    'smtp://mail.example.com:0/',
    'smtp://mail.example.com/?foo=bar',
    'smtp://mail.example.com/?disable_starttls=true&skip_ssl_verify=true',
    'smtps://mail.example.com/?disable_starttls=true',
    'smtp://mail.example.com\r\nRCPT TO:<x@y.z>/',
    'smtp://[::1/',
    'smtp://mail.example.com/?skip_ssl_verify=yes',
  ].map((uri): Case => [
    `configureSmtp URI ${JSON.stringify(uri)}`,
    'BAD_USER_INPUT',
    () => gql(CONFIGURE, { input: config({ connectionUri: uri }) }),
  ]),
  [
    'verifySmtp URI gopher://',
    'BAD_USER_INPUT',
    () => gql(VERIFY, { uri: 'gopher://127.0.0.1:25/' }),
  ],
  // Addresses (nodemailer's address parser would make something of most of these)
  ...[
    '"a@b x"@internal.domain',
    'g: a@b.com;',
    'a@b.com (c)',
    'a@b.com, c@d.com',
    'a@b.com c@d.com',
    'Name <a@b.com>',
    'a@b.com\r\nBcc: victim@example.org',
    'a@b.com\u0000',
    'a\uff20internal@example.com',
    'a\u202e@example.com',
    '@example.com',
    'a@',
    'a@localhost',
    'a@[127.0.0.1]',
    'a..b@example.com',
    `${'x'.repeat(65)}@example.com`,
    'a@example.com\u2028',
  ].map((to): Case => [
    `sendEmail to ${JSON.stringify(to)}`,
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ to }) }),
  ]),
  [
    'configureSmtp fromAddress with group syntax',
    'BAD_USER_INPUT',
    () => gql(CONFIGURE, { input: config({ fromAddress: 'g: a@example.com;' }) }),
  ],
  [
    'configureSmtp fromAddress outside SENDER_DOMAIN_ALLOWLIST',
    'BAD_USER_INPUT',
    () => gql(CONFIGURE, { input: config({ fromAddress: 'ceo@bank.example' }) }),
  ],
  [
    'configureSmtp fromName with a line break',
    'BAD_USER_INPUT',
    () => gql(CONFIGURE, { input: config({ fromName: 'x\r\nBcc: a@b.com' }) }),
  ],
  // Headers
  ...[
    { name: 'Bcc', value: 'victim@example.org' },
    { name: 'bcc', value: 'victim@example.org' },
    { name: 'Content-Type', value: 'text/html' },
    { name: 'Resent-To', value: 'victim@example.org' },
    { name: 'DKIM-Signature', value: 'v=1' },
    { name: 'X-Ok', value: 'v\r\nBcc: victim@example.org' },
    { name: 'X-Ok', value: 'v\u0000' },
    { name: 'X-Ok', value: 'v\u2028Bcc: victim@example.org' },
    { name: 'X-A:', value: 'v' },
    { name: 'X A', value: 'v' },
    { name: 'X-Ok', value: 'v'.repeat(2_001) },
  ].map((header): Case => [
    `header ${JSON.stringify(header).slice(0, 60)}`,
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ headers: [header] }) }),
  ]),
  [
    '51 headers',
    'BAD_USER_INPUT',
    () =>
      gql(SEND, {
        input: mail({
          headers: Array.from({ length: 51 }, (_, i) => ({ name: `X-${i}`, value: 'v' })),
        }),
      }),
  ],
  [
    'subject with CRLF',
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ subject: 's\r\nBcc: a@b.com' }) }),
  ],
  ['subject with NEL', 'BAD_USER_INPUT', () => gql(SEND, { input: mail({ subject: 's\u0085x' }) })],
  ['no text and no html', 'BAD_USER_INPUT', () => gql(SEND, { input: mail({ text: null }) })],
  ['text with a NUL', 'BAD_USER_INPUT', () => gql(SEND, { input: mail({ text: 'a\u0000b' }) })],
  [
    'html with a NUL',
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ text: null, html: '<p>\u0000</p>' }) }),
  ],
  [
    'text over 5 MB',
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ text: 'x'.repeat(5 * 1024 * 1024 + 1) }) }),
  ],
  [
    'idempotencyKey of 256 characters',
    'BAD_USER_INPUT',
    () => gql(SEND, { input: mail({ idempotencyKey: 'k'.repeat(256) }) }),
  ],
  // GraphQL documents over HTTP
  ['depth 20', 'GRAPHQL_VALIDATION_FAILED', () => gql(nested(10))],
  [
    '50 aliases',
    'GRAPHQL_VALIDATION_FAILED',
    () =>
      gql(
        `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: smtpConfig { fromAddress }`).join(' ')} }`,
      ),
  ],
  [
    '30 directives',
    'GRAPHQL_VALIDATION_FAILED',
    () => gql(`{ smtpConfig { fromAddress ${'@include(if: true) '.repeat(30)} } }`),
  ],
  [
    'fragment named __schema',
    'GRAPHQL_VALIDATION_FAILED',
    () => gql(`query { ...__schema } fragment __schema on Query { __schema { types { name } } }`),
  ],
  [
    'circular fragments',
    'GRAPHQL_VALIDATION_FAILED',
    () => gql(`query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`),
  ],
  [
    'fragment bomb (cost)',
    'GRAPHQL_VALIDATION_FAILED',
    () =>
      gql(`query { ...F5 }
      fragment F0 on Query { smtpProviders { id name host port security } }
      fragment F1 on Query { ...F0 a: smtpProviders { id } ...F0 }
      fragment F2 on Query { ...F1 ...F1 ...F1 ...F1 }
      fragment F3 on Query { ...F2 ...F2 ...F2 ...F2 }
      fragment F4 on Query { ...F3 ...F3 ...F3 ...F3 }
      fragment F5 on Query { ...F4 ...F4 ...F4 ...F4 }`),
  ],
  [
    '10k-token document',
    'GRAPHQL_PARSE_FAILED',
    () => gql(`{ ${'smtpConfig { fromAddress } '.repeat(2_500)} }`),
  ],
  [
    'introspection in production',
    'GRAPHQL_VALIDATION_FAILED',
    () => gql(`{ __schema { types { name } } }`),
  ],
  [
    '__type in production',
    'GRAPHQL_VALIDATION_FAILED',
    () => gql(`{ __type(name: "Query") { name } }`),
  ],
  [
    'misspelt field (no suggestion leaks)',
    'GRAPHQL_VALIDATION_FAILED',
    async () => {
      const outcome = await gql(`{ mesages { totalCount } }`);
      assert.doesNotMatch(outcome.message, /Did you mean/);
      return outcome;
    },
  ],
  ['first: 1e9', 'GRAPHQL_VALIDATION_FAILED', () => gql(`{ messages(first: 1e9) { totalCount } }`)],
  [
    'first: 1000000000',
    'BAD_USER_INPUT',
    () => gql(`{ messages(first: 1000000000) { totalCount } }`),
  ],
  ['first: -1', 'BAD_USER_INPUT', () => gql(`{ messages(first: -1) { totalCount } }`)],
  [
    'forged cursor message:-1',
    'BAD_USER_INPUT',
    () =>
      gql(`query ($a: String) { messages(after: $a) { totalCount } }`, {
        a: Buffer.from('message:-1').toString('base64url'),
      }),
  ],
  [
    'forged cursor garbage',
    'BAD_USER_INPUT',
    () => gql(`{ messages(after: "!!!'; DROP TABLE messages;--") { totalCount } }`),
  ],
  [
    'filter createdAfter not a time',
    'BAD_USER_INPUT',
    () => gql(`{ messages(filter: { createdAfter: "yesterday" }) { totalCount } }`),
  ],
  [
    'batched request',
    'BAD_REQUEST',
    () => http([{ query: '{ viewer { scope } }' }, { query: '{ viewer { scope } }' }]),
  ],
  [
    'CSRF: text/plain POST',
    'BAD_REQUEST',
    () => http({ query: '{ viewer { scope } }' }, { contentType: 'text/plain' }),
  ],
  ['body is not JSON', 'BAD_REQUEST', () => http('{"query": ', {})],
  // The same over graphql-ws, where graphql-ws itself would validate nothing
  ['ws: depth 20', 'GRAPHQL_VALIDATION_FAILED', () => ws(nested(10))],
  [
    'ws: 50 aliases',
    'GRAPHQL_VALIDATION_FAILED',
    () =>
      ws(
        `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: smtpConfig { fromAddress }`).join(' ')} }`,
      ),
  ],
  [
    'ws: circular fragments',
    'GRAPHQL_VALIDATION_FAILED',
    () =>
      ws(
        `subscription { ...A } fragment A on Subscription { ...B } fragment B on Subscription { ...A }`,
      ),
  ],
  [
    'ws: 10k-token document',
    'GRAPHQL_PARSE_FAILED',
    () => ws(`{ ${'viewer { scope } '.repeat(3_500)} }`),
  ],
  [
    'ws: introspection in production',
    'GRAPHQL_VALIDATION_FAILED',
    () => ws(`{ __schema { types { name } } }`),
  ],
  [
    'ws: misspelt field (no suggestion leaks)',
    'GRAPHQL_VALIDATION_FAILED',
    async () => {
      const outcome = await ws(`{ mesages { totalCount } }`);
      assert.doesNotMatch(outcome.message, /Did you mean/);
      return outcome;
    },
  ],
  [
    'ws: forged event cursor',
    'BAD_USER_INPUT',
    () => ws(`subscription { messageEvents(after: "-1") { cursor } }`),
  ],
  [
    'ws: event cursor beyond 2^53',
    'BAD_USER_INPUT',
    () => ws(`subscription { messageEvents(after: "99999999999999999999") { cursor } }`),
  ],
  [
    'ws: sendEmail with a Bcc header',
    'BAD_USER_INPUT',
    () => ws(SEND, { input: mail({ headers: [{ name: 'Bcc', value: 'a@b.com' }] }) }),
  ],
];

function countRows(): Record<string, number> {
  const db = new Database(join(dir.path, 'mailscope.db'), { readonly: true });
  try {
    const tables = ['messages', 'message_events', 'dispatches', 'smtp_configs', 'api_tokens'];
    return Object.fromEntries(
      tables.map((t) => [
        t,
        (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

test(`${cases.length} hostile inputs get typed errors, store nothing, and leave the service healthy`, async (t) => {
  assert.ok(cases.length >= 40);
  const rowsBefore = countRows();
  let rejected = 0;
  const wrong: string[] = [];
  for (const [name, expected, run] of cases) {
    const outcome = await run();
    if (outcome.code === expected) rejected++;
    else
      wrong.push(
        `${name}: expected ${expected}, got ${outcome.code} (${outcome.status}) ${outcome.message}`,
      );
    // Production masking must never give away internals.
    assert.doesNotMatch(outcome.message, /SQLITE|at \/|node_modules/, name);
  }
  t.diagnostic(
    `hostile inputs tried: ${cases.length}, rejected with the expected code: ${rejected}`,
  );
  console.log(`security figures: hostile inputs tried=${cases.length} rejected=${rejected}`);
  assert.deepEqual(wrong, []);
  assert.deepEqual(countRows(), rowsBefore, 'nothing stored');

  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  const normal = await gql(`{ viewer { scope } messages(first: 5) { totalCount } }`);
  assert.equal(normal.code, null);
  assert.equal(normal.status, 200);
});

test('a filter listing one status 100,000 times is answered like one listing it once', async () => {
  const answered = await http({
    query: `query ($f: MessageFilter) { messages(filter: $f) { totalCount } }`,
    variables: { f: { status: Array.from({ length: 100_000 }, () => 'SENT') } },
  });
  assert.equal(answered.code, null, answered.message);
  assert.equal(answered.status, 200);
});

test('production: no "did you mean" from variables that do not coerce (the schema stays private)', async () => {
  const answered = await gql(`query ($f: MessageFilter) { messages(filter: $f) { totalCount } }`, {
    f: { status: ['SENTT'], recipent: 'x' },
  });
  assert.equal(answered.code, 'BAD_USER_INPUT');
  assert.doesNotMatch(answered.message, /Did you mean/);
  assert.match(answered.message, /SENTT/, 'the mistake is still named');
});

test('graphql-ws: a message over 1 MB closes the socket (1009), the service stays up', async (t) => {
  const raw = rawSocket(t, svc.url);
  raw.socket.on('open', () =>
    raw.socket.send(
      JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1_100_000) } }),
    ),
  );
  assert.equal(await waitFor(() => raw.closeCode, { description: 'the socket to close' }), 1009);
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
});

test('graphql-ws: more than 20 live subscriptions on one connection are refused', async (t) => {
  const client = wsClient(t, svc.url, TOKEN);
  const subs = Array.from({ length: 21 }, () =>
    subscribe(client, `subscription { queueStats { queueDepth } }`),
  );
  await waitFor(() => subs.every((s) => s.received.length > 0 || s.errors.length > 0));
  const refused = subs.filter((s) => failedWith(s, 'TOO_MANY_SUBSCRIPTIONS'));
  assert.equal(refused.length, 1);
  await client.dispose();
});
