import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/cli.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The `mailscope` bin against the service as a real process, as an operator runs them.

const dir = tempDir();
after(() => dir.remove());

const TOKEN = 'cli-test-token';

test('--help lists every command', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['migrate', 'send', 'tail', 'stats', 'backup', 'create-token']) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  }
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const missing = await runCli(['send']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--to is required/);
});

test('migrate creates and migrates the database, then exits', async () => {
  const path = join(dir.path, 'nested', 'fresh.db');
  const result = await runCli(['migrate'], { DATABASE_PATH: path });
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
  assert.equal((await runCli(['migrate'], { DATABASE_PATH: path })).code, 0);
});

test('send, tail and stats speak the GraphQL API with the token', async () => {
  const smtp = await startTestSmtpServer({
    rejectRecipients: (address) =>
      address.startsWith('nobody') ? { code: 550, message: '5.1.1 no such user' } : null,
  });
  after(() => smtp.close());
  const service = await startServiceProcess({
    DATABASE_PATH: join(dir.path, 'cli.db'),
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    API_TOKEN: TOKEN,
  });
  after(() => service.stop());
  const env = { MAILSCOPE_URL: service.url, MAILSCOPE_TOKEN: TOKEN };

  const live = startCli(['tail', '--json'], env);
  after(() => live.stop());
  // The live feed starts empty; wait until its subscription is in place (one is counted).
  await waitFor(async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    return /^mailscope_active_subscriptions 1$/m.test(metrics);
  });

  const sent = await runCli(['send', '--to', 'ada@example.com', '--subject', 'Hi', '--json'], env);
  assert.equal(sent.code, 0, sent.stderr);
  const { id } = JSON.parse(sent.stdout) as { id: string };
  const rejected = await runCli(['send', '--to', 'nobody@example.com'], env);
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
  const replay = startCli(['tail', '--after', '0', '--recipient', 'nobody@example.com'], env);
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

  const stats = await runCli(['stats', '--json', '--since', '1h'], env);
  assert.equal(stats.code, 0, stats.stderr);
  const report = JSON.parse(stats.stdout);
  assert.equal(report.sent, 1);
  assert.equal(report.abandoned, 1);
  assert.deepEqual(report.failuresByCode, [{ code: 'RECIPIENT_REJECTED', count: 1 }]);
  const human = await runCli(['stats'], env);
  assert.match(human.stdout, /sent 1 {2}abandoned 1/);

  const denied = await runCli(['stats', '--token', 'wrong'], { MAILSCOPE_URL: service.url });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /UNAUTHENTICATED/);
  const expired = await runCli(['tail', '--after', 'nonsense'], env);
  assert.equal(expired.code, 1);
  assert.match(expired.stderr, /BAD_USER_INPUT/);
});

/** A port that was free a moment ago, for a service that must come back on the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('tail resumes from its last cursor when the service restarts', async () => {
  const env = { DATABASE_PATH: join(dir.path, 'restart.db'), PORT: String(await freePort()) };
  const first = await startServiceProcess(env);
  const tail = startCli(['tail', '--json'], { MAILSCOPE_URL: first.url });
  after(() => tail.stop());
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
  // Until the subscription is in place, a message's events may precede it: send until one shows.
  const firstId = await waitFor(async () => {
    const id = await sendOne(first.url);
    return events().some((e) => e.message.id === id) ? id : null;
  });
  await waitFor(() => events().some((e) => e.message.id === firstId && e.status === 'SENT'));
  assert.equal(await first.stop(), 0);
  await waitFor(() => tail.stderr().includes('reconnecting'));

  const second = await startServiceProcess(env);
  after(() => second.stop());
  assert.equal(second.url, first.url);
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

test('backup while the service sends, then a service restored from the copy', async () => {
  const smtp = await startTestSmtpServer({ keepMessages: false, recordCommands: false });
  after(() => smtp.close());
  const livePath = join(dir.path, 'live.db');
  const service = await startServiceProcess({
    DATABASE_PATH: livePath,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  after(() => service.stop());
  const send = (i: number) =>
    graphqlRequest(
      `${service.url}/graphql`,
      `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
      { to: `r${i}@example.com` },
    );
  for (let i = 0; i < 200; i++) await send(i);

  // Keep sending for as long as the backup runs: it must copy a consistent snapshot anyway.
  const backupPath = join(dir.path, 'backup.db');
  const backup = startCli(['backup', backupPath, '--json'], { DATABASE_PATH: livePath });
  let more = 200;
  let running = true;
  void backup.exited.then(() => (running = false));
  while (running) await send(more++);
  assert.equal(await backup.exited, 0, backup.stderr());
  const result = JSON.parse(backup.stdout());
  assert.ok(result.messages >= 200, `backed up ${result.messages} messages`);
  assert.ok(more > 200, 'mail was being sent during the backup');

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
  const restored = await startServiceProcess({
    DATABASE_PATH: restoredPath,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    DELIVERY_LEASE_MS: '500',
  });
  after(() => restored.stop());
  const answer = await waitFor(async () => {
    const page = await graphqlRequest(
      `${restored.url}/graphql`,
      `{ all: messages { totalCount } sent: messages(filter: { status: [SENT] }) { totalCount } }`,
    );
    return page.data.sent.totalCount === result.messages ? page.data : null;
  });
  assert.equal(answer.all.totalCount, result.messages);
});

test('create-token makes a token that works with its scope, shown once', async () => {
  const service = await startServiceProcess({
    DATABASE_PATH: join(dir.path, 'tokens.db'),
    API_TOKEN: TOKEN,
  });
  after(() => service.stop());
  const url = ['--url', service.url];
  const refused = await runCli(['create-token', '--name', 'wall', ...url], { MAILSCOPE_TOKEN: '' });
  assert.notEqual(refused.code, 0);

  const created = await runCli(['create-token', '--name', 'wall', '--scope', 'read', ...url], {
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
  const send = await runCli(['send', '--to', 'a@example.com', ...url], { MAILSCOPE_TOKEN: token });
  assert.notEqual(send.code, 0, 'a read token may not send');
  assert.match(send.stderr, /FORBIDDEN|may not|admin/i);

  const listed = await graphqlRequest(
    `${service.url}/graphql`,
    '{ apiTokens { name scope } }',
    {},
    TOKEN,
  );
  assert.deepEqual(listed.data?.apiTokens, [{ name: 'wall', scope: 'READ' }]);
  assert.ok(!JSON.stringify(listed).includes(token), 'the token is never shown again');

  const bad = await runCli(['create-token', '--name', 'x', '--scope', 'root', ...url], {
    MAILSCOPE_TOKEN: TOKEN,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--scope must be admin or read/);
});
