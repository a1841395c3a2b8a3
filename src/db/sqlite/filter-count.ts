import { count } from 'drizzle-orm';
import type { Db } from './client.ts';
import { createCandidateCount } from './candidate-pages.ts';
import type { MessageListFilter } from '../message-filter.ts';
import { whereOf } from './message-filters.ts';
import { messages } from './schema.ts';

/**
 * How many messages match a filter: through an index outside the messages table where one
 * answers (candidate-pages.ts), else by reading every message the filter may match. The same
 * count on the main connection and on the count thread's (count-thread.ts).
 */
export function createFilterCount(db: Db): (filter: MessageListFilter) => number {
  const countFromCandidates = createCandidateCount(db);
  return (filter) =>
    countFromCandidates(filter) ??
    db.select({ n: count() }).from(messages).where(whereOf(db, filter)).get()?.n ??
    0;
}
