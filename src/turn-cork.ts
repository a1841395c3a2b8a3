import type { Writable } from 'node:stream';

/**
 * Writes to a socket within one turn of the event loop leave in one system call: the socket is
 * corked at its first write of the turn and uncorked, with every other socket corked meanwhile,
 * once the turn's I/O callbacks have run. On loopback a write costs tens of microseconds of the
 * writing thread, so frames and replies that pile up in a turn are much cheaper together. Used
 * by the graphql-ws result channels (frames of one event batch) and the SMTP submission listener
 * (replies to pipelined commands).
 */
export function createTurnCork() {
  const corked = new Set<Writable>();
  let flushScheduled = false;
  const flushAll = () => {
    flushScheduled = false;
    for (const stream of corked) stream.uncork();
    corked.clear();
  };
  return {
    /** Holds `stream`'s writes until the end of this turn (nothing to do if it already is). */
    cork(stream: Writable): void {
      if (corked.has(stream)) return;
      stream.cork();
      corked.add(stream);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    },
    /** Sends what `stream` holds now, for a write that must not wait. */
    flush(stream: Writable): void {
      if (corked.delete(stream)) stream.uncork();
    },
  };
}
