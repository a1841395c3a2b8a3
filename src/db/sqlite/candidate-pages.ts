import {
  and,
  count as countRows,
  countDistinct,
  desc,
  eq,
  gte,
  inArray,
  lt,
  sql,
  type SQL,
} from 'drizzle-orm';
import type { Db } from './client.ts';
import { askedFields, type MessageListFilter } from '../message-filter.ts';
import { whereOf } from './message-filters.ts';
import { dispatches, messages, subjectSearchState } from './schema.ts';
import { messageReadColumns } from './message-columns.ts';

/** Candidate message ids fetched per dispatch key and round. */
const WINDOW = 256;

/** A message as pages read it (messageReadColumns). */
type MessageRow = typeof messages.$inferSelect;

/** Subject terms shorter than a trigram can't use the search index. */
const MIN_SEARCH_LENGTH = 3;

/**
 * The filter's subject term as one FTS5 phrase (its trigrams in a row, i.e. the term as a
 * substring, case-folded), or null when it has none the trigram index can serve. The filter's
 * own condition is still checked on every candidate.
 */
function subjectPhrase(filter: MessageListFilter): string | null {
  const term = filter.subjectContains;
  if (term === undefined || [...term].length < MIN_SEARCH_LENGTH) return null;
  return `"${term.replaceAll('"', '""')}"`;
}

/**
 * How far the background indexer has gone (subject-search.ts): messages with ids above it are
 * not in the trigram index yet, and are read directly.
 */
function prepareIndexedThrough(db: Db) {
  return db
    .select({ id: subjectSearchState.indexedThroughId })
    .from(subjectSearchState)
    .where(eq(subjectSearchState.id, 1))
    .prepare();
}

/** At most this many candidates are counted through the trigram index. */
const MAX_COUNTED_CANDIDATES = 20_000;

/**
 * How many messages match a filter that an index outside messages answers, or null when none
 * does (the caller counts by scanning messages), so that a count reads the matches rather than
 * every message: 0.3-0.6 s of the main thread at a million messages when the dashboard filtered
 * by an error code or a subject term matching eleven messages.
 * - Only what some attempt did (an error code, or a configuration version): the distinct
 *   messages of the matching attempts, in their own index. Retention deletes a message's
 *   attempts with it, so every attempt belongs to a stored message.
 * - A subject term: the trigram index's candidates checked against the whole filter, and the
 *   newest messages (not indexed yet) read directly, as pages do; null when the term is so
 *   common that counting every message is no slower.
 */
export function createCandidateCount(db: Db) {
  const subjectCandidates = db.$client.prepare<[string, number, number], { n: number }>(
    'SELECT count(*) AS n FROM (SELECT rowid FROM messages_subject_search WHERE messages_subject_search MATCH ? AND rowid < ? LIMIT ?)',
  );
  const subjectsIndexedThrough = prepareIndexedThrough(db);
  const count = (where: SQL | undefined) =>
    db.select({ n: countRows() }).from(messages).where(where).get()?.n ?? 0;
  const countAttempts = (where: SQL) =>
    db
      .select({ n: countDistinct(dispatches.messageId) })
      .from(dispatches)
      .where(where)
      .get()?.n ?? 0;

  return function countFromCandidates(filter: MessageListFilter): number | null {
    if (askedFields(filter).length === 1) {
      if (filter.errorCodes !== undefined && filter.errorCodes.length > 0) {
        return countAttempts(inArray(dispatches.errorCode, [...filter.errorCodes]));
      }
      if (filter.smtpConfigVersion !== undefined) {
        return countAttempts(eq(dispatches.smtpConfigVersion, filter.smtpConfigVersion));
      }
    }
    const phrase = subjectPhrase(filter);
    if (phrase === null) return null;
    const coversBelow = (subjectsIndexedThrough.get()?.id ?? 0) + 1;
    const found = subjectCandidates.get(phrase, coversBelow, MAX_COUNTED_CANDIDATES + 1)?.n ?? 0;
    if (found > MAX_COUNTED_CANDIDATES) return null;
    const indexed = sql`${messages.id} IN (SELECT rowid FROM messages_subject_search
      WHERE messages_subject_search MATCH ${phrase} AND rowid < ${coversBelow})`;
    return (
      count(and(indexed, whereOf(db, filter, { byIdOnly: true }))) +
      count(and(gte(messages.id, coversBelow), whereOf(db, filter)))
    );
  };
}

