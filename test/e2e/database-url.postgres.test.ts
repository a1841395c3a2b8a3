import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { cleanupStack, freePort } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';

// `npm start`'s command with a DATABASE_URL it cannot use: it must not start serving, and must
// say which variable is wrong without ever printing the password in it.

const PASSWORD = 'pg-S3cret/pw@x';
const ENCODED = encodeURIComponent(PASSWORD);
const PG_HOST = new URL(process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/').host;

/** Runs the service with `env` until it exits; returns its exit code, output and run time. */
async function runUntilExit(t: TestContext, env: Record<string, string>) {
  const defer = cleanupStack(t);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', EMBEDDED_SMTP_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const startedAt = performance.now();
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
    timeoutMs: 60_000,
    intervalMs: 50,
    description: 'the service to exit',
  });
  const exitMs = Math.round(performance.now() - startedAt);
  await exited; // all of its output read
  return { code: child.exitCode, output, exitMs };
}

test('DATABASE_URL where nothing listens: retried for DATABASE_CONNECT_TIMEOUT_MS, then exit 1 naming it, never the password', async (t) => {
  const port = await freePort();
  const { code, output, exitMs } = await runUntilExit(t, {
    DATABASE_URL: `postgres://mailscope:${ENCODED}@127.0.0.1:${port}/mailscope`,
    DATABASE_CONNECT_TIMEOUT_MS: '3000',
  });
  assert.equal(code, 1, output);
  assert.match(output, /DATABASE_URL/);
  assert.match(output, new RegExp(`127\\.0\\.0\\.1:${port}/mailscope`), 'says where it looked');
  assert.ok(!output.includes(ENCODED) && !output.includes(PASSWORD), output);
  assert.ok(!output.includes('S3cret'), output);
  assert.doesNotMatch(output, /GraphQL at/, 'it never served');
  // Said once while it waits, so a start that waits does not look hung.
  const waiting = output.match(/does not answer yet .*; waiting for it up to 3 s/g) ?? [];
  assert.equal(waiting.length, 1, output);
  t.diagnostic(`figures: exitMs=${exitMs} (DATABASE_CONNECT_TIMEOUT_MS=3000)`);
});

test('DATABASE_URL naming a database that does not exist: exit 1 at once, naming it, never the password', async (t) => {
  const database = `mailscope_missing_${randomBytes(4).toString('hex')}`;
  const { code, output, exitMs } = await runUntilExit(t, {
    // The server answers, so there is nothing to wait for: the database is simply wrong.
    DATABASE_URL: `postgres://postgres:${ENCODED}@${PG_HOST}/${database}`,
    DATABASE_CONNECT_TIMEOUT_MS: '600000',
  });
  assert.equal(code, 1, output);
  assert.match(output, /DATABASE_URL/);
  assert.match(output, new RegExp(database));
  assert.ok(!output.includes(ENCODED) && !output.includes(PASSWORD), output);
  assert.ok(!output.includes('S3cret'), output);
  t.diagnostic(`figures: exitMs=${exitMs}`);
});

test('DATABASE_CONNECT_TIMEOUT_MS must be a whole number of milliseconds', async (t) => {
  const { code, output } = await runUntilExit(t, {
    DATABASE_URL: `postgres://mailscope:${ENCODED}@127.0.0.1:1/mailscope`,
    DATABASE_CONNECT_TIMEOUT_MS: 'soon',
  });
  assert.equal(code, 1, output);
  assert.match(output, /DATABASE_CONNECT_TIMEOUT_MS/);
  assert.ok(!output.includes(ENCODED) && !output.includes(PASSWORD), output);
});
