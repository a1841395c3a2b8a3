import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openStorage, type StorageDescriptor } from '../../src/db/open-storage.ts';
import type { Storage } from '../../src/db/port.ts';
import type { SecretBox } from '../../src/secrets/secret-box.ts';
import { closeWith, type Scope } from './scope.ts';
import { tempDir } from './temp-dir.ts';

/**
 * Which database the storage-backed suites run on: `MAILSCOPE_TEST_DB=postgres` runs them on
 * PostgreSQL (PG_TEST_URL, default the local server with trust auth), anything else on SQLite.
 * `npm test` runs those suites once with each.
 */
export const TEST_DIALECT: 'sqlite' | 'postgres' =
  process.env['MAILSCOPE_TEST_DB'] === 'postgres' ? 'postgres' : 'sqlite';

const PG_ADMIN_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database of the test's own: a fresh PostgreSQL database, or a fresh SQLite file. */
export interface TestDatabase {
  descriptor: StorageDescriptor;
  /** The env a service started on it needs (DATABASE_URL or DATABASE_PATH). */
  env: Record<string, string>;
  /** Drops the database or removes the file. */
  remove(): Promise<void>;
}

/** A PostgreSQL database with a random name; `remove` drops it (closing what still uses it). */
export async function createPostgresDatabase(): Promise<{ url: string; remove(): Promise<void> }> {
  const name = `mailscope_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async remove() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function createTestDatabase(
  dialect: 'sqlite' | 'postgres' = TEST_DIALECT,
): Promise<TestDatabase> {
  if (dialect === 'postgres') {
    const database = await createPostgresDatabase();
    return {
      descriptor: { dialect: 'postgres', url: database.url },
      env: { DATABASE_URL: database.url },
      remove: database.remove,
    };
  }
  const dir = tempDir();
  const path = join(dir.path, 'mailscope.db');
  return {
    descriptor: { dialect: 'sqlite', path },
    env: { DATABASE_PATH: path },
    remove: async () => dir.remove(),
  };
}

export interface TestStorage {
  storage: Storage;
  database: TestDatabase;
  /** Closes the storage and removes its database. */
  close(): Promise<void>;
}

/**
 * Opens the main-role storage on a fresh database of the suite's dialect; closed, and the
 * database removed, when `scope` ends.
 */
export async function openTestStorage(
  scope: Scope,
  options: { dialect?: 'sqlite' | 'postgres'; secrets?: SecretBox | null } = {},
): Promise<TestStorage> {
  const database = await createTestDatabase(options.dialect);
  closeWith(scope, () => database.remove());
  const storage = await openStorage(database.descriptor, {
    role: 'main',
    secrets: options.secrets ?? null,
  });
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= storage.close().finally(() => database.remove());
    return closed;
  };
  closeWith(scope, close);
  return { storage, database, close };
}

/**
 * How many rows `table` holds: for what the storage port does not show, such as how many
 * copies of a submitted message are stored. `table` is a name from the schema, not input.
 */
export async function countRows(database: TestDatabase, table: string): Promise<number> {
  if (database.descriptor.dialect === 'postgres') {
    const client = new pg.Client({ connectionString: database.descriptor.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      return Number(rows[0]!.n);
    } finally {
      await client.end();
    }
  }
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(database.descriptor.path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
