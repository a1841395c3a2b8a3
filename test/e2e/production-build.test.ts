import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseEnv, closeWith, killOnExit } from '../helpers/scope.ts';
import { graphqlRequest, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

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

test('the production build starts, is ready, delivers and stops, without tsx', async (t) => {
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
  assert.doesNotMatch(output, /tsx in the production build/);

  child.kill('SIGTERM');
  await waitFor(() => exitCode !== undefined, { description: 'the built service to stop' });
  assert.equal(exitCode, 0, output);
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
