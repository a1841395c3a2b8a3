import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { resourcePath } from '../../resources.ts';
import { StorageError, type StorageProblem } from '../storage-errors.ts';

const migrationsFolder = resourcePath('drizzle/postgres');

/** Rows come back with bigint (int8) and xid8 columns as JS numbers, not strings. */
const INT8_OID = 20;
const XID8_OID = 5069;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === XID8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** The database's clock, in ms, fixed for the whole transaction (leases and due times). */
export const DB_NOW_MS = `(extract(epoch from now()) * 1000)::bigint`;

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** The part of a URL that may be shown: host, port and database, never the user's password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction: a standby
]);
const UNAVAILABLE_MESSAGES =
  /Query read timeout|^timeout expired$|Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Client was closed|terminating connection|is not currently accepting connections/i;

/** The storage problem behind a pg error, or null for any other error (a constraint, a bug). */
export function postgresProblem(error: unknown): StorageProblem | null {
  if (error instanceof StorageError) return error.problem;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
    // serialization_failure, deadlock_detected, lock_not_available
    if (code === '40001' || code === '40P01' || code === '55P03') return 'busy';
    if (code === '53100') return 'full'; // disk_full
    if (code === '58030') return 'io'; // io_error
  }
  const message = error instanceof Error ? error.message : '';
  return UNAVAILABLE_MESSAGES.test(message) ? 'unavailable' : null;
}

/** Rethrows a storage problem as a StorageError (SERVICE_UNAVAILABLE at the edge), else as is. */
export function translated(error: unknown): unknown {
  const problem = postgresProblem(error);
  return problem === null || error instanceof StorageError
    ? error
    : new StorageError(problem, { cause: error });
}

export interface PostgresClient {
  pool: pg.Pool;
  /** One statement outside any transaction. */
  query<R extends pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** `work` in one transaction on one connection; rolled back if it throws. */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PoolOptions {
  url: string;
  /** Connections at most. */
  max: number;
  /** Name shown in pg_stat_activity. */
  applicationName: string;
  /**
   * How long one statement may go unanswered before its connection is given up as dead
   * (DATABASE_QUERY_TIMEOUT_MS).
   */
  queryTimeoutMs: number;
}

/**
 * TCP keepalive probes on every connection, from this long idle: a connection whose path died
 * silently (no reset) is then closed by the kernel even when no statement is waiting on it.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * Ends the connection at once, without the goodbye `end()` sends and waits for: on a path that
 * drops everything that goodbye is never answered, and the socket would stay open.
 */
export function destroyConnection(client: pg.Client): void {
  (
    client as unknown as { connection: { stream: { destroy(): void } } }
  ).connection.stream.destroy();
}

function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

export function createClient(options: PoolOptions): PostgresClient {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    types,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    // A request must not wait forever for a connection to a database that is down.
    connectionTimeoutMillis: 5_000,
    // Nor for the answer of one whose path went silent (no reset): without these a request,
    // the worker and /readyz waited on a dead socket for as long as the kernel kept it.
    query_timeout: options.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
  });
  // A connection that breaks while idle (the server restarted) is dropped from the pool; the
  // next query opens a new one. Without a listener the error would end the process.
  pool.on('error', () => {});
  // A connection released after a timeout is dropped by the pool; destroyed here as well, so
  // that its socket goes at once (the statement may still be running on a live server, or the
  // path may be dead) instead of lingering until the kernel gives up on it.
  pool.on('release', (error, client) => {
    if (isQueryTimeout(error)) destroyConnection(client);
  });

  return {
    pool,
    async query(text, values) {
      try {
        return await pool.query(text as string, values);
      } catch (error) {
        throw translated(error);
      }
    },
    async transaction(work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translated(error);
      }
      let broken: Error | undefined;
      // A checked-out client is not the pool's to watch: a session the server ends between two
      // statements (a restart, an admin command) would be an unhandled 'error' that ends the
      // process. Noted here, it only keeps the connection from going back to the pool; the
      // next statement fails with it anyway.
      const onError = (error: Error) => (broken = error);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (postgresProblem(error) === 'unavailable') broken = error as Error;
        else await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
        throw translated(error);
      } finally {
        // A connection that failed is not given to the next caller.
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Any 64-bit key: instances that start together take turns at this one to migrate. */
const MIGRATION_LOCK = 0x6d61696c73636f70n; // "mailscop"

/**
 * Applies pending migrations under an advisory lock, so instances that start together migrate
 * once: the others wait for the lock, then find nothing left to do.
 */
export async function migrateDatabase(url: string): Promise<void> {
  // No query timeout: waiting for the lock while another instance migrates is legitimate.
  const client = new pg.Client({
    connectionString: url,
    types,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
  });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    // drizzle's notices ("relation already exists, skipping") are not news.
    await client.query(`SET client_min_messages = warning`);
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}

/**
 * Waits until the database answers (at start, it may still be starting next to us), for up to
 * `timeoutMs`; then fails naming DATABASE_URL, without its password.
 */
export async function waitForDatabase(
  url: string,
  timeoutMs: number,
  /** Told once, at the first failure that is waited out: a silent start looks hung. */
  onWaiting: (message: string) => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 250;
  let told = false;
  for (;;) {
    // One try takes at most 5 s, and never runs past the deadline.
    const tryMs = Math.max(100, Math.min(5_000, deadline - Date.now()));
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: tryMs,
      // A server that accepts the connection but never answers is waited for as one that is
      // down, not forever.
      query_timeout: tryMs,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (postgresProblem(error) !== 'unavailable' || Date.now() + delayMs > deadline) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(
          `DATABASE_URL: cannot use PostgreSQL at ${describeUrl(url)}: ${reason.replaceAll(url, describeUrl(url))}`,
          { cause: error },
        );
      }
      if (!told) {
        told = true;
        const reason = error instanceof Error ? error.message : String(error);
        onWaiting(
          `PostgreSQL at ${describeUrl(url)} does not answer yet (${reason.replaceAll(url, describeUrl(url))}); waiting for it up to ${Math.round(timeoutMs / 1_000)} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(2_000, delayMs * 2);
    }
  }
}
