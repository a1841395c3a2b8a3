import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { GraphQLObjectType } from 'graphql';
import { createSchema } from '../../src/graphql/schema.ts';
import {
  graphqlRequest,
  startService,
  startServiceProcess,
  subscribe,
  tempDir,
  wsClient,
} from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { fullSelection } from './full-selection.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { createTestDatabase } from '../helpers/storage.ts';
import { closeWith } from '../helpers/scope.ts';

// The secret-leak scenario: an SMTP password that is easy to recognise goes through everything
// the service does with it — configure, send, fail AUTH, verify, read every field back over HTTP
// and graphql-ws, stats, transcripts — and is then looked for in every output, the log of the
// service process and the bytes of its database files. It must be found nowhere.

const schema = createSchema();
const query = schema.getQueryType()!;
const sel = (typeName: string) => fullSelection(schema.getType(typeName) as GraphQLObjectType);

const USER = 'leak-user';
// Characters that need URI encoding, so the encoded form is looked for too.
const PASSWORD = 'C4nary/Secret@7f3a%pw';
const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const TOKEN = 'leak-test-admin-token';

/** Every form the password could take on the way out. */
const needles = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64'),
  Buffer.from(`\u0000wrong-user\u0000${PASSWORD}`).toString('base64'),
  Buffer.from(PASSWORD, 'utf16le').toString('latin1'),
];
function leaks(where: string, text: string): string[] {
  return needles.filter((needle) => text.includes(needle)).map(() => where);
}

test('the SMTP password appears in no response, event, transcript, stat, log line or database byte', async (t) => {
  const dir = tempDir(t);
  const smtp = await startTestSmtpServer(t, { auth: { username: USER, password: PASSWORD } });
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(dir.path, 'mailscope.db'),
    SECRETS_KEY,
    API_TOKEN: TOKEN,
    DELIVERY_TRANSCRIPTS: 'all',
    DELIVERY_MAX_ATTEMPTS: '2',
  });
  const outputs: [string, string][] = [];
  const gql = async (text: string, variables: Record<string, unknown> = {}) => {
    const result = await graphqlRequest(`${service.url}/graphql`, text, variables, TOKEN);
    outputs.push([text.slice(0, 60), JSON.stringify(result)]);
    return result;
  };
  const uri = (user: string) =>
    `smtp://${user}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${smtp.port}/?disable_starttls=true`;
  const CONFIGURE = `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) ${sel('SmtpConfig')} }`;
  const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "leak", text: "t" }) { id } }`;

  // Live events from the start, every field.
  const client = wsClient(t, service.url, TOKEN);
  const events = subscribe(
    client,
    `subscription { messageEvents(after: "0") ${sel('MessageEvent')} }`,
  );
  const stats = subscribe(
    client,
    `subscription { queueStats(intervalMs: 250) ${sel('DeliveryStats')} }`,
  );

  // 1. A working configuration: AUTH succeeds, mail is sent.
  assert.equal(
    (await gql(CONFIGURE, { input: { connectionUri: uri(USER), fromAddress: 'a@example.com' } }))
      .errors,
    undefined,
  );
  const sent = await gql(SEND, { to: 'ok@example.com' });
  await waitFor(async () => {
    const r = await gql(`query ($id: ID!) { message(id: $id) { status } }`, {
      id: sent.data.sendEmail.id,
    });
    return r.data.message.status === 'SENT';
  });
  const verified = await gql(`{ verifySmtp ${sel('SmtpVerification')} }`);
  assert.equal(verified.data.verifySmtp.ok, true);

  // 2. The same password with the wrong user: AUTH fails, in delivery and in verifySmtp.
  await gql(CONFIGURE, {
    input: { connectionUri: uri('wrong-user'), fromAddress: 'a@example.com' },
  });
  const failed = await gql(SEND, { to: 'fail@example.com' });
  await waitFor(async () => {
    const r = await gql(`query ($id: ID!) { message(id: $id) { status lastError { code } } }`, {
      id: failed.data.sendEmail.id,
    });
    return r.data.message.status === 'ABANDONED' && r.data.message.lastError.code === 'AUTH';
  });
  const refused = await gql(
    `query ($u: String) { verifySmtp(connectionUri: $u) ${sel('SmtpVerification')} }`,
    {
      u: uri('wrong-user'),
    },
  );
  assert.equal(refused.data.verifySmtp.ok, false);
  // A provider preset and a URI that is refused, both carrying the password.
  await gql(
    `mutation ($input: ConfigureSmtpProviderInput!) { configureSmtpProvider(input: $input) ${sel('SmtpConfig')} }`,
    {
      input: {
        provider: 'GENERIC',
        username: USER,
        password: PASSWORD,
        host: '127.0.0.1',
        port: smtp.port,
        fromAddress: 'a@example.com',
      },
    },
  );
  const bad = await gql(CONFIGURE, {
    input: { connectionUri: `${uri(USER)}&bogus=1`, fromAddress: 'a@example.com' },
  });
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

  // 3. Read everything back: every query field that takes no required argument, every field.
  for (const field of Object.values(query.getFields())) {
    if (field.args.some((arg) => String(arg.type).endsWith('!'))) continue;
    const type = schema.getType(String(field.type).replace(/[[\]!]/g, ''));
    const selection = type && 'getFields' in type ? fullSelection(type as GraphQLObjectType) : '';
    const result = await gql(
      `{ ${field.name}${field.name === 'messages' ? '(first: 500)' : ''} ${selection} }`,
    );
    assert.equal(result.errors, undefined, `${field.name}: ${JSON.stringify(result.errors)}`);
  }
  const transcripts = await gql(`{ messages { edges { node { dispatches { transcript } } } } }`);
  assert.match(JSON.stringify(transcripts), /AUTH/, 'transcripts were kept and are looked at');
  await waitFor(() => events.received.length >= 6 && stats.received.length > 0);
  events.unsubscribe();
  stats.unsubscribe();
  outputs.push(['messageEvents', JSON.stringify(events)], ['queueStats', JSON.stringify(stats)]);

  // 4. Stop the service; its log and its files are read last.
  assert.equal(await service.stop(), 0);
  const found: string[] = [];
  for (const [where, text] of outputs) found.push(...leaks(where, text));
  found.push(...leaks('service stdout/stderr', service.output()));
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const file = join(dir.path, `mailscope.db${suffix}`);
    if (existsSync(file))
      found.push(...leaks(`database file ${suffix || 'main'}`, readFileSync(file, 'latin1')));
  }
  const db = new Database(join(dir.path, 'mailscope.db'), { readonly: true });
  const stored = db.prepare('select connection_uri as uri from smtp_configs').all() as {
    uri: string;
  }[];
  db.close();
  assert.ok(
    stored.length >= 3 && stored.every((row) => row.uri.startsWith('enc:v1:')),
    'stored encrypted',
  );

  t.diagnostic(`outputs searched: ${outputs.length + 2}, leaks found: ${found.length}`);
  console.log(
    `security figures: leak scenario outputs searched=${outputs.length + 2} leaks=${found.length}`,
  );
  assert.deepEqual(found, []);
  // The searched text is not empty: the scenario really ran and the server saw the password.
  assert.ok(smtp.received.length >= 1);
  assert.ok(service.output().includes('GraphQL at'));
});

test('cleartext rows stored before SECRETS_KEY are encrypted at the next start, leaving no trace in the file', async (t) => {
  const path = join(tempDir(t).path, 'mailscope.db');
  const before = await startService(t, { DATABASE_PATH: path });
  await before.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://u:${encodeURIComponent(PASSWORD)}@mail.example.com/`,
        fromAddress: 'a@example.com',
      },
    },
  );
  await before.close();
  assert.ok(
    readFileSync(path, 'latin1').includes(encodeURIComponent(PASSWORD)),
    'cleartext before',
  );

  const withKey = await startService(t, { DATABASE_PATH: path, SECRETS_KEY });
  const config = await withKey.gql(`{ smtpConfig { connectionUri version } }`);
  assert.equal(config.data.smtpConfig.connectionUri, 'smtp://u:***@mail.example.com:587/');
  await withKey.close();
  const bytes = readFileSync(path, 'latin1');
  assert.deepEqual(leaks('database file', bytes), []);
  assert.match(bytes, /enc:v1:/);

  // Without the key, the encrypted configuration cannot be used: the start fails and says why.
  await assert.rejects(startService(t, { DATABASE_PATH: path }), /SECRETS_KEY/);
});

