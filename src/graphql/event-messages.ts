import type { EventBus } from '../delivery/event-bus.ts';
import type { Message, MessageEvent } from '../domain/message.ts';

export interface EventMessagesOptions {
  find: (id: number) => Promise<Message | null>;
  bus: Pick<EventBus, 'subscribe'>;
  /** A snapshot older than this is read again, for changes that publish no event. @default 1000 */
  maxAgeMs?: number;
  /** Snapshots kept at most; the oldest go first. @default 2048 */
  maxEntries?: number;
  now?: () => number;
}

/**
 * `MessageEvent.message` for every subscriber of an event from one read.
 *
 * graphql-ws runs the subscription's selection once per subscriber, so with a thousand
 * dashboards open each event read its message a thousand times, which was the largest single
 * cost of fan-out. Snapshots are per message (the read itself, so subscribers asking while it
 * runs share it) and dropped as soon as another event for that message is published (status
 * changes all publish one), so a subscriber still sees the message as it is now; changes
 * without an event (an expedited retry time) show within `maxAgeMs`.
 */
export function createEventMessages(options: EventMessagesOptions) {
  const { find, maxAgeMs = 1_000, maxEntries = 2_048, now = Date.now } = options;
  const snapshots = new Map<number, { message: Promise<Message | null>; readAtMs: number }>();
  const unsubscribe = options.bus.subscribe((event) => snapshots.delete(event.messageId));
  return {
    of(event: MessageEvent): Promise<Message | null> {
      const at = now();
      const snapshot = snapshots.get(event.messageId);
      if (snapshot && at - snapshot.readAtMs < maxAgeMs) return snapshot.message;
      const message = find(event.messageId);
      snapshots.delete(event.messageId);
      const entry = { message, readAtMs: at };
      snapshots.set(event.messageId, entry);
      // A failed read is not kept: the next subscriber reads again.
      message.catch(() => {
        if (snapshots.get(event.messageId) === entry) snapshots.delete(event.messageId);
      });
      if (snapshots.size > maxEntries) snapshots.delete(snapshots.keys().next().value!);
      return message;
    },
    close: unsubscribe,
  };
}

export type EventMessages = ReturnType<typeof createEventMessages>;
