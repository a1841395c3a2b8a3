import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { baseEnv, closeWith, killOnExit } from '../helpers/scope.ts';
import { graphqlRequest, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { startTestDnsServer } from '../helpers/dns-server.ts';

// `npm start` runs the compiled build (dist/, made by `npm run build:server`, which `npm run
// test:e2e` runs first), not the TypeScript sources: it must start, deliver and stop like them,
// with no TypeScript loader in the process or its delivery thread.

const MAIN = new URL('../../dist/main.js', import.meta.url);

// A resolve hook that refuses tsx, in the process and (through execArgv) in its worker: if the
// build reached for the TypeScript loader anywhere, the service would fail to start or deliver.
const REFUSE_TSX = `export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('tsx in the production build: ' + specifier);
  return next(specifier, context);
}`;
const NO_TSX = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(REFUSE_TSX)}`)});`,
)}`;

/** The built service, spawned as `npm start` runs it, with tsx refused; its URL once ready. */
async function startBuilt(t: TestContext, env: Record<string, string> = {}) {
  assert.ok(existsSync(MAIN), 'dist/main.js is missing: run `npm run build:server` first');
  const child = spawn(
    process.execPath,
    ['--import', NO_TSX, '--enable-source-maps', MAIN.pathname],
    {
      env: {
        ...baseEnv(),
        PORT: '0',
        EMBEDDED_SMTP_PORT: '0',
        DATABASE_PATH: join(tempDir(t).path, 'built.db'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  closeWith(t, async () => {
    if (exitCode === undefined) child.kill('SIGKILL');
  });

  const url = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`exited early:\n${output}`);
      return /GraphQL at (http:\/\/[^\s]+)\/graphql/.exec(output)?.[1];
    },
    { timeoutMs: 20_000, description: 'the built service to start' },
  );
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    description: '/readyz 200',
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await waitFor(() => exitCode !== undefined, { description: 'the built service to stop' });
      return exitCode;
    },
  };
}

test('the production build starts, is ready, delivers and stops, without tsx', async (t) => {
  const { url, output, stop } = await startBuilt(t);
  const sent = await graphqlRequest(
    `${url}/graphql`,
    `mutation { sendEmail(input: { to: "ada@example.com", subject: "built", text: "hi" }) { id } }`,
  );
  assert.equal(sent.errors, undefined);
  const id = sent.data.sendEmail.id;
  await waitFor(async () => {
    const answer = await graphqlRequest(`${url}/graphql`, `{ message(id: "${id}") { status } }`);
    return answer.data.message.status === 'SENT';
  });
  assert.doesNotMatch(output(), /tsx in the production build/);
  assert.equal(await stop(), 0, output());
});

test('the production build signs with DKIM and evaluates SPF (modules it loads on first use)', async (t) => {
  // Both are CommonJS modules loaded with import() when first needed: bundled, their named
  // exports are properties of the default one, which the sources (under tsx) never show.
  const sink = await startTestSmtpServer(t);
  const dns = await startTestDnsServer(t, {
    'signed.test': [{ type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 -all' }],
  });
  const { url, output, stop } = await startBuilt(t, { DNS_SERVERS: dns.address });
  const gql = (query: string, variables: Record<string, unknown> = {}) =>
    graphqlRequest(`${url}/graphql`, query, variables);
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const configured = await gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
        fromAddress: 'app@signed.test',
        dkim: { domain: 'signed.test', selector: 's1', privateKey },
      },
    },
  );
  assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  const sent = await gql(
    `mutation { sendEmail(input: { to: "ada@example.com", subject: "signed", text: "hi" }) { id } }`,
  );
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  await waitFor(() => sink.received.length === 1, { description: 'the signed message' });
  assert.match(sink.received[0]!.raw, /^DKIM-Signature: v=1; a=rsa-sha256;[^]*d=signed\.test/m);

  const checked = await gql(
    `{ checkSenderDomain(domain: "signed.test") { checks { name status detail } } }`,
  );
  assert.equal(checked.errors, undefined, JSON.stringify(checked.errors));
  const spf = checked.data.checkSenderDomain.checks.find((c: any) => c.name === 'SPF');
  assert.doesNotMatch(spf.detail ?? '', /not a function|no export/, JSON.stringify(spf));
  // Evaluated for the configured server's address, which the record does not name.
  assert.equal(spf.status, 'INVALID', JSON.stringify(spf));
  assert.match(spf.detail, /does not authorise 127\.0\.0\.1/);
  assert.equal(await stop(), 0, output());
});

test('the build hashes queries with node:crypto, not a SHA-256 written in JavaScript', () => {
  // @apollo/utils.createhash falls back to sha.js when bundled (scripts/build-server.ts); Apollo
  // would then hash every request's query in JavaScript.
  const dist = new URL('../../dist/', import.meta.url);
  const bundled = readdirSync(dist)
    .filter((name) => name.endsWith('.js'))
    .filter((name) => readFileSync(new URL(name, dist), 'utf8').includes('node_modules/sha.js/'));
  assert.deepEqual(bundled, []);
});
