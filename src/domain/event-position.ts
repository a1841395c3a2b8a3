/**
 * Where an event stands in the log's one order: by the transaction that wrote it, then by its
 * sequence number. On SQLite, with one writer at a time, `xid` is always 0 and `seq` alone is the
 * order. On PostgreSQL `seq` values are taken before commit, so a transaction that commits late
 * would land behind a reader that read past it; ordering by the writing transaction's id
 * (xid8) first, and reading only transactions that every snapshot sees as finished, gives one
 * order that every instance reads the same, with nothing slipping in behind (postgres/events.ts).
 */
export interface EventPosition {
  readonly xid: number;
  readonly seq: number;
}

/** Before the first event: replaying after it replays the whole retained log. */
export const LOG_START: EventPosition = Object.freeze({ xid: 0, seq: 0 });

/** Negative when `a` comes first, positive when `b` does, 0 for the same event. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  return a.xid - b.xid || a.seq - b.seq;
}

export function positionOf(event: EventPosition): EventPosition {
  return { xid: event.xid, seq: event.seq };
}
