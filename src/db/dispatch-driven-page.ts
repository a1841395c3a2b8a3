import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { whereOf, type MessageListFilter } from './message-filters.ts';
import { dispatches, messages } from './schema.ts';

/** Candidate message ids fetched per dispatch key and round. */
const WINDOW = 256;

type MessageRow = typeof messages.$inferSelect;

/**
 * The newest page of messages matching a filter that includes a "some attempt …" condition
 * (error code, configuration version), found from the dispatches side.
 *
 * Scanning messages newest first and probing dispatches for each one is fast when matches are
 * common, but a rare code, or an old configuration version, makes it walk most of the history
 * before it finds a page. Here each key's index (code or version, message_id) is walked newest
 * first instead, a window at a time; the windows of several keys are merged so that only ids
 * every key has been read down to are taken; and those candidates are checked against the whole
 * filter in one query. Returns null when the filter has no such condition.
 */
export function createDispatchDrivenPages(db: Db) {
  const p = sql.placeholder;
  const byErrorCode = db
    .select({ id: dispatches.messageId })
    .from(dispatches)
    .where(and(eq(dispatches.errorCode, p('key')), lt(dispatches.messageId, p('before'))))
    .orderBy(desc(dispatches.messageId))
    .limit(WINDOW)
    .prepare();
  const byConfigVersion = db
    .select({ id: dispatches.messageId })
    .from(dispatches)
    .where(and(eq(dispatches.smtpConfigVersion, p('key')), lt(dispatches.messageId, p('before'))))
    .orderBy(desc(dispatches.messageId))
    .limit(WINDOW)
    .prepare();

  /** The dispatch lookups that can propose candidates for `filter`, one per key. */
  function driversFor(filter: MessageListFilter): ((before: number) => { id: number }[])[] | null {
    if (filter.errorCodes && filter.errorCodes.length > 0) {
      return [...new Set(filter.errorCodes)].map(
        (key) => (before: number) => byErrorCode.all({ key, before }),
      );
    }
    if (filter.smtpConfigVersion !== undefined) {
      const key = filter.smtpConfigVersion;
      return [(before: number) => byConfigVersion.all({ key, before })];
    }
    return null;
  }

  /**
   * Up to `limit` messages matching `filter`, newest first, with ids below `beforeId`; null when
   * `filter` has no dispatch condition to drive the search (the caller scans messages instead).
   */
  return function pageByDispatches(
    filter: MessageListFilter,
    limit: number,
    beforeId: number | null,
  ): MessageRow[] | null {
    const drivers = driversFor(filter);
    if (drivers === null) return null;
    const where = whereOf(db, filter, { byIdOnly: true });
    const rows: MessageRow[] = [];
    let before = beforeId ?? Number.MAX_SAFE_INTEGER;
    while (rows.length < limit) {
      // Ids at or above `floor` have been read for every key; below it, some key may have more.
      let floor = 0;
      const candidates = new Set<number>();
      for (const driver of drivers) {
        const ids = driver(before);
        if (ids.length === WINDOW) floor = Math.max(floor, ids.at(-1)!.id);
        for (const { id } of ids) candidates.add(id);
      }
      const complete = [...candidates].filter((id) => id >= floor);
      if (complete.length > 0) {
        rows.push(
          ...db
            .select()
            .from(messages)
            .where(and(inArray(messages.id, complete), where))
            .orderBy(desc(messages.id))
            .limit(limit - rows.length)
            .all(),
        );
      }
      if (floor === 0) break; // every key is exhausted
      before = floor;
    }
    return rows;
  };
}
