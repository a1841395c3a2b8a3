import type { MessageEvent } from '../../domain/message.ts';
import type { EventRepository } from './events.ts';

/**
 * Publishes events from two producers (the main thread's writers and the delivery thread) in
 * the order of the log. SQLite has one writer at a time, so when an event arrives with a
 * sequence number beyond the next expected one, the events in between are already committed:
 * they are read from the log at once, and their late copies dropped when they arrive.
 */
export function createOrderedPublisher(
  publish: (events: readonly MessageEvent[]) => void,
  events: Pick<EventRepository, 'latestSeq' | 'listAfter'>,
) {
  let expected = events.latestSeq() + 1;
  return (batch: readonly MessageEvent[]): void => {
    const ordered: MessageEvent[] = [];
    for (const event of batch) {
      if (event.seq < expected) continue;
      if (event.seq > expected) {
        ordered.push(...events.listAfter(expected - 1, event.seq - expected));
      }
      ordered.push(event);
      expected = event.seq + 1;
    }
    if (ordered.length > 0) publish(ordered);
  };
}
