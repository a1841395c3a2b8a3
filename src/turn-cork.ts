import type { Writable } from 'node:stream';

/**
 * Writes to a socket within one turn of the event loop leave in one system call: the socket is
 * corked at its first write of the turn and uncorked, with every other socket corked meanwhile,
 * once the turn's I/O callbacks have run. On loopback a write costs tens of microseconds of the
 * writing thread, so frames and replies that pile up in a turn are much cheaper together. Used
 * by the graphql-ws result channels (frames of one event batch) and the SMTP submission listener
 * (replies to pipelined commands).
 *
 * At most `maxPerTurn` sockets are uncorked per turn; the rest wait for the next turns, first
 * corked first sent. An event to a thousand dashboards is a thousand writes (15–30 ms on this
 * machine); uncorked in one go they held the event loop that long, and every API request and
 * SMTP reply behind them. In slices, the loop serves requests between them, and events that
 * arrive meanwhile join the frames still held for the sockets not yet sent to: one write each
 * instead of two.
 */
export function createTurnCork({ maxPerTurn = 128 }: { maxPerTurn?: number } = {}) {
  const corked = new Set<Writable>();
  let flushScheduled = false;
  const schedule = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushSome);
  };
  function flushSome() {
    flushScheduled = false;
    let sent = 0;
    // A Set iterates in insertion order and tolerates deletion while iterating; a socket corked
    // again meanwhile is added at the end, behind those that waited longer.
    for (const stream of corked) {
      if (sent++ === maxPerTurn) break;
      corked.delete(stream);
      stream.uncork();
    }
    if (corked.size > 0) schedule();
  }
  return {
    /** Holds `stream`'s writes until the end of this turn (nothing to do if it already is). */
    cork(stream: Writable): void {
      if (corked.has(stream)) return;
      stream.cork();
      corked.add(stream);
      schedule();
    },
    /** Sends what `stream` holds now, for a write that must not wait. */
    flush(stream: Writable): void {
      if (corked.delete(stream)) stream.uncork();
    },
  };
}
