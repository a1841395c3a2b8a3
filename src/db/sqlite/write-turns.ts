import { waitAsync } from '../../wait-async.ts';

/**
 * Turns at the write lock for the threads of this process (the main thread and the delivery
 * thread each hold a connection to the same SQLite file).
 *
 * SQLite allows one writer at a time. A connection that finds the lock taken waits in SQLite's
 * busy handler, which *sleeps the whole thread* in steps of 1, 2, 5, 10… ms, even when the other
 * transaction ends 50 µs later. Measured end to end (bench/scenarios/end-to-end.ts), the
 * delivery thread spent a quarter of its time asleep there and the main thread stopped
 * answering HTTP meanwhile. With turns, a writer that finds the other thread writing queues its
 * work and goes back to its event loop (sending mail, parsing requests); the other thread's
 * release wakes it at once through `Atomics.waitAsync`.
 *
 * Turns are advisory: SQLite's own lock (and `busy_timeout`) still guard every transaction,
 * writers that do not take turns (rare admin mutations, another process) stay correct, and a
 * turn that is not given back within `maxWaitMs` (its thread died mid-transaction) is taken
 * over rather than waited on forever.
 */
export interface WriteTurns {
  /** Share it with another thread (in `workerData`) to take turns with it. */
  readonly buffer: SharedArrayBuffer;
  /**
   * Runs `work` (synchronous: one transaction) while no other thread holds the turn: at once
   * when the turn is free, otherwise from the event loop once it is. Works queued in one
   * thread run in order.
   */
  run(work: () => void): void;
}

const FREE = 0;
const HELD = 1;

export function createWriteTurns(
  buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
  { maxWaitMs = 2_000 }: { maxWaitMs?: number } = {},
): WriteTurns {
  const state = new Int32Array(buffer);
  let queue: (() => void)[] = [];
  let waiting = false;

  const tryTake = () => Atomics.compareExchange(state, 0, FREE, HELD) === FREE;

  function release(): void {
    Atomics.store(state, 0, FREE);
    Atomics.notify(state, 0);
  }

  function runAll(works: readonly (() => void)[]): void {
    try {
      for (const work of works) {
        try {
          work();
        } catch (error) {
          // Each work reports its own failures; one that throws anyway is a bug, surfaced as
          // an uncaught exception as it would be from a timer, without stopping the others.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    } finally {
      release();
    }
  }

  async function waitForTurn(): Promise<void> {
    waiting = true;
    let deadline = performance.now() + maxWaitMs;
    try {
      while (queue.length > 0) {
        const left = deadline - performance.now();
        // Past the deadline the holder is presumed gone (its thread died mid-transaction): the
        // turn is taken over, and given back afterwards like any other, so that later writers
        // do not wait for the dead one again. Were it only slow, SQLite's lock still keeps the
        // two transactions apart.
        if (tryTake() || left <= 0) {
          const works = queue;
          queue = [];
          runAll(works);
          deadline = performance.now() + maxWaitMs; // for works queued meanwhile
          continue;
        }
        const wait = waitAsync(state, 0, HELD, left);
        if (wait.async) await wait.value;
      }
    } finally {
      waiting = false;
    }
  }

  return {
    buffer,
    run(work) {
      if (queue.length === 0 && tryTake()) {
        runAll([work]);
        return;
      }
      queue.push(work);
      if (!waiting) void waitForTurn();
    },
  };
}
