import { afterEach, beforeEach } from 'node:test';
import { leftOpen, registerEndOfFile } from './scope.ts';

// Loaded into every test process (`--import` in package.json's test scripts), before the test
// file. Together with the runner's own bounds it keeps a failing test from hanging a run:
//
// - `--test-timeout` (package.json) bounds each file: in Node 20 it applies to whole files only
//   (the runner sends SIGTERM; here child processes are killed then);
// - here, each test is bounded by TEST_TIMEOUT_MS: Node 20 cannot cancel a test that hangs, so
//   one that runs over ends its file, naming the test and what was open;
// - here, first of the file's root hooks: after its last test, `fileScope` is closed and the
//   file fails if anything is still open, naming each thing;
// - `--test-force-exit` (package.json) then ends the process whatever is left.

/** The longest one test may run before its file is ended; the slowest take about 15 s. */
export const TEST_TIMEOUT_MS = 120_000;

registerEndOfFile();

// The runner reads this file's results from this process's stdout: a pipe, which Linux makes
// non-blocking. `--test-force-exit`'s process.exit() then dropped whatever was still queued on
// it: the run reported fewer tests than had run (510 of 524 unit tests), and a failing test's
// name and error could be lost with them (nodejs/node#64833; the fix proposed upstream, #64875,
// does this). With blocking writes nothing is left queued at the exit.
const stdoutHandle = (process.stdout as { _handle?: { setBlocking?: (blocking: boolean) => void } })
  ._handle;
stdoutHandle?.setBlocking?.(true);

const openNow = () => leftOpen().map((line) => `  - ${line}\n`);

// The runner stops a file over --test-timeout with SIGTERM, whose default action would leave
// this process's children running: exit through the exit handlers, which kill them. (What was
// open is written too, though Node 20's runner no longer reads a file it has timed out.)
process.once('SIGTERM', () => {
  process.stderr.write(
    `\nstopped by SIGTERM (over --test-timeout?). Open at that moment:\n${openNow().join('')}`,
  );
  process.exit(1);
});

const watchdogs = new Map<object, NodeJS.Timeout>();

beforeEach((t) => {
  const startedAt = Date.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(
      `\nthe test "${t.name}" has run for ${Date.now() - startedAt} ms, over TEST_TIMEOUT_MS ` +
        `(test/helpers/setup.ts): ending this file. Open at that moment:\n${openNow().join('')}`,
    );
    process.exit(1);
  }, TEST_TIMEOUT_MS);
  // Never what keeps the process alive.
  watchdog.unref();
  watchdogs.set(t, watchdog);
});

afterEach((t) => {
  clearTimeout(watchdogs.get(t));
  watchdogs.delete(t);
});
