import { ChildProcess } from 'node:child_process';
import { Server, Socket } from 'node:net';
import { after } from 'node:test';
import { waitFor } from './wait-for.ts';

// Who closes what a test starts. Every helper that starts something (a service, an SMTP server,
// a browser, a child process, a WebSocket client) takes a `Scope` and registers its own cleanup
// there, right where the thing starts, so a failed assertion cannot leave it running.
//
// At the end of a file, the root `after` hook below closes the file's shared fixtures, then
// fails the file naming anything still open. It must be the file's first root hook (node:test
// runs them in order, and the file's own ones would close things after the check): it is
// registered when this module loads in a test process, which test/helpers/setup.ts
// (`--import`ed by package.json's scripts) makes happen before the test file loads.

/**
 * Whoever a started thing hands its cleanup to: a test's context `t` closes it when that test
 * ends, passed or failed; `fileScope` when every test in the file is done.
 */
export interface Scope {
  after(fn: () => unknown, options?: { timeout?: number }): void;
}

/** How long one cleanup may take before it fails instead of holding the file up. */
export const CLEANUP_TIMEOUT_MS = 30_000;

const stacks = new WeakMap<Scope, (() => unknown)[]>();

/**
 * Runs `close` when `scope` ends, however its test went: the newest first (a service before
 * the directory its database is in), each one bounded by CLEANUP_TIMEOUT_MS. (node:test runs a
 * test's `after` hooks oldest first, so one hook per scope runs them all.)
 */
export function closeWith(scope: Scope, close: () => unknown): void {
  let stack = stacks.get(scope);
  if (stack === undefined) {
    const cleanups: (() => unknown)[] = [];
    stacks.set(scope, (stack = cleanups));
    scope.after(() => closeAll(cleanups));
  }
  stack.push(close);
}

/** Runs `cleanups` newest first, each bounded; throws what failed once all have run. */
async function closeAll(cleanups: (() => unknown)[]): Promise<void> {
  const failures: Error[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    const failure = await runBounded(cleanup);
    if (failure) failures.push(failure);
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new AggregateError(failures, failures.map((f) => f.message).join('\n'));
  }
}

async function runBounded(cleanup: () => unknown): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Error>((resolve) => {
    timer = setTimeout(
      () =>
        // Which one: its source, shortened (a flake that hangs a cleanup must be findable).
        resolve(
          new Error(
            `a cleanup took over ${CLEANUP_TIMEOUT_MS} ms: ${String(cleanup).replace(/\s+/g, ' ').slice(0, 120)}`,
          ),
        ),
      CLEANUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([Promise.resolve(cleanup()).then(() => null), timedOut]);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    clearTimeout(timer);
  }
}

const fileCleanups: (() => unknown)[] = [];

/**
 * For what the tests of a file or a suite share, started at the top level or in a `before`
 * hook: closed, newest first, once every test in the file is done. (node:test's own `after`,
 * called inside a `before` hook, runs as soon as that hook ends in Node 20, and `t.after` there
 * cancels the suite's tests.)
 */
export const fileScope: Scope = {
  after(fn) {
    registerEndOfFile();
    fileCleanups.push(fn);
  },
};

/** For programs outside the test runner (bench/, scripts/), which close what they start. */
export const closedByCaller: Scope = { after() {} };

const children = new Set<ChildProcess>();
/**
 * Kills `child` when this process exits, however it exits: a child process outlives a test
 * file that was ended early (a hung test, a time-out) unless someone kills it.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * What a child process (the service, the CLI) inherits from the environment the tests run in:
 * the basics only, so that a variable set where the tests run (API_TOKEN, MAILSCOPE_TOKEN,
 * SMTP_CONNECTION_URI, FORCE_COLOR…) changes no test.
 */
export function baseEnv(): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

type HandleLike = object & { constructor: { name: string } };
const activeHandles = (): HandleLike[] =>
  (process as unknown as { _getActiveHandles?: () => HandleLike[] })._getActiveHandles?.() ?? [];
const countTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

// What the process holds before any test starts (its pipes to the runner) is never a leak.
const baselineHandles = new Set(activeHandles());
const baselineTimers = countTimers();

function describeHandle(handle: HandleLike): string {
  if (handle instanceof ChildProcess) {
    return `child process ${handle.pid} (${handle.spawnargs.join(' ').slice(0, 160)})`;
  }
  if (handle instanceof Server) {
    const address = handle.address();
    const where =
      address !== null && typeof address === 'object'
        ? `${address.address}:${address.port}`
        : address;
    return `a server listening on ${where}`;
  }
  if (handle instanceof Socket) {
    if (handle.remotePort === undefined) return 'a pipe';
    return `a socket ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
  }
  return handle.constructor.name;
}

/** What is open now that was not before the tests: one line per kind, with a count. */
export function leftOpen(): string[] {
  const handles = activeHandles().filter((handle) => !baselineHandles.has(handle));
  // A child process's stdio pipes go with it.
  const pipes = new Set<unknown>(
    handles.flatMap((h) => (h instanceof ChildProcess ? h.stdio : [])),
  );
  const lines = handles.filter((handle) => !pipes.has(handle)).map(describeHandle);
  const timers = countTimers() - baselineTimers;
  for (let i = 0; i < timers; i++) lines.push('a timer (setTimeout/setInterval)');
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${line} ×${n}` : line));
}

/** How long the end-of-file check lets things closed by the last cleanups finish closing. */
const SETTLE_MS = 5_000;

let endOfFileRegistered = false;

/**
 * Registers (once) the root `after` hook that closes `fileScope` and then fails the file if
 * anything it started is still open, naming each thing.
 */
export function registerEndOfFile(): void {
  if (endOfFileRegistered) return;
  endOfFileRegistered = true;
  after(async () => {
    const failures: Error[] = [];
    // Each one closes a scope's stack (closeWith), itself bounded cleanup by cleanup.
    for (const cleanup of fileCleanups.splice(0).reverse()) {
      await Promise.resolve(cleanup()).catch((error: Error) => failures.push(error));
    }
    const closed = await waitFor(() => leftOpen().length === 0, {
      timeoutMs: SETTLE_MS,
      description: 'what the tests started to close',
    }).catch(() => false);
    const open = closed ? [] : leftOpen();
    if (open.length > 0) {
      failures.push(
        new Error(
          'left open after the last test (start it with a scope: t or fileScope):\n' +
            open.map((line) => `  - ${line}`).join('\n'),
        ),
      );
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new AggregateError(failures, failures.map((f) => f.message).join('\n'));
    }
  });
}

// In a test process the hook is registered now, before the test file's own root hooks (and
// never from inside a hook). Programs outside the runner (bench/, scripts/) register nothing.
if (process.env['NODE_TEST_CONTEXT'] !== undefined) registerEndOfFile();
