/** Where gathered lines finally go: a synchronous writer (pino's SonicBoom with `sync: true`). */
export interface LineSink {
  write(chunk: string): unknown;
}

/** pino writes `level` first (logger.ts), so these lines are told apart without parsing. */
const URGENT = /^\{"level":"(?:error|fatal)"/;

/** Every gatherer of this thread, for the last flush when the thread exits. */
const gatherers = new Set<() => void>();

/**
 * Writes what this thread's gatherers hold now: for a thread about to be terminated from outside
 * (a worker's `terminate()` runs no exit handler).
 */
export function flushGatheredLines(): void {
  for (const flush of gatherers) flush();
}

/**
 * Log lines written in one turn of the event loop leave in one write, at the end of the turn.
 * One write per line cost the delivery thread a system call per delivery attempt (2 % of its
 * time at 16 clients, bench/MACHINES.md); the lines of one batch of attempts are now one.
 *
 * Nothing is lost that the line-by-line writer kept: an error or fatal line is written at once
 * with what waits before it (a crash's last words are not held), and what waits is written when
 * the thread exits (process.exit, an uncaught exception, a worker's end). Only a kill -9 within
 * the same turn loses the turn's lines, microseconds of them.
 */
export function gatherLinesPerTurn(sink: LineSink): { write(line: string): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const lines = pending;
    pending = '';
    sink.write(lines);
  };
  // One exit handler per thread, added with its first gatherer.
  if (gatherers.size === 0) process.on('exit', flushGatheredLines);
  gatherers.add(flush);
  return {
    write(line) {
      pending += line;
      if (URGENT.test(line)) return flush();
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
