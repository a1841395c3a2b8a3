import type Database from 'better-sqlite3';
import { foldForSearch } from '../message-filter.ts';

/**
 * The application's functions SQL statements call, registered on every connection that runs
 * them: subject searches fold text the application's way (message-filter.ts), in SQL too.
 */
export function registerSqlFunctions(sqlite: Database.Database): void {
  sqlite.function('mailscope_fold', { deterministic: true }, (text: unknown) =>
    typeof text === 'string' ? foldForSearch(text) : text,
  );
}
