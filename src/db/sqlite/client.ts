import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describeDatabaseFileError } from './file-errors.ts';
import { preparePrivateDatabaseFile } from './file-modes.ts';
import { resourcePath } from '../../resources.ts';
import { registerSqlFunctions } from './sql-functions.ts';
import * as schema from './schema.ts';

/** Drizzle over the connection; `$client` is the better-sqlite3 handle, for what drizzle can't model. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface DatabaseHandle {
  db: Db;
  /** Checkpoints the WAL and closes the file. */
  close(): void;
}

const migrationsFolder = resourcePath('drizzle/sqlite');

export interface DatabaseOptions {
  /** False for a second connection opened after the first has migrated. @default true */
  migrate?: boolean;
  /**
   * `'full'`: every commit is fsynced before it returns, so an acknowledged sendEmail survives
   * power loss (what Postfix does before its 250). `'normal'`: in WAL mode commits survive a
   * process crash (kill -9) but the last ones may be lost on power loss or an OS crash.
   * bench/durability.ts measures the difference. @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another writer's lock before failing with SQLITE_BUSY. @default 5_000 */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite file and applies every pending migration, unless
 * `migrate` is false (a second connection opened after the first has migrated).
 */
export function openDatabase(path: string, options: DatabaseOptions = {}): DatabaseHandle {
  const { migrate: runMigrations = true, synchronous = 'full', busyTimeoutMs = 5_000 } = options;
  let sqlite: Database.Database | undefined;
  try {
    if (path !== ':memory:') preparePrivateDatabaseFile(path);
    sqlite = new Database(path);
    // WAL lets readers (GraphQL queries) run while the worker writes. The first statement is
    // also where a file that is not a database says so.
    sqlite.pragma('journal_mode = WAL');
  } catch (error) {
    sqlite?.close();
    throw describeDatabaseFileError(error, path);
  }
  sqlite.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  // A second process (or a restart racing the old one) waits instead of failing at once; past
  // this, writes fail with SQLITE_BUSY, which callers report as storage unavailable.
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
  registerSqlFunctions(sqlite);
  const db = drizzle(sqlite, { schema });
  if (runMigrations) migrate(db, { migrationsFolder });
  return {
    db,
    close() {
      if (!sqlite.open) return;
      try {
        sqlite.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Locked or out of space: the WAL stays as it is and is checkpointed on the next open.
        // Shutdown must not stop here.
      }
      sqlite.close();
    },
  };
}

/**
 * A read-only connection to the database file at `path`, opened beside a running service (so
 * the file, its WAL and its shared memory exist): it can never take the write lock from the
 * service's writers, and reads each statement from the last commit.
 */
export function openReadOnlyDatabase(path: string): DatabaseHandle {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  registerSqlFunctions(sqlite);
  return { db: drizzle(sqlite, { schema }), close: () => sqlite.close() };
}
