import assert from 'node:assert/strict';
import { copyFileSync, existsSync, linkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/cli.ts';
import { startBurst } from '../helpers/faults.ts';
import { fileScope } from '../helpers/scope.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { closeWith } from '../helpers/scope.ts';
import { createTestDatabase } from '../helpers/storage.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The `mailscope` bin against the service as a real process, as an operator runs them.

const dir = tempDir(fileScope);

const TOKEN = 'cli-test-token';

test('--help lists every command', async (t) => {
  const help = await runCli(t, ['--help']);
  assert.equal(help.code, 0);
  for (const command of ['migrate', 'send', 'tail', 'stats', 'backup', 'create-token']) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  }
  const unknown = await runCli(t, ['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const missing = await runCli(t, ['send']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--to is required/);
  // A bad value is a usage mistake too, found before any service is asked.
  const badStatus = await runCli(t, ['tail', '--status', 'NOPE'], {
    MAILSCOPE_URL: 'http://127.0.0.1:1',
  });
  assert.equal(badStatus.code, 2, badStatus.stderr);
  assert.match(badStatus.stderr, /--status must be one of QUEUED, PROCESSING, SENT.*not "NOPE"/);
});

test('migrate creates and migrates the database, then exits', async (t) => {
  const path = join(dir.path, 'nested', 'fresh.db');
  const result = await runCli(t, ['migrate'], { DATABASE_PATH: path });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /migrated/);
  const db = new Database(path, { readonly: true });
  const tables = db
    .prepare(`select name from sqlite_master where type = 'table'`)
    .all()
    .map((row: any) => row.name);
  db.close();
  for (const table of ['messages', 'dispatches', 'message_events', 'retention_state']) {
    assert.ok(tables.includes(table), `${table} in ${tables.join(', ')}`);
  }
  // Running it again is a no-op.
  assert.equal((await runCli(t, ['migrate'], { DATABASE_PATH: path })).code, 0);
});

test('migrate where no directory can be created (/proc) fails at once, saying so', async (t) => {
  // Node's recursive mkdir spun there forever at full CPU.
  const result = await runCli(t, ['migrate'], { DATABASE_PATH: '/proc/nope/mailscope.db' });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /DATABASE_PATH "\/proc\/nope\/mailscope.db": cannot create \/proc\/nope there/,
  );
});

test('backup creates a missing directory; an existing file is replaced only with --force', async (t) => {
  const database = join(dir.path, 'to-back-up.db');
  assert.equal((await runCli(t, ['migrate'], { DATABASE_PATH: database })).code, 0);
  // As in the README: ./backups/ does not exist on a fresh checkout.
  const destination = join(dir.path, 'backups', 'daily', 'mailscope.db');
  const first = await runCli(t, ['backup', destination, '--json'], { DATABASE_PATH: database });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).file, destination);
  assert.ok(existsSync(destination));

  // The same day again: refused, naming the way out, and the first copy is left as it was.
  const before = statSync(destination).mtimeMs;
  const again = await runCli(t, ['backup', destination], { DATABASE_PATH: database });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists; pass --force to replace it/);
  assert.equal(statSync(destination).mtimeMs, before);

  const forced = await runCli(t, ['backup', destination, '--force', '--database', database], {});
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^backed up .* \(integrity_check ok\)$/m);
});

