import { is, Param, Placeholder, type Column } from 'drizzle-orm';
import type { Db } from './client.ts';

/** A query as drizzle builds it, before it is prepared. */
interface Buildable {
  toSQL(): { sql: string; params: unknown[] };
}

/** A statement run straight on better-sqlite3, with drizzle's parameters and rows. */
export interface DirectStatement<Row> {
  get(values: Record<string, unknown>): Row | undefined;
}

/**
 * The statement drizzle would run for `query`, prepared on better-sqlite3 and called without
 * drizzle on every call: its prepared queries fill placeholders through an `is()` walk of each
 * parameter's prototype chain on every call, about 8 % of the main thread when sendEmail is
 * accepted at full speed (the message's insert, its event's insert and the suppression look-up
 * run once per message). Here which value goes where, and through which column's encoder, is
 * worked out once; rows are decoded by `fields`, the columns the query selects or returns, in
 * the same order (what was passed to select() or returning(); the table's columns for a bare
 * returning()).
 */
export function prepareDirect<Row>(
  db: Db,
  query: Buildable,
  fields: Record<string, Column>,
): DirectStatement<Row> {
  const { sql, params } = query.toSQL();
  const statement = db.$client.prepare(sql).raw();
  const fill = params.map((param): ((values: Record<string, unknown>) => unknown) => {
    if (is(param, Placeholder)) {
      const name = param.name;
      return (values) => values[name];
    }
    if (is(param, Param) && is(param.value, Placeholder)) {
      const { name } = param.value;
      const { encoder } = param;
      return (values) => encoder.mapToDriverValue(values[name]);
    }
    return () => param;
  });
  const columns = Object.entries(fields);
  if (statement.columns().length !== columns.length) {
    throw new Error(
      `prepareDirect: the query returns ${statement.columns().length} columns, not ${columns.length}`,
    );
  }
  return {
    get(values) {
      const row = statement.get(...fill.map((valueOf) => valueOf(values))) as unknown[] | undefined;
      if (row === undefined) return undefined;
      const result: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) {
        const [key, column] = columns[i]!;
        const value = row[i];
        result[key] = value === null ? null : column.mapFromDriverValue(value);
      }
      return result as Row;
    },
  };
}
