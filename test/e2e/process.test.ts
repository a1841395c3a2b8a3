import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The service as a real process (`npm start`'s command): a clean restart.

const gql = (url: string, query: string, variables: Record<string, unknown> = {}) =>
  graphqlRequest(`${url}/graphql`, query, variables);

test('a restart keeps configuration and history', async (t) => {
  const smtp = await startTestSmtpServer(t, { auth: { username: 'keeper', password: 's3cret' } });
  const env = { DATABASE_PATH: join(tempDir(t).path, 'restart.db') };
  const first = await startServiceProcess(t, env);
  const configured = await gql(
    first.url,
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://keeper:s3cret@${smtp.host}:${smtp.port}/?disable_starttls=true`,
        fromAddress: 'keeper@example.com',
      },
    },
  );
  assert.equal(configured.data.configureSmtp.version, 1);
  const sent = await gql(
    first.url,
    `mutation { sendEmail(input: { to: "r@example.com", subject: "s", text: "t" }) { id } }`,
  );
  const id = sent.data.sendEmail.id;
  await waitFor(
    async () =>
      (await gql(first.url, `{ message(id: "${id}") { status } }`)).data.message.status === 'SENT',
  );
  assert.equal(await first.stop(), 0, first.output());

  const second = await startServiceProcess(t, env);
  const config = await gql(
    second.url,
    `{ smtpConfig { version embedded connectionUri fromAddress } }`,
  );
  assert.deepEqual(config.data.smtpConfig, {
    version: 1,
    embedded: false,
    connectionUri: `smtp://keeper:***@${smtp.host}:${smtp.port}/?disable_starttls=true`,
    fromAddress: 'keeper@example.com',
  });
  const message = await gql(
    second.url,
    `{ message(id: "${id}") { status attempts events { status } } }`,
  );
  assert.equal(message.data.message.status, 'SENT');
  assert.deepEqual(
    message.data.message.events.map((e: any) => e.status),
    ['QUEUED', 'PROCESSING', 'SENT'],
  );
});

// kill -9 and SIGTERM during a burst are fault tests: test/faults/kill-9.test.ts, sigterm.test.ts.

async function occupiedPort(t: { after(fn: () => Promise<void>): void }): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

for (const setting of ['PORT', 'EMBEDDED_SMTP_PORT']) {
  test(`${setting} already in use: exit 1 with one line naming ${setting}, no stack`, async (t) => {
    const port = await occupiedPort(t);
    const service = startServiceProcess(t, {
      DATABASE_PATH: join(tempDir(t).path, 'in-use.db'),
      [setting]: String(port),
    });
    const error: Error = await service.then(
      () => assert.fail('the service started on a port in use'),
      (failure: Error) => failure,
    );
    assert.match(error.message, /service exited early/);
    assert.match(
      error.message,
      new RegExp(
        `cannot start: 127\\.0\\.0\\.1:${port} is already in use \\(${setting}\\): stop what listens there, or set ${setting} to a free port`,
      ),
    );
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
  });
}

test('DATABASE_PATH that cannot be a database: exit 1 with a line naming DATABASE_PATH and the fix', async (t) => {
  const dir = tempDir(t).path;
  writeFileSync(join(dir, 'afile'), 'a file where a directory should be');
  writeFileSync(
    join(dir, 'notes.txt'),
    'not a database at all, but long enough to be read\n'.repeat(20),
  );
  mkdirSync(join(dir, 'a-directory'));
  const cases = [
    [join(dir, 'afile', 'db.sqlite'), /afile is a file, not a directory/],
    [join(dir, 'a-directory'), /is a directory; name a file inside it/],
    [join(dir, 'notes.txt'), /is not a SQLite database/],
  ] as const;
  for (const [path, reason] of cases) {
    const error: Error = await startServiceProcess(t, { DATABASE_PATH: path }).then(
      () => assert.fail(`the service started on ${path}`),
      (failure: Error) => failure,
    );
    assert.match(error.message, /service exited early \(code 1\)/);
    const fatal = error.message.split('\n').find((line) => line.includes('"level":"fatal"'));
    const line: string = fatal === undefined ? error.message : JSON.parse(fatal).msg;
    assert.ok(line.startsWith(`cannot start: DATABASE_PATH "${path}": `), line);
    assert.match(line, reason);
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
  }
  // Nothing was created in place of what was there.
  assert.equal(readFileSync(join(dir, 'afile'), 'utf8'), 'a file where a directory should be');
});

test('DATABASE_PATH in a directory the service may not write: exit 1 naming DATABASE_PATH and the directory', async (t) => {
  const locked = join(tempDir(t).path, 'locked');
  mkdirSync(locked);
  // As root a mode does not stop a write; an immutable directory does (chattr +i).
  if (process.getuid?.() === 0) {
    const made = spawnSync('chattr', ['+i', locked]);
    if (made.status !== 0) {
      t.skip(
        `chattr +i is not available here (${made.stderr.toString().trim()}), and root ignores modes`,
      );
      return;
    }
    t.after(() => void spawnSync('chattr', ['-i', locked]));
  } else {
    chmodSync(locked, 0o500);
    t.after(() => chmodSync(locked, 0o700));
  }
  const path = join(locked, 'mailscope.db');
  const error: Error = await startServiceProcess(t, { DATABASE_PATH: path }).then(
    () => assert.fail('the service started in a directory it may not write'),
    (failure: Error) => failure,
  );
  // Unlocked at once: the temporary directory is removed before later hooks run.
  if (process.getuid?.() === 0) spawnSync('chattr', ['-i', locked]);
  const fatal = error.message.split('\n').find((line) => line.includes('"level":"fatal"'));
  assert.ok(fatal, error.message);
  assert.equal(
    JSON.parse(fatal).msg,
    `cannot start: DATABASE_PATH "${path}": permission denied: the service's user must be able to create and write files in ${locked}`,
  );
});
