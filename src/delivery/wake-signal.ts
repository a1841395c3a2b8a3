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
}

const COUNT = 0;
const SLEEPING = 1;
/** A sleeping listener checks for a stop this often even when nothing is raised. */
const RECHECK_MS = 1_000;

export function createWakeSignal(
  buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
): WakeSignal {
  const state = new Int32Array(buffer);
  return {
    buffer,
    raise() {
      Atomics.add(state, COUNT, 1);
      if (Atomics.load(state, SLEEPING) === 1) Atomics.notify(state, COUNT);
    },
    listen(onWake) {
      let stopped = false;
      void (async () => {
        let seen = Atomics.load(state, COUNT);
        while (!stopped) {
          Atomics.store(state, SLEEPING, 1);
          // A raise between the load above and this wait changes COUNT: the wait returns at once.
          const wait = waitAsync(state, COUNT, seen, RECHECK_MS);
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
  };
}
