import type { EventBus } from '../delivery/event-bus.ts';
import { comparePositions, type EventPosition } from '../domain/event-position.ts';
import type { Message, MessageEvent } from '../domain/message.ts';

export interface EventMessagesOptions {
  find: (id: number) => Promise<Message | null>;
  /** Many messages in one read, for `prime`. */
  findMany?: (ids: readonly number[]) => Promise<Message[]>;
  bus: Pick<EventBus, 'subscribe' | 'hears'>;
  /** A snapshot older than this is read again, for changes that publish no event. @default 1000 */
  maxAgeMs?: number;
  /** Snapshots kept at most; the oldest go first. @default 2048 */
  maxEntries?: number;
  now?: () => number;
}

interface Snapshot {
  message: Promise<Message | null>;
  readAtMs: number;
  /** Read after this event of the message committed: that event leaves it current. */
  coversThrough: EventPosition | null;
}

/** How long after the last `of` priming goes on: only while somebody resolves messages. */
const PRIME_WHILE_READ_WITHIN_MS = 10_000;

/**
 * `MessageEvent.message` for every subscriber of an event from one read.
 *
 * graphql-ws runs the subscription's selection once per subscriber, so with a thousand
 * dashboards open each event read its message a thousand times, which was the largest single
 * cost of fan-out. Snapshots are per message (the read itself, so subscribers asking while it
 * runs share it) and dropped as soon as another event for that message is published (status
 * changes all publish one), so a subscriber still sees the message as it is now; changes
 * without an event (an expedited retry time) show within `maxAgeMs`.
 *
 * Feeds prime the snapshots of the events they are about to publish with one read of their
 * messages, rather than one read per event: PostgreSQL's for each page it reads, SQLite's for
 * each batch its writers commit.
 */
export function createEventMessages(options: EventMessagesOptions) {
  const { find, maxAgeMs = 1_000, maxEntries = 2_048, now = Date.now } = options;
  const snapshots = new Map<number, Snapshot>();
  let lastAskedAtMs = Number.NEGATIVE_INFINITY;

  function keep(messageId: number, snapshot: Snapshot): void {
    snapshots.delete(messageId);
    snapshots.set(messageId, snapshot);
    if (snapshots.size > maxEntries) snapshots.delete(snapshots.keys().next().value!);
  }

  const unsubscribe = options.bus.subscribe(
    (event) => {
      const snapshot = snapshots.get(event.messageId);
      if (snapshot?.coversThrough && comparePositions(snapshot.coversThrough, event) >= 0) return;
      snapshots.delete(event.messageId);
    },
    // Useful only to subscribers, who listen themselves: it keeps nobody's feed going.
    { passive: true },
  );
  return {
    of(event: MessageEvent): Promise<Message | null> {
      const at = now();
      lastAskedAtMs = at;
      const snapshot = snapshots.get(event.messageId);
      if (snapshot && at - snapshot.readAtMs < maxAgeMs) return snapshot.message;
      const message = find(event.messageId);
      const entry: Snapshot = { message, readAtMs: at, coversThrough: null };
      keep(event.messageId, entry);
      // A failed read is not kept: the next subscriber reads again.
      message.catch(() => {
        if (snapshots.get(event.messageId) === entry) snapshots.delete(event.messageId);
      });
      return message;
    },

    /**
     * Reads the messages of `events` (committed, about to be published) in one go, while
     * somebody resolves event messages. The snapshots are kept at once, before the read answers,
     * so subscribers resolving meanwhile share it; a failed read only means they are read one
     * by one.
     */
    prime(events: readonly MessageEvent[]): Promise<void> {
      const findMany = options.findMany;
      if (!findMany || now() - lastAskedAtMs > PRIME_WHILE_READ_WITHIN_MS) {
        return Promise.resolve();
      }
      // Only what a subscriber hears: one watching a recipient of its own must not have every
      // other message read for it.
      const newest = new Map<number, EventPosition>();
      for (const event of events) if (options.bus.hears(event)) newest.set(event.messageId, event);
      if (newest.size === 0) return Promise.resolve();
      const ids = [...newest.keys()].slice(-maxEntries);
      const at = now();
      const read = findMany(ids).then((messages) => new Map(messages.map((m) => [m.id, m])));
      for (const id of ids) {
        const entry: Snapshot = {
          message: read.then(
            (found) => found.get(id) ?? null,
            () => find(id),
          ),
          readAtMs: at,
          coversThrough: newest.get(id)!,
        };
        keep(id, entry);
        // As in `of`: a failed read is not kept.
        entry.message.catch(() => {
          if (snapshots.get(id) === entry) snapshots.delete(id);
        });
      }
      return read.then(
        () => undefined,
        () => undefined,
      );
    },

    close: unsubscribe,
  };
}

export type EventMessages = ReturnType<typeof createEventMessages>;
