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
  const fill = filler(params);
  const columns = Object.entries(fields);
  if (statement.columns().length !== columns.length) {
    throw new Error(
      `prepareDirect: the query returns ${statement.columns().length} columns, not ${columns.length}`,
    );
  }
  return {
    get(values) {
      const row = statement.get(...fill(values)) as unknown[] | undefined;
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

/** An INSERT or UPDATE without RETURNING, run straight on better-sqlite3. */
export interface DirectWrite {
  run(values: Record<string, unknown>): { changes: number; lastInsertRowid: number };
}

export function prepareDirectWrite(db: Db, query: Buildable): DirectWrite {
  const { sql, params } = query.toSQL();
  const statement = db.$client.prepare(sql);
  if (statement.reader) throw new Error('prepareDirectWrite: the query returns rows');
  const fill = filler(params);
  return {
    run(values) {
      const { changes, lastInsertRowid } = statement.run(...fill(values));
      return { changes, lastInsertRowid: Number(lastInsertRowid) };
    },
  };
}

// SQLite runs a RETURNING clause through a temporary trigger program and an ephemeral table,
// where reading the row back by its primary key is one b-tree seek: a message's insert took 22
// µs with RETURNING and 10 µs written then read, in a transaction of 500; in the queue's own
// transactions (a few messages each, both threads writing in turn) the hot writes' share came
// to 3-5 µs per message on each thread (bench/MACHINES.md). Both statements run in the caller's
// transaction, so what is read is what was written.

/**
 * `INSERT … RETURNING` of one row, for less: the insert, then `byId` (which selects `fields`
 * where the id is the placeholder `id`) with the id SQLite gave the row.
 */
export function prepareInsertThenRead<Row>(
  db: Db,
  insert: Buildable,
  byId: Buildable,
  fields: Record<string, Column>,
): DirectStatement<Row> {
  return prepareWriteThenRead(db, insert, byId, fields, (written) => written.lastInsertRowid);
}

/**
 * `UPDATE … RETURNING` of the row whose id is the placeholder `id` (the update's condition may
 * say more), for less: the update, then `byId` when it changed that row; nothing otherwise.
 */
export function prepareUpdateThenRead<Row>(
  db: Db,
  update: Buildable,
  byId: Buildable,
  fields: Record<string, Column>,
): DirectStatement<Row> {
  return prepareWriteThenRead(db, update, byId, fields, (written, values) =>
    written.changes === 0 ? undefined : values['id'],
  );
}

function prepareWriteThenRead<Row>(
  db: Db,
  write: Buildable,
  byId: Buildable,
  fields: Record<string, Column>,
  idOf: (written: ReturnType<DirectWrite['run']>, values: Record<string, unknown>) => unknown,
): DirectStatement<Row> {
  const writer = prepareDirectWrite(db, write);
  const reader = prepareDirect<Row>(db, byId, fields);
  return {
    get(values) {
      const id = idOf(writer.run(values), values);
      return id === undefined ? undefined : reader.get({ id });
    },
  };
}

/** Which value goes where, and through which column's encoder, worked out once. */
function filler(params: unknown[]): (values: Record<string, unknown>) => unknown[] {
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
  return (values) => fill.map((valueOf) => valueOf(values));
}
