import type { MessageEvent } from '../domain/message.ts';

type Listener = (event: MessageEvent) => void;

/**
 * In-process fan-out of committed events. The worker and the outbox publish here after their
 * transaction commits; subscriptions listen. The log in SQLite stays the source of truth: a
 * listener that falls behind re-reads it by cursor.
 */
export interface EventBus {
  publish(events: readonly MessageEvent[]): void;
  /**
   * Returns the function that stops listening. With `recipientKey` (a lowercased address) the
   * listener hears only events of messages to that recipient. A `passive` listener (a cache
   * kept for the others) does not count for `listening`.
   */
  subscribe(
    listener: Listener,
    options?: { recipientKey?: string | undefined; passive?: boolean },
  ): () => void;
  /** Whether anyone but passive listeners listens now (else a feed may rest). */
  listening(): boolean;
  /** Whether anyone but passive listeners would hear `event` were it published now. */
  hears(event: MessageEvent): boolean;
}

/**
 * Listeners for one recipient are kept by recipient: a thousand subscribers each watching their
 * own address used to be asked about every event, a thousand checks per event (with a
 * lowercasing each) on the main thread while the pipeline ran at full speed.
 */
export function createEventBus(): EventBus {
  const everything = new Set<Listener>();
  const byRecipient = new Map<string, Set<Listener>>();
  let passive = 0;
  /** Someone who is not passive listens to every event. */
  const anyoneForAll = () => everything.size - passive > 0;
  return {
    listening: () => anyoneForAll() || byRecipient.size > 0,
    hears: (event) =>
      anyoneForAll() || (byRecipient.size > 0 && byRecipient.has(event.recipient.toLowerCase())),
    publish(events) {
      if (everything.size === 0 && byRecipient.size === 0) return;
      for (const event of events) {
        for (const listener of everything) listener(event);
        if (byRecipient.size === 0) continue;
        const keyed = byRecipient.get(event.recipient.toLowerCase());
        if (keyed) for (const listener of keyed) listener(event);
      }
    },
    subscribe(listener, options) {
      const key = options?.recipientKey;
      if (key === undefined) {
        everything.add(listener);
        if (options?.passive) passive++;
        let subscribed = true;
        return () => {
          if (!subscribed) return;
          subscribed = false;
          everything.delete(listener);
          if (options?.passive) passive--;
        };
      }
      let listeners = byRecipient.get(key);
      if (listeners === undefined) byRecipient.set(key, (listeners = new Set()));
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && byRecipient.get(key) === listeners) byRecipient.delete(key);
      };
    },
  };
}
