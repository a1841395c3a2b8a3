import type { MessageEvent, MessageStatus, StatusCounts } from '../../domain/message.ts';

/** Every message counted by status, and the log's position the count stands at. */
export interface CountedAt {
  counts: StatusCounts;
  /** The newest event the count includes: later ones are not in it. */
  seq: number;
}

/** What an event says of its message's status. */
export type StatusChange = Pick<MessageEvent, 'seq' | 'status' | 'previousStatus'>;

/**
 * Messages in each status now, without counting every message at each /metrics scrape: that
 * is a pass over the whole (status, id) index, 70 ms on the main thread at a million messages.
 *
 * Counted once, at a position in the log, then kept up to date by the events after it: every
 * status change writes an event (a new message's has no previous status, a report's keeps it).
 * The feed hands each committed event over once, in the log's order, whichever thread wrote it;
 * a question first reads the few events committed but not yet handed over, so an answer
 * includes every change committed before it. The one change without an event is a deletion
 * (retention), which reports the statuses it deleted. Until the feed runs (a command-line tool,
 * the delivery thread's connection) nothing keeps the count, and each question counts anew.
 */
export interface StatusTotals {
  current(): StatusCounts;
  /** From now on every published event passes through `observe`. */
  follow(): void;
  /** Published events, in the log's order. */
  observe(events: readonly StatusChange[]): void;
  /** Messages deleted (without an event), by the status each had. */
  deleted(statuses: readonly MessageStatus[]): void;
}

export function createStatusTotals(store: {
  countAll: () => CountedAt;
  /** The events after `seq`, in the log's order. */
  changesAfter: (seq: number) => StatusChange[];
}): StatusTotals {
  let following = false;
  let kept: CountedAt | null = null;

  function apply(changes: readonly StatusChange[]): void {
    if (kept === null) return;
    for (const change of changes) {
      // Already in the count: a change committed before it, or read from the log since.
      if (change.seq <= kept.seq) continue;
      if (change.previousStatus !== null) kept.counts[change.previousStatus]--;
      kept.counts[change.status]++;
      kept.seq = change.seq;
    }
  }

  return {
    current() {
      if (!following) return store.countAll().counts;
      if (kept === null) kept = store.countAll();
      else apply(store.changesAfter(kept.seq));
      return { ...kept.counts };
    },
    follow() {
      following = true;
    },
    observe: apply,
    deleted(statuses) {
      if (kept === null) return;
      for (const status of statuses) kept.counts[status]--;
    },
  };
}
