import type { Writable } from 'node:stream';

export interface TurnCorkOptions {
  /**
   * Held streams sent per turn of the event loop; the rest wait for the next turn, still held.
   * @default 100
   */
  streamsPerTurn?: number;
}

/**
 * Writes to a socket within one turn of the event loop leave in one system call: the socket is
 * corked at its first write of the turn and uncorked, with every other socket corked meanwhile,
 * once the turn's I/O callbacks have run. On loopback a write costs tens of microseconds of the
 * writing thread, so frames and replies that pile up in a turn are much cheaper together. Used
 * by the graphql-ws result channels (frames of one event batch) and the SMTP submission listener
 * (replies to pipelined commands).
 *
 * Held streams are sent a slice at a time, oldest first, a turn per slice: an event for a
 * thousand dashboards is a thousand writes (over 10 ms here), and sent in one go they held up
 * every request and every other event that arrived meanwhile (`{ __typename }` p99 23–34 ms
 * during a fan-out to 1,000 subscribers, 10–13 ms in slices). A stream still held when the next
 * event comes takes its frame in the same write.
 */
export function createTurnCork(options: TurnCorkOptions = {}) {
  const streamsPerTurn = options.streamsPerTurn ?? 100;
  // Insertion order: the streams held longest are sent first.
  const corked = new Set<Writable>();
  let flushScheduled = false;
  const flushSlice = () => {
    flushScheduled = false;
    let sent = 0;
    for (const stream of corked) {
      if (sent++ === streamsPerTurn) {
        flushScheduled = true;
        setImmediate(flushSlice);
        return;
      }
      corked.delete(stream);
      stream.uncork();
    }
  };
  return {
    /** Holds `stream`'s writes until the end of this turn (nothing to do if it already is). */
    cork(stream: Writable): void {
      if (corked.has(stream)) return;
      stream.cork();
      corked.add(stream);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushSlice);
      }
    },
    /** Sends what `stream` holds now, for a write that must not wait. */
    flush(stream: Writable): void {
      if (corked.delete(stream)) stream.uncork();
    },
  };
}