test('webhook secrets stored before SECRETS_KEY are encrypted at the next start, and still sign', async (t) => {
  const database = await createTestDatabase();
  closeWith(t, () => database.remove());
  const env = { ...database.env, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
  const receiver = await startWebhookReceiver(t);
  const before = await startService(t, env);
  const created = await before.gql(
    `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`,
    { input: { url: receiver.url, events: ['MESSAGE_SENT'] } },
  );
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  receiver.secret = created.data.createWebhookEndpoint.secret;
  const id = created.data.createWebhookEndpoint.endpoint.id;
  await before.close();

  // With the key: sealed at start (so a start without it now refuses, saying why) ...
  const withKey = await startService(t, { ...env, SECRETS_KEY });
  await withKey.close();
  await assert.rejects(startService(t, env), /webhook endpoint secrets are stored encrypted/);
  // ... and the same secret still signs.
  const again = await startService(t, { ...env, SECRETS_KEY });
  const sent = await again.gql(`mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id });
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  const received = await waitFor(() => receiver.received.at(-1));
  assert.ok(received.verified, 'signed with the secret the endpoint was given');
});

test('key rotation: the new key first, the old after it; rows move to the new key at start', async (t) => {
  const path = join(tempDir(t).path, 'mailscope.db');
  const oldKey = SECRETS_KEY;
  const newKey = Buffer.alloc(32, 9).toString('base64');
  const keyIds = () => {
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('select connection_uri as uri from smtp_configs').all() as {
      uri: string;
    }[];
    db.close();
    return rows.map((row) => row.uri.split(':')[2]);
  };
  const first = await startService(t, { DATABASE_PATH: path, SECRETS_KEY: oldKey });
  await first.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://u:${encodeURIComponent(PASSWORD)}@mail.example.com/`,
        fromAddress: 'a@example.com',
      },
    },
  );
  await first.close();
  const [oldId] = keyIds();

  const rotated = await startService(t, {
    DATABASE_PATH: path,
    SECRETS_KEY: `${newKey},${oldKey}`,
  });
  await rotated.close();
  const [newId] = keyIds();
  assert.notEqual(newId, oldId);

  const onlyNew = await startService(t, { DATABASE_PATH: path, SECRETS_KEY: newKey });
  const config = await onlyNew.gql(`{ smtpConfig { connectionUri } }`);
  assert.equal(config.data.smtpConfig.connectionUri, 'smtp://u:***@mail.example.com:587/');
  await onlyNew.close();
});
