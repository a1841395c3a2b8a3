import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventFilter, EventLog } from '../db/port.ts';
import {
  comparePositions,
  LOG_START,
  positionOf,
  type EventPosition,
} from '../domain/event-position.ts';
import type { MessageEvent } from '../domain/message.ts';
import type { EventBus } from './event-bus.ts';

export interface EventStreamOptions {
  events: EventLog;
  bus: EventBus;
  /** Replay the log after this position first; null for live events only. */
  after: EventPosition | null;
  /** Cheap conditions the log query applies itself. */
  filter: EventFilter;
  /** Any further condition, applied to replayed and live events alike. */
  matches?: (event: MessageEvent) => boolean | Promise<boolean>;
  /** Live events held for a slow reader before it falls back to re-reading the log. */
  maxBuffered?: number;
  replayPageSize?: number;
  /**
   * The newest event retention has deleted. A replay that would continue below it (it started
   * before a pruning run and reads behind it) could skip events: the stream yields
   * CURSOR_EXPIRED and ends instead. Replays from the start begin at the oldest retained event
   * and expire only when a pruning run passes them while they replay.
   */
  prunedThrough?: () => Promise<EventPosition>;
}

/** Yielded once, last, when the events after the reader's position were pruned meanwhile. */
export const CURSOR_EXPIRED = Object.freeze({ cursorExpired: true as const });
export type StreamItem = MessageEvent | typeof CURSOR_EXPIRED;

/**
 * Replays the event log after a cursor, then follows live events, with none lost or repeated.
 *
 * It listens on the bus *before* reading the log, so an event committed while the replay runs is
 * either in a replayed page or in the buffer; its position tells which copies to skip. A reader that
 * lets the buffer overflow drops it and reads the log again from its last cursor: the log, not
 * memory, is the source of truth.
 */
export function streamEvents(options: EventStreamOptions): AsyncIterableIterator<StreamItem> {
  const control = { stopped: false, wake: null as (() => void) | null };
  const generator = generate(options, control);
  return {
    next: () => generator.next(),
    // An async generator parked in `await` would only see return() after its next event; wake it
    // so an unsubscribed client stops listening at once.
    return: async () => {
      control.stopped = true;
      control.wake?.();
      return generator.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* generate(
  options: EventStreamOptions,
  control: { stopped: boolean; wake: (() => void) | null },
): AsyncGenerator<StreamItem> {
  const { events, bus, filter } = options;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const pageSize = options.replayPageSize ?? 500;
  const statuses = filter.statuses && filter.statuses.length > 0 ? new Set(filter.statuses) : null;
  const further = options.matches;

  let buffer: MessageEvent[] = [];
  let overflowed = false;
  // The recipient is the bus's to check (it hands this listener only that recipient's events);
  // further conditions may read the message, so they are applied when an event is taken.
  const unsubscribe = bus.subscribe(
    (event) => {
      if (overflowed || (statuses !== null && !statuses.has(event.status))) return;
      if (buffer.length >= maxBuffered) {
        buffer = [];
        overflowed = true;
      } else {
        buffer.push(event);
      }
      control.wake?.();
    },
    { recipientKey: filter.recipientKey },
  );

  try {
    // Read after subscribing: a live-only stream starts at the newest event, and anything
    // committed from here on reaches the buffer.
    let last = options.after ?? (await events.latest());
    let needsReplay = options.after !== null;
    // A replay from the start takes the log as retention left it then: the events of messages
    // pruned before it began are not missed, even where they lie between retained ones (a pruned
    // message's late retry or report). Only a pruning run during the replay can expire it.
    const fromStart = options.after !== null && comparePositions(options.after, LOG_START) === 0;
    const prunedAtStart =
      fromStart && options.prunedThrough ? await options.prunedThrough() : LOG_START;
    while (!control.stopped) {
      if (overflowed) {
        overflowed = false;
        buffer = [];
        needsReplay = true;
      }
      if (needsReplay) {
        if (options.prunedThrough && comparePositions(last, LOG_START) > 0) {
          const pruned = await options.prunedThrough();
          if (
            comparePositions(last, pruned) < 0 &&
            (!fromStart || comparePositions(pruned, prunedAtStart) > 0)
          ) {
            yield CURSOR_EXPIRED;
            return;
          }
        }
        const page = await events.listAfter(last, pageSize, filter);
        if (page.length === 0) {
          needsReplay = false;
        }
        for (const event of page) {
          last = positionOf(event);
          if (further === undefined || (await further(event))) yield event;
        }
        // A turn of the event loop between pages: on SQLite the reads are synchronous, so a
        // replay of a long history ran in microtasks alone, and a few subscribers replaying
        // from the start held every request (and /healthz) for seconds.
        await nextTurn();
        continue;
      }
      const next = buffer.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => {
          control.wake = resolve;
        });
        control.wake = null;
        continue;
      }
      if (comparePositions(next, last) <= 0) continue; // already replayed
      last = positionOf(next);
      if (further === undefined || (await further(next))) yield next;
    }
  } finally {
    unsubscribe();
  }
}
