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

/** Event cursors are the log's sequence numbers; "0" means "from the oldest retained event". */
export function encodeEventCursor(seq: number): string {
  return String(seq);
}

export function decodeEventCursor(cursor: string, field: string): number {
  if (!/^\d{1,16}$/.test(cursor)) {
    throw new BadUserInputError([{ field, problem: 'is not an event cursor this API returned' }]);
  }
  return Number(cursor);
}
