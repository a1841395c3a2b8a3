import { and, eq, exists, gte, inArray, lt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { foldForSearch, recipientKey, type MessageListFilter } from '../message-filter.ts';
import type { Db } from './client.ts';
import { creationBoundary } from './creation-order.ts';
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
  // range, found by bisection over the primary key (creation-order.ts); the page is then read
  // by id like any other, instead of walking every message newer (or older) than the range.
  if (filter.createdAfterMs !== undefined) {
    const { firstId, none } = creationBoundary(db, filter.createdAfterMs);
    conditions.push(gte(messages.id, none ? Number.MAX_SAFE_INTEGER : firstId));
  }
  if (filter.createdBeforeMs !== undefined) {
    conditions.push(lt(messages.id, creationBoundary(db, filter.createdBeforeMs).firstId));
  }
  if (filter.subjectContains !== undefined && filter.subjectContains !== '') {
    // The fold is the application's (client.ts registers it), not SQLite's ASCII-only lower();
    // instr avoids LIKE's wildcard characters in user input.
    conditions.push(
      sql`instr(mailscope_fold(${messages.subject}), ${foldForSearch(filter.subjectContains)}) > 0`,
    );
  }
  if (filter.everFailed !== undefined) {
    // A literal, not a parameter: SQLite uses the partial index (ever_failed = 1) only for a
    // term that matches its own.
    conditions.push(
      sql`${column(messages.everFailed)} = ${sql.raw(filter.everFailed ? '1' : '0')}`,
    );
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
