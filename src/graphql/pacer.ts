import { setImmediate as nextTurn } from 'node:timers/promises';

export interface PacerOptions {
  /** Paced steps run between two turns of the event loop at most. @default 32 */
  stepsPerTurn?: number;
  /** Time spent between two turns at most, checked at each paced step. @default 8 */
  msPerTurn?: number;
  now?: () => number;
}

/**
 * Lets one big query give the event loop back while it runs. graphql-js resolves a list of 500
 * messages, their events and dispatches in one synchronous pass when every resolver is
 * synchronous: /healthz, other requests and the delivery thread's results waited for all of it
 * (11.5 s in the review). The resolvers that do a database read per item take a step here; every
 * `stepsPerTurn` steps, or once `msPerTurn` has passed, the steps that follow wait for the next
 * turn of the event loop (setImmediate: after pending I/O, not before it like a microtask).
 *
 * Counting steps, not only time, makes the yielding deterministic: a query of N paced steps
 * yields at least N / stepsPerTurn times however fast the machine is, which is what the tests
 * assert. A step that needs no wait costs no promise.
 */
export function createPacer(options: PacerOptions = {}) {
  const stepsPerTurn = options.stepsPerTurn ?? 32;
  const msPerTurn = options.msPerTurn ?? 8;
  const now = options.now ?? performance.now.bind(performance);
  let steps = 0;
  // Read at the first step: most requests (a sendEmail) never take one.
  let turnStartedAt: number | null = null;
  let waiting: Promise<void> | null = null;

  function step(): Promise<void> | undefined {
    // While a wait is pending, every step queues behind it and is counted once it resumes.
    if (waiting !== null) return waiting.then(() => step());
    turnStartedAt ??= now();
    steps++;
    if (steps < stepsPerTurn && now() - turnStartedAt < msPerTurn) return undefined;
    waiting = nextTurn().then(() => {
      waiting = null;
      steps = 0;
      turnStartedAt = now();
    });
    return waiting;
  }

  return {
    /**
     * Runs `work` now, or after the next turn of the event loop when this query has run long
     * enough without one.
     */
    paced<T>(work: () => T | Promise<T>): T | Promise<T> {
      const wait = step();
      return wait === undefined ? work() : wait.then(work);
    },
  };
}

export type Pacer = ReturnType<typeof createPacer>;