/**
 * The newest page of messages matching a filter with a condition that an index outside the
 * messages table answers well: "some attempt failed with code X" or "used configuration
 * version N" (dispatches' indexes), "subject contains T" (the trigram index).
 *
 * Scanning messages newest first and testing each one is fast when matches are common, but a
 * rare code, an old configuration version or an uncommon word makes it walk most of the history
 * before it finds a page. Here the other index is walked newest first instead, a window of ids
 * at a time; the windows of several keys (codes) are merged only down to the id every key has
 * been read to; and those candidates are checked against the whole filter by id.
 */
export function createCandidatePages(db: Db) {
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

  // The trigram index is a virtual table drizzle does not model (drizzle/0002 and 0005).
  const bySubject = db.$client.prepare<[string, number, number], { id: number }>(
    'SELECT rowid AS id FROM messages_subject_search WHERE messages_subject_search MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?',
  );

  const subjectsIndexedThrough = prepareIndexedThrough(db);

  interface Drivers {
    /** The index lookups that propose candidates, one per key. */
    lookups: ((before: number) => { id: number }[])[];
    /** The index knows only messages with ids below this; newer ones are read directly. */
    coversBelow: number;
  }

  function driversFor(filter: MessageListFilter): Drivers | null {
    if (filter.errorCodes && filter.errorCodes.length > 0) {
      return {
        lookups: [...new Set(filter.errorCodes)].map(
          (key) => (before: number) => byErrorCode.all({ key, before }),
        ),
        coversBelow: Number.MAX_SAFE_INTEGER,
      };
    }
    if (filter.smtpConfigVersion !== undefined) {
      const key = filter.smtpConfigVersion;
      return {
        lookups: [(before: number) => byConfigVersion.all({ key, before })],
        coversBelow: Number.MAX_SAFE_INTEGER,
      };
    }
    const phrase = subjectPhrase(filter);
    if (phrase !== null) {
      return {
        lookups: [(before: number) => bySubject.all(phrase, before, WINDOW)],
        // Subjects are indexed in the background (subject-search.ts), shortly after insert.
        coversBelow: (subjectsIndexedThrough.get()?.id ?? 0) + 1,
      };
    }
    return null;
  }

  /**
   * Up to `limit` messages matching `filter`, newest first, with ids below `beforeId`; null when
   * `filter` has no condition to drive the search (the caller scans messages instead).
   */
  return function pageFromCandidates(
    filter: MessageListFilter,
    limit: number,
    beforeId: number | null,
  ): MessageRow[] | null {
    const drivers = driversFor(filter);
    if (drivers === null) return null;
    let before = beforeId ?? Number.MAX_SAFE_INTEGER;
    const rows: MessageRow[] = [];
    if (before > drivers.coversBelow) {
      // The newest messages, not indexed yet: few, normally (the indexer keeps up within a
      // second), so they are read directly.
      rows.push(
        ...db
          .select(messageReadColumns)
          .from(messages)
          .where(
            and(
              whereOf(db, filter),
              gte(messages.id, drivers.coversBelow),
              lt(messages.id, before),
            ),
          )
          .orderBy(desc(messages.id))
          .limit(limit)
          .all(),
      );
      before = drivers.coversBelow;
    }
    const where = whereOf(db, filter, { byIdOnly: true });
    while (rows.length < limit) {
      // Ids at or above `floor` have been read for every key; below it, some key may have more.
      let floor = 0;
      const candidates = new Set<number>();
      for (const lookup of drivers.lookups) {
        const ids = lookup(before);
        if (ids.length === WINDOW) floor = Math.max(floor, ids.at(-1)!.id);
        for (const { id } of ids) candidates.add(id);
      }
      const complete = [...candidates].filter((id) => id >= floor);
      if (complete.length > 0) {
        rows.push(
          ...db
            .select(messageReadColumns)
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