test('backup refuses to write over the database it copies, under any name, even with --force', async (t) => {
  const database = join(dir.path, 'in-use.db');
  assert.equal((await runCli(t, ['migrate'], { DATABASE_PATH: database })).code, 0);
  // The service's connection: WAL mode, so -wal and -shm exist while it runs.
  const service = new Database(database);
  t.after(() => service.close());
  service.pragma('journal_mode = WAL');
  service.exec('create table if not exists acknowledged (id integer primary key)');
  service.prepare('insert into acknowledged default values').run();
  assert.ok(existsSync(`${database}-wal`));
  const { ino } = statSync(database);
  const symlink = join(dir.path, 'in-use-link.db');
  symlinkSync(database, symlink);
  const hardLink = join(dir.path, 'in-use-hard-link.db');
  linkSync(database, hardLink);
  const spellings = [
    database,
    join(dir.path, '.', 'in-use.db'),
    join(dir.path, '..', basename(dir.path), 'in-use.db'),
    symlink,
    hardLink,
    `${database}-wal`,
    `${database}-shm`,
  ];
  const cases = [
    ...spellings.map((destination) => ({ destination, source: database })),
    // The service configured with the symlink: its -wal is beside the file the link names.
    { destination: database, source: symlink },
    { destination: `${database}-wal`, source: symlink },
  ];
  for (const { destination, source } of cases) {
    const result = await runCli(t, ['backup', destination, '--force', '--database', source]);
    assert.equal(result.code, 2, `${destination}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /a backup must go to another file/);
  }
  // The file the service writes is still the database's file, and what it wrote is there.
  assert.equal(statSync(database).ino, ino);
  service.prepare('insert into acknowledged default values').run();
  const reader = new Database(database, { readonly: true });
  assert.equal((reader.prepare('select count(*) as n from acknowledged').get() as any).n, 2);
  reader.close();
});

test('a backup that fails leaves no file behind', async (t) => {
  const notADatabase = join(dir.path, 'notes.txt');
  writeFileSync(
    notADatabase,
    'this is not a SQLite database, only text long enough to look\n'.repeat(20),
  );
  const destination = join(dir.path, 'from-notes.db');
  const result = await runCli(t, ['backup', destination, '--database', notADatabase], {});
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /not a database/);
  assert.ok(!existsSync(destination), 'no backup file');
  assert.ok(!existsSync(`${destination}.partial`), 'no partial file left behind');
});

test('send, tail and stats speak the GraphQL API with the token', async (t) => {
  const smtp = await startTestSmtpServer(t, {
    rejectRecipients: (address) =>
      address.startsWith('nobody') ? { code: 550, message: '5.1.1 no such user' } : null,
  });
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(dir.path, 'cli.db'),
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    API_TOKEN: TOKEN,
  });
  const env = { MAILSCOPE_URL: service.url, MAILSCOPE_TOKEN: TOKEN };

  const live = startCli(t, ['tail', '--json'], env);
  // The live feed starts empty; wait until its subscription is in place (one is counted).
  await waitFor(async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    return /^mailscope_active_subscriptions 1$/m.test(metrics);
  });

  const sent = await runCli(
    t,
    ['send', '--to', 'ada@example.com', '--subject', 'Hi', '--json'],
    env,
  );
  assert.equal(sent.code, 0, sent.stderr);
  const { id } = JSON.parse(sent.stdout) as { id: string };
  const rejected = await runCli(t, ['send', '--to', 'nobody@example.com'], env);
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.match(rejected.stdout, /^queued message \d+ to nobody@example.com/);

  const statuses = await waitFor(() => {
    const mine = live
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((event) => event.message.id === id)
      .map((event) => event.status);
    return mine.includes('SENT') ? mine : null;
  });
  assert.deepEqual(statuses, ['QUEUED', 'PROCESSING', 'SENT']);
  assert.equal(await live.stop(), 0);

  // Plain lines when stdout is not a terminal, from the beginning of the log, filtered.
  const replay = startCli(t, ['tail', '--after', '0', '--recipient', 'nobody@example.com'], env);
  const text = await waitFor(() =>
    replay.stdout().includes('ABANDONED') ? replay.stdout() : null,
  );
  assert.equal(await replay.stop(), 0);
  assert.ok(!text.includes('\u001b['), 'no colour codes when piped');
  assert.ok(!text.includes('ada@example.com'), 'the recipient filter applies');
  assert.match(text, /QUEUED\s+#\d+ {2}nobody@example.com {2}queued/);
  assert.match(text, /ABANDONED\s+#\d+ {2}nobody@example.com {2}attempt 1 {2}failed_permanently/);
  assert.match(text, /RECIPIENT_REJECTED 550 5\.1\.1: .*no such user/);
  assert.match(text, /hint: /);

  const stats = await runCli(t, ['stats', '--json', '--since', '1h'], env);
  assert.equal(stats.code, 0, stats.stderr);
  const report = JSON.parse(stats.stdout);
  assert.equal(report.sent, 1);
  assert.equal(report.abandoned, 1);
  assert.deepEqual(report.failuresByCode, [{ code: 'RECIPIENT_REJECTED', count: 1 }]);
  const human = await runCli(t, ['stats'], env);
  assert.match(human.stdout, /sent 1 {2}abandoned 1/);

  const denied = await runCli(t, ['stats', '--token', 'wrong'], { MAILSCOPE_URL: service.url });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /UNAUTHENTICATED/);
  const expired = await runCli(t, ['tail', '--after', 'nonsense'], env);
  assert.equal(expired.code, 1);
  assert.match(expired.stderr, /BAD_USER_INPUT/);
});

test('tail resumes from its last cursor when the service restarts', async (t) => {
  // The tail talks to the service through a proxy that keeps one address across the restart.
  const proxy = await startTcpProxy(t);
  const env = { DATABASE_PATH: join(dir.path, 'restart.db') };
  const first = await startServiceProcess(t, env);
  proxy.setTarget({ port: Number(new URL(first.url).port) });
  const tail = startCli(t, ['tail', '--json'], { MAILSCOPE_URL: proxy.url });
  const events = () =>
    tail
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { cursor: string; status: string; message: { id: string } },
      );
  const sendOne = async (url: string) => {
    const sent = await graphqlRequest(
      `${url}/graphql`,
      `mutation { sendEmail(input: { to: "ada@example.com", subject: "s", text: "t" }) { id } }`,
    );
    return sent.data.sendEmail.id as string;
  };
  // Until the subscription is in place, a message's events may precede it: send until one
  // shows. Its events may also come after the sendEmail answer (they are published once the
  // answer is on its way), so any message sent so far counts, not only the last.
  const sentIds: string[] = [];
  const firstId = await waitFor(async () => {
    sentIds.push(await sendOne(first.url));
    return sentIds.find((id) => events().some((e) => e.message.id === id)) ?? null;
  });
  await waitFor(() => events().some((e) => e.message.id === firstId && e.status === 'SENT'));
  proxy.setTarget(null);
  assert.equal(await first.stop(), 0);
  await waitFor(() => tail.stderr().includes('reconnecting'), {
    description: 'the tail to say it is reconnecting',
  });

  const second = await startServiceProcess(t, env);
  proxy.setTarget({ port: Number(new URL(second.url).port) });
  const secondId = await sendOne(second.url);
  await waitFor(() => events().some((e) => e.message.id === secondId && e.status === 'SENT'), {
    description: "the restarted service's events in the same tail",
  });
  const cursors = events().map((e) => Number(e.cursor));
  assert.deepEqual(
    cursors,
    [...cursors].sort((a, b) => a - b),
    'in log order',
  );
  assert.equal(new Set(cursors).size, cursors.length, 'none shown twice');
  assert.equal(await tail.stop(), 0);
});

test('backup while the service sends, then a service restored from the copy', async (t) => {
  const smtp = await startTestSmtpServer(t, { keepMessages: false, recordCommands: false });
  const livePath = join(dir.path, 'live.db');
  const service = await startServiceProcess(t, {
    DATABASE_PATH: livePath,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  const seed = startBurst(service.url, { count: 200, prefix: 'seed' });
  await waitFor(() => seed.finished, { timeoutMs: 30_000, description: '200 messages sent' });
  assert.equal(seed.failed, 0);

  // Mail keeps coming for as long as the backup runs: the copy must be a consistent snapshot
  // anyway, and the service must go on taking mail.
  const burst = startBurst(service.url, { parallel: 4, prefix: 'during' });
  const backupPath = join(dir.path, 'backup.db');
  const ackedBefore = seed.acknowledged.length + burst.acknowledged.length;
  const backup = startCli(t, ['backup', backupPath, '--json'], { DATABASE_PATH: livePath });
  const code = await backup.exited();
  const ackedDuring = seed.acknowledged.length + burst.acknowledged.length - ackedBefore;
  burst.stop();
  await waitFor(() => burst.finished, { description: 'the last sends to be answered' });
  assert.equal(code, 0, backup.stderr());
  assert.equal(burst.failed, 0, 'a send failed while the backup ran');
  assert.ok(ackedDuring > 0, 'no message was acknowledged while the backup ran');
  const result = JSON.parse(backup.stdout());
  // Everything acknowledged before the backup started is in it; nothing that was never sent.
  const acked = seed.acknowledged.length + burst.acknowledged.length;
  assert.ok(
    result.messages >= ackedBefore && result.messages <= acked,
    `backed up ${result.messages} messages; ${ackedBefore} acknowledged before, ${acked} in all`,
  );

  // The copy on its own: intact, and every message's history complete.
  const restoredPath = join(dir.path, 'restored.db');
  copyFileSync(backupPath, restoredPath);
  assert.ok(!existsSync(`${backupPath}-wal`), 'the backup is one self-contained file');
  const copy = new Database(restoredPath);
  assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(copy.pragma('foreign_key_check'), []);
  const counts = copy
    .prepare(
      `select count(*) as messages,
         sum(attempts != (select count(*) from dispatches d where d.message_id = m.id)) as attemptMismatch,
         sum(status = 'SENT' and not exists (select 1 from dispatches d where d.message_id = m.id and d.succeeded)) as sentWithoutDispatch,
         sum(not exists (select 1 from message_events e where e.message_id = m.id and e.status = m.status)) as statusWithoutEvent
       from messages m`,
    )
    .get() as Record<string, number>;
  copy.close();
  assert.deepEqual(counts, {
    messages: result.messages,
    attemptMismatch: 0,
    sentWithoutDispatch: 0,
    statusWithoutEvent: 0,
  });

  // A fresh service on the copy serves that history and finishes what was in flight.
  const restored = await startServiceProcess(t, {
    DATABASE_PATH: restoredPath,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    DELIVERY_LEASE_MS: '500',
  });
  const answer = await waitFor(async () => {
    const page = await graphqlRequest(
      `${restored.url}/graphql`,
      `{ all: messages { totalCount } sent: messages(filter: { status: [SENT] }) { totalCount } }`,
    );
    return page.data.sent.totalCount === result.messages ? page.data : null;
  });
  assert.equal(answer.all.totalCount, result.messages);
});

test('create-token makes a token that works with its scope, shown once', async (t) => {
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(dir.path, 'tokens.db'),
    API_TOKEN: TOKEN,
  });
  const url = ['--url', service.url];
  // No token at all (runCli passes on none from the environment the tests run in).
  const refused = await runCli(t, ['create-token', '--name', 'wall', ...url]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /UNAUTHENTICATED/);

  const created = await runCli(t, ['create-token', '--name', 'wall', '--scope', 'read', ...url], {
    MAILSCOPE_TOKEN: TOKEN,
  });
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^ms_[A-Za-z0-9_-]{40,}$/);
  assert.match(created.stderr, /created READ token \d+ "wall".*never shown again/);

  const read = await graphqlRequest(
    `${service.url}/graphql`,
    '{ viewer { scope tokenName } }',
    {},
    token,
  );
  assert.deepEqual(read.data, { viewer: { scope: 'READ', tokenName: 'wall' } });
  const send = await runCli(t, ['send', '--to', 'a@example.com', ...url], {
    MAILSCOPE_TOKEN: token,
  });
  assert.equal(send.code, 1, 'a read token may not send');
  assert.match(send.stderr, /FORBIDDEN/);

  const listed = await graphqlRequest(
    `${service.url}/graphql`,
    '{ apiTokens { name scope } }',
    {},
    TOKEN,
  );
  assert.deepEqual(listed.data?.apiTokens, [{ name: 'wall', scope: 'READ' }]);
  assert.ok(!JSON.stringify(listed).includes(token), 'the token is never shown again');

  const bad = await runCli(t, ['create-token', '--name', 'x', '--scope', 'root', ...url], {
    MAILSCOPE_TOKEN: TOKEN,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--scope must be admin, read or send/);
});

test('create-token --database writes the audit line a creation gets, never the token', async (t) => {
  const database = await createTestDatabase();
  closeWith(t, () => database.remove());
  assert.equal((await runCli(t, ['migrate'], database.env)).code, 0);
  const target = database.env['DATABASE_URL'] ?? database.env['DATABASE_PATH']!;
  const created = await runCli(t, [
    'create-token',
    '--name',
    'delivery',
    '--scope',
    'admin',
    '--json',
    '--database',
    target,
  ]);
  assert.equal(created.code, 0, created.stderr);
  const { token, apiToken } = JSON.parse(created.stdout);
  const lines = created.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  const audit = lines.filter((line) => line.audit === 'api_token.created');
  assert.equal(audit.length, 1, created.stderr);
  assert.equal(audit[0].tokenId, Number(apiToken.id));
  assert.equal(audit[0].tokenName, 'delivery');
  assert.equal(audit[0].scope, 'admin');
  assert.deepEqual(audit[0].by, { via: 'cli' });
  // Which program wrote it, not the token's name (here one that spoofs the delivery thread).
  assert.equal(audit[0].name, 'cli');
  assert.ok(!created.stderr.includes(token), 'the token itself is never in the log');
  assert.doesNotMatch(created.stderr, /warning/, 'an ADMIN first token is what it should be');
});

test('create-token --database: a first token that is not ADMIN is made, with a warning', async (t) => {
  const database = await createTestDatabase();
  closeWith(t, () => database.remove());
  assert.equal((await runCli(t, ['migrate'], database.env)).code, 0);
  const target = database.env['DATABASE_URL'] ?? database.env['DATABASE_PATH']!;
  const make = (name: string, scope: string) =>
    runCli(t, ['create-token', '--name', name, '--scope', scope, '--database', target]);
  const first = await make('mailer', 'send');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /warning: this is the first token and it is SEND, not ADMIN/);
  const second = await make('reader', 'read');
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /warning/, 'only the first one');
});
