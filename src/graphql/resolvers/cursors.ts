import { comparePositions, LOG_START, type EventPosition } from '../../domain/event-position.ts';
import { BadUserInputError } from '../errors.ts';

// Message cursors are opaque on purpose: clients must not build them, so the ordering key can
// change without breaking anyone.
const PREFIX = 'message:';

export function encodeMessageCursor(id: number): string {
  return Buffer.from(`${PREFIX}${id}`).toString('base64url');
}

export function decodeMessageCursor(cursor: string, field: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  const id = decoded.startsWith(PREFIX) ? Number(decoded.slice(PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new BadUserInputError([{ field, problem: 'is not a cursor this API returned' }]);
  }
  return id;
}

/**
 * Event cursors are the event's place in the log (event-position.ts): its sequence number on
 * SQLite, `<xid>.<seq>` on PostgreSQL. "0" means "from the oldest retained event".
 */
export function encodeEventCursor(position: EventPosition): string {
  return position.xid === 0 ? String(position.seq) : `${position.xid}.${position.seq}`;
}

export function decodeEventCursor(cursor: string, field: string): EventPosition {
  const match = /^(?:(\d{1,16})\.)?(\d{1,16})$/.exec(cursor);
  const xid = match?.[1] === undefined ? 0 : Number(match[1]);
  const seq = match?.[2] === undefined ? Number.NaN : Number(match[2]);
  if (!Number.isSafeInteger(xid) || !Number.isSafeInteger(seq)) {
    throw new BadUserInputError([{ field, problem: 'is not an event cursor this API returned' }]);
  }
  return xid === 0 && seq === 0 ? LOG_START : { xid, seq };
}

/**
 * Where the log stands: what retention pruned, and the newest position (the newest event, or
 * what was pruned when that is later). Cursors handed out never go below `newest`, and a cursor
 * beyond it was never handed out by this database.
 */
export async function logEnds(events: {
  latest(): Promise<EventPosition>;
  prunedThrough(): Promise<EventPosition>;
}): Promise<{ pruned: EventPosition; newest: EventPosition }> {
  const [latest, pruned] = await Promise.all([events.latest(), events.prunedThrough()]);
  return { pruned, newest: comparePositions(latest, pruned) >= 0 ? latest : pruned };
}
