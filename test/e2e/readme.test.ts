import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseEnv, closeWith, killOnExit } from '../helpers/scope.ts';
import { startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The README's walkthrough, run as a reader runs it: its own `curl` commands, word for word
// except the port, against the service started as `npm start` starts it, with the watcher beside.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const README_ORIGIN = 'http://127.0.0.1:4000';

/** Every ```sh block that talks to the service with curl, in README order. */
function curlExamples(): string[] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.filter((block) => block.trimStart().startsWith(`curl -s ${README_ORIGIN}`));
}

function run(command: string, origin: string): Promise<string> {
  const script = command
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .replaceAll(README_ORIGIN, origin);
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', script], { env: baseEnv(), timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${script}\n${stderr}`, { cause: error })) : resolve(stdout),
    ),
  );
}

test('the walkthrough: every curl example answers as the README says, and the watcher sees the mail', async (t) => {
  const examples = curlExamples();
  // Send, look, find failures, verify, stats, readyz, metrics, configureSmtp, configureSmtpProvider.
  assert.ok(examples.length >= 9, `found ${examples.length} curl examples`);
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(tempDir(t).path, 'readme.db'),
  });
  const port = new URL(service.url).port;

  // `npm run watch-events`, started with PORT as a reader's shell would have it.
  const watcher = spawn(process.execPath, ['--import', 'tsx', 'scripts/watch-events.ts'], {
    env: { ...baseEnv(), PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(watcher);
  closeWith(t, async () => {
    watcher.kill();
  });
  let watched = '';
  watcher.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
  watcher.stderr.on('data', (chunk: Buffer) => (watched += chunk.toString()));

  // The reader starts the watcher first and sends once it runs: it is subscribed when the
  // service counts its subscription.
  await waitFor(
    async () =>
      /^mailscope_active_subscriptions 1$/m.test(
        await (await fetch(`${service.url}/metrics`)).text(),
      ),
    { timeoutMs: 30_000, description: `the watcher to subscribe:\n${watched}` },
  );
  const readyz = examples.find((example) => example.includes('/readyz'))!;
  await waitFor(async () => JSON.parse(await run(readyz, service.url)).ready === true, {
    description: '/readyz to be ready',
  });
  // The README shows the answer of a fresh install on the embedded server.
  const promised = JSON.parse(
    readyz
      .split('\n')
      .find((line) => line.startsWith('# {'))!
      .slice(2),
  );
  assert.deepEqual(JSON.parse(await run(readyz, service.url)), promised);

  // The configuration examples point at servers on the internet: they run last, after every
  // example that sends or dials has run against the embedded server.
  const configures = examples.filter((example) => /configureSmtp/.test(example));
  const others = examples.filter((example) => !configures.includes(example) && example !== readyz);

  let sentId: string | undefined;
  for (const example of others) {
    const output = await run(example, service.url);
    if (example.includes('/metrics')) {
      assert.match(output, /^mailscope_messages\{status="SENT"\} \d+$/m);
      assert.ok(output.split('\n').every((line) => line === '' || line.startsWith('mailscope_')));
      continue;
    }
    const answer = JSON.parse(output);
    assert.equal(answer.errors, undefined, `${example}\n${output}`);
    if (answer.data.sendEmail) {
      sentId = answer.data.sendEmail.id;
      assert.equal(answer.data.sendEmail.status, 'QUEUED');
      // "The watcher shows QUEUED, PROCESSING, then SENT."
      await waitFor(
        () => {
          const statuses = watched
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line))
            .filter((event) => event.message?.id === sentId)
            .map((event) => event.status);
          return statuses.join(',') === 'QUEUED,PROCESSING,SENT';
        },
        { description: `the watcher to print QUEUED, PROCESSING, SENT for ${sentId}` },
      );
    }
    if (answer.data.messages?.edges?.[0]?.node?.dispatches) {
      const node = answer.data.messages.edges[0].node;
      assert.equal(node.id, sentId);
      assert.equal(node.status, 'SENT');
      assert.match(node.dispatches[0].response, /^250 /);
    }
    if (answer.data.verifySmtp) assert.equal(answer.data.verifySmtp.ok, true);
    if (answer.data.deliveryStats) assert.equal(answer.data.deliveryStats.sent, 1);
  }
  assert.ok(sentId, 'the walkthrough sends a message');

  // Every metric the README names, in prose or in its alert rules, is one the service exports
  // (a name there is a promise a dashboard or an alert is built on).
  const rules = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .join('\n');
  const named = new Set([
    ...[...README.matchAll(/`((?:mailscope|process|nodejs)_[a-z0-9_]+)/g)].map(
      (match) => match[1]!,
    ),
    ...[...rules.matchAll(/\b((?:mailscope|process|nodejs)_[a-z0-9_]+)/g)].map(
      (match) => match[1]!,
    ),
  ]);
  assert.ok(named.size >= 20, `the README names ${named.size} metrics`);
  assert.match(rules, /mailscope_delivery_reports_total/, 'the alert rules are read');
  const exported = new Set(
    [...(await (await fetch(`${service.url}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map(
      (match) => match[1]!,
    ),
  );
  assert.deepEqual(
    [...named].filter((name) => !exported.has(name)),
    [],
    'metrics the README names that /metrics does not export',
  );

  for (const example of configures) {
    const answer = JSON.parse(await run(example, service.url));
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    const stored = answer.data.configureSmtp ?? answer.data.configureSmtpProvider;
    // "the password is never shown again"
    assert.match(stored.connectionUri, /:\*\*\*@/);
    assert.doesNotMatch(stored.connectionUri, /SG\.secret|s3cret/);
  }
});
