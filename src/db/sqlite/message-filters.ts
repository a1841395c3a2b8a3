import { and, eq, exists, gte, inArray, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { foldForSearch, recipientKey, type MessageListFilter } from '../message-filter.ts';
import type { Db } from './client.ts';
import { dispatches, messages } from './schema.ts';

export interface WhereOptions {
  /**
   * Keep the indexes on messages' columns out of it (SQLite's unary `+`), for a query that looks
   * rows up by id: without statistics the planner takes `status = ?` to match a handful of rows
   * and would walk that index rather than look up a few hundred ids.
   */
  byIdOnly?: boolean;
}

export function filterConditions(
  db: Db,
  filter: MessageListFilter,
  { byIdOnly = false }: WhereOptions = {},
): SQL[] {
  const conditions: SQL[] = [];
  const column = (c: SQLWrapper) => (byIdOnly ? sql`+${c}` : c);
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(inArray(column(messages.status), [...filter.statuses]));
  }
  if (filter.recipient !== undefined) {
    conditions.push(eq(column(messages.recipientKey), recipientKey(filter.recipient)));
  }
  if (filter.outcomes && filter.outcomes.length > 0) {
    conditions.push(inArray(column(messages.outcome), [...filter.outcomes]));
  }
  // Creation times never decrease as ids grow (the insert sees to it), so a time range is an id
  // range: one lookup in the created_at index finds the boundary, and the page is then read by
  // id like any other, instead of walking every message newer (or older) than the range.
  if (filter.createdAfterMs !== undefined) {
    const firstId = sql`(select ${messages.id} from ${messages} where ${messages.createdAt} >= ${filter.createdAfterMs} order by ${messages.createdAt}, ${messages.id} limit 1)`;
    conditions.push(sql`${messages.id} >= coalesce(${firstId}, ${Number.MAX_SAFE_INTEGER})`);
  }
  if (filter.createdBeforeMs !== undefined) {
    const lastId = sql`(select ${messages.id} from ${messages} where ${messages.createdAt} < ${filter.createdBeforeMs} order by ${messages.createdAt} desc, ${messages.id} desc limit 1)`;
    conditions.push(sql`${messages.id} <= coalesce(${lastId}, 0)`);
  }
  if (filter.subjectContains !== undefined && filter.subjectContains !== '') {
    // The fold is the application's (client.ts registers it), not SQLite's ASCII-only lower();
    // instr avoids LIKE's wildcard characters in user input.
    conditions.push(
      sql`instr(mailscope_fold(${messages.subject}), ${foldForSearch(filter.subjectContains)}) > 0`,
    );
  }
  if (filter.everFailed !== undefined) {
    conditions.push(eq(column(messages.everFailed), filter.everFailed));
  }
  // "Some attempt …" conditions: an index lookup in dispatches per candidate message.
  const someDispatch = (condition: SQL) =>
    exists(
      db
        .select({ one: sql`1` })
        .from(dispatches)
        .where(and(condition, eq(dispatches.messageId, messages.id))),
    );
  if (filter.errorCodes && filter.errorCodes.length > 0) {
    conditions.push(someDispatch(inArray(dispatches.errorCode, [...filter.errorCodes])));
  }
  if (filter.smtpConfigVersion !== undefined) {
    conditions.push(someDispatch(eq(dispatches.smtpConfigVersion, filter.smtpConfigVersion)));
  }
  if (filter.lastErrorCodes && filter.lastErrorCodes.length > 0) {
    conditions.push(
      inArray(sql`json_extract(${messages.lastError}, '$.code')`, [...filter.lastErrorCodes]),
    );
  }
  if (filter.updatedAfterMs !== undefined) {
    conditions.push(gte(messages.updatedAt, filter.updatedAfterMs));
  }
  return conditions;
}

export function whereOf(
  db: Db,
  filter: MessageListFilter,
  options: WhereOptions = {},
): SQL | undefined {
  const conditions = filterConditions(db, filter, options);
  return conditions.length > 0 ? and(...conditions) : undefined;
}
