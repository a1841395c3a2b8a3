import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { runCli } from '../helpers/cli.ts';
import {
  graphqlRequest,
  startServiceProcess,
  tempDir,
  startService as startServiceIn,
} from '../helpers/service.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';

// Issue 19, item 6: the defaults. Files that may hold SMTP passwords are private; /metrics on a
// network needs its token like the API does; `npm start` without NODE_ENV behaves as
// production; a tokenless instance behind a reverse proxy on the same host does not treat every
// proxied caller as a loopback admin. (Revoking the last token: token-lineage.test.ts.)

const addCleanup = (cleanup: () => unknown) => closeWith(fileScope, cleanup);
const startService = (env: Record<string, string> = {}) => startServiceIn(fileScope, env);
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('files', () => {
  test('the database, its -wal and -shm, and a backup are 0600 in 0700 directories', async () => {
    const dir = tempDir(fileScope);
    addCleanup(() => dir.remove());
    const databasePath = join(dir.path, 'data', 'nested', 'mailscope.db');
    const service = await startServiceProcess(fileScope, { DATABASE_PATH: databasePath });
    addCleanup(async () => {
      if (service.child.exitCode === null) await service.kill();
    });
    // A write, so the WAL and its index exist while the service runs.
    const sent = await graphqlRequest(
      `${service.url}/graphql`,
      `mutation { sendEmail(input: { to: "a@example.com", subject: "s", text: "t" }) { id } }`,
    );
    assert.equal(sent.errors, undefined);
    assert.ok(existsSync(`${databasePath}-wal`) && existsSync(`${databasePath}-shm`));
    assert.deepEqual(
      [
        mode(join(dir.path, 'data')),
        mode(join(dir.path, 'data', 'nested')),
        mode(databasePath),
        mode(`${databasePath}-wal`),
        mode(`${databasePath}-shm`),
      ],
      ['700', '700', '600', '600', '600'],
    );

    const backupPath = join(dir.path, 'backups', 'today.db');
    const backup = await runCli(fileScope, ['backup', backupPath, '--database', databasePath]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.deepEqual([mode(join(dir.path, 'backups')), mode(backupPath)], ['700', '600']);
    assert.equal(await service.stop(), 0);
  });

  test('an existing database that is readable by others is tightened at start', async () => {
    const dir = tempDir(fileScope);
    addCleanup(() => dir.remove());
    const databasePath = join(dir.path, 'old.db');
    writeFileSync(databasePath, '');
    chmodSync(databasePath, 0o644);
    await startService({ DATABASE_PATH: databasePath });
    assert.equal(mode(databasePath), '600');
  });
});

describe('configuration', () => {
  test('a network HOST without METRICS_TOKEN is refused at start, with every other problem', async () => {
    const dir = tempDir(fileScope);
    addCleanup(() => dir.remove());
    const base = { DATABASE_PATH: join(dir.path, 'm.db'), HOST: '0.0.0.0' };
    // The problems are in the fatal log line, JSON-escaped.
    await assert.rejects(
      startServiceProcess(fileScope, { ...base, API_TOKEN: 'network-admin', METRICS_TOKEN: '' }),
      (error: Error) =>
        /METRICS_TOKEN: HOST \\?"0\.0\.0\.0\\?" is not a loopback address, so \/metrics would be open/.test(
          error.message,
        ) &&
        !/HOST: \\?"0\.0\.0\.0\\?" is not a loopback address; set API_TOKEN/.test(error.message),
    );
    await assert.rejects(
      startServiceProcess(fileScope, { ...base, API_TOKEN: '', METRICS_TOKEN: '', PORT: 'eighty' }),
      (error: Error) =>
        /- PORT:/.test(error.message) &&
        /- HOST: .*set API_TOKEN/.test(error.message) &&
        /- METRICS_TOKEN:/.test(error.message),
    );
    const both = await startServiceProcess(fileScope, {
      ...base,
      API_TOKEN: 'network-admin',
      METRICS_TOKEN: 'network-metrics',
    });
    addCleanup(async () => {
      if (both.child.exitCode === null) await both.kill();
    });
    const port = new URL(both.url).port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 401);
    assert.equal(await both.stop(), 0);
  });

  test('without NODE_ENV the service behaves as production; development is the opt-in', async () => {
    const production = await startService({ NODE_ENV: '' });
    const introspection = await production.gql(`{ __schema { types { name } } }`);
    assert.equal(introspection.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
    const misspelt = await production.gql(`{ mesages { totalCount } }`);
    assert.doesNotMatch(misspelt.errors![0]!.message, /Did you mean/);
    assert.equal(misspelt.errors![0]!.extensions?.['stacktrace'], undefined);

    const development = await startService({ NODE_ENV: 'development' });
    const schema = await development.gql(`{ __schema { queryType { name } } }`);
    assert.equal(schema.data.__schema.queryType.name, 'Query');
    const suggested = await development.gql(`{ mesages { totalCount } }`);
    assert.match(suggested.errors![0]!.message, /Did you mean/);
  });
});

describe('behind a reverse proxy', () => {
  const FORWARDING = {
    forwarded: 'for=203.0.113.7',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-host': 'mail.example.com',
    'x-forwarded-proto': 'https',
    'x-real-ip': '203.0.113.7',
    via: '1.1 proxy',
  };

  function post(url: string, headers: Record<string, string>, token?: string) {
    return fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // What nginx sends by default: the upstream's address as Host.
        host: new URL(url).host,
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: '{ viewer { scope } }' }),
    });
  }

  async function socketClose(url: string, headers: Record<string, string>) {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      headers,
    });
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    const code = await new Promise<number>((resolve) => socket.on('close', resolve));
    return { code, acknowledged: messages.some((m) => m.includes('connection_ack')) };
  }

  test('a tokenless instance refuses anonymous requests that carry forwarding headers', async () => {
    const svc = await startService();
    assert.equal((await post(svc.url, {})).status, 200, 'a direct loopback caller is admitted');
    for (const [name, value] of Object.entries(FORWARDING)) {
      const response = await post(svc.url, { [name]: value });
      assert.equal(response.status, 401, name);
      const body = (await response.json()) as { errors: { message: string; extensions: any }[] };
      assert.equal(body.errors[0]!.extensions.code, 'UNAUTHENTICATED');
      assert.match(body.errors[0]!.message, new RegExp(`proxy \\(${name} header\\).*API_TOKEN`));
    }
    // graphql-ws: the upgrade through a proxy is refused too (4403), a direct one is not.
    const proxied = await socketClose(svc.url, { 'x-forwarded-for': '203.0.113.7' });
    assert.deepEqual(proxied, { code: 4403, acknowledged: false });
  });

  test('with API_TOKEN, proxied requests that carry the token are served', async () => {
    const svc = await startService({ API_TOKEN: 'proxy-admin' });
    const response = await post(svc.url, FORWARDING, 'proxy-admin');
    assert.equal(response.status, 200);
    assert.equal((await post(svc.url, FORWARDING)).status, 401);
  });
});
