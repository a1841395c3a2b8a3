import { waitAsync } from '../wait-async.ts';

/**
 * "Something may be due now", from the main thread to the delivery thread, through shared
 * memory. Every sendEmail commit raises it; a `postMessage` per commit cost the main thread
 * ~0.2 ms (a structured clone and a message port's lock), a tenth of a lone sendEmail. Raising
 * is an atomic increment, and a notify only when the thread is asleep on it. Raises that arrive
 * while the thread is busy collapse into one wake.
 */
export interface WakeSignal {
  /** Share it with the delivery thread (in `workerData`). */
  readonly buffer: SharedArrayBuffer;
  raise(): void;
  /** Calls `onWake` after raises (several may collapse into one call); returns a stop. */
  listen(onWake: () => void): () => void;
  /**
   * The listener's side: a look at the queue is coming anyway (the worker has a cycle
   * scheduled), so raises until `caughtUp` need not wake it. Each wake costs the raising thread
   * a system call that wakes this one, 20-50 µs on these machines, and the delivery thread is
   * about to look whenever its sends are finishing.
   */
  hold(): void;
  /**
   * The listener's side: the look starts now and sees every commit raised so far; raises from
   * here on wake the listener again.
   */
  caughtUp(): void;
}

const COUNT = 0;
const SLEEPING = 1;
/** A sleeping listener checks for a stop this often even when nothing is raised. */
const RECHECK_MS = 1_000;

export function createWakeSignal(
  buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
  /** A test sets it far off, so that a lost wake shows as a hang rather than a 1 s delay. */
  { recheckMs = RECHECK_MS }: { recheckMs?: number } = {},
): WakeSignal {
  const state = new Int32Array(buffer);
  // The listener's side (one listener per signal, in the thread that listens).
  /** The count of raises the listener has answered, or that a look covers. */
  let seen = Atomics.load(state, COUNT);
  let held = false;
  return {
    buffer,
    raise() {
      Atomics.add(state, COUNT, 1);
      if (Atomics.load(state, SLEEPING) === 1) Atomics.notify(state, COUNT);
    },
    listen(onWake) {
      let stopped = false;
      void (async () => {
        seen = Atomics.load(state, COUNT);
        while (!stopped) {
          Atomics.store(state, SLEEPING, held ? 0 : 1);
          // A raise between the load above and this wait changes COUNT: the wait returns at once.
          const wait = waitAsync(state, COUNT, seen, recheckMs);
          if (wait.async) await wait.value;
          Atomics.store(state, SLEEPING, 0);
          const count = Atomics.load(state, COUNT);
          if (count !== seen && !stopped) {
            seen = count;
            onWake();
          }
        }
      })();
      return () => {
        stopped = true;
      };
    },
    hold() {
      held = true;
      Atomics.store(state, SLEEPING, 0);
    },
    caughtUp() {
      held = false;
      // Attentive first, then the count: a raise in between wakes the listener for nothing
      // (its count is then already seen), never the other way round. A raise that came before
      // and saw the listener held is of a commit the look about to start will see.
      Atomics.store(state, SLEEPING, 1);
      seen = Atomics.load(state, COUNT);
    },
  };
}
