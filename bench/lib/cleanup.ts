// Everything a bench starts registers how to undo it, so Ctrl-C and failures leave nothing
// behind: no child process, no temp dir.

type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
let cleaning: Promise<void> | null = null;
let interrupted = false;

/** Registers how to undo something just started; returns a function that undoes it now. */
export function onCleanup(fn: Cleanup): () => Promise<void> {
  if (cleaning) {
    // Started while shutting down (a signal arrived mid-phase): undo it at once and stop here.
    void Promise.resolve(fn()).catch(() => {});
    throw new Error('interrupted');
  }
  cleanups.add(fn);
  return async () => {
    if (!cleanups.delete(fn)) return;
    await fn();
  };
}

/** Undoes everything, newest first; callers racing each other (a signal, main) share one run. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of [...cleanups].reverse()) {
      cleanups.delete(fn);
      try {
        await fn();
      } catch (error) {
        console.error('bench: cleanup failed:', error);
      }
    }
  })();
  return cleaning;
}

export function wasInterrupted(): boolean {
  return interrupted;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\nbench: ${signal}, cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

// A crash must not leave services running and databases behind either: e.g. `npm run bench |
// head` closes stdout, and the next line printed throws EPIPE with no one to catch it.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    const code = (error as { code?: string } | null)?.code;
    if (code !== 'EPIPE') console.error(`\nbench: ${event}, cleaning up:`, error);
    void cleanupAll().finally(() => process.exit(1));
  });
}
