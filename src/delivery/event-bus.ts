import type { MessageEvent } from '../domain/message.ts';

/**
 * In-process fan-out of committed events. The worker and the outbox publish here after their
 * transaction commits; subscriptions listen. The log in SQLite stays the source of truth: a
 * listener that falls behind re-reads it by cursor.
 */
export interface EventBus {
  publish(events: readonly MessageEvent[]): void;
  /** Returns the function that stops listening. */
  subscribe(listener: (event: MessageEvent) => void): () => void;
}

export function createEventBus(): EventBus {
  const listeners = new Set<(event: MessageEvent) => void>();
  return {
    publish(events) {
      if (listeners.size === 0) return;
      for (const event of events) for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
