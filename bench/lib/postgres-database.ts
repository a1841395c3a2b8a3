import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onCleanup } from './cleanup.ts';

/**
 * The PostgreSQL server the bench uses: any database on it, with rights to create and drop
 * databases. The server may be shared (other engineers' tests), so the bench only ever touches
 * databases it created, named `mailscope_bench_<random>`.
 */
export const PG_ADMIN_URL =
  process.env['PG_BENCH_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  /** DATABASE_URL for the service. */
  url: string;
  /** Drops it (closing what still uses it); also done by the bench's cleanup. Safe to call twice. */
  drop(): Promise<void>;
}

/** Runs `work` on a connection to the admin database, closed afterwards. */
export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: PG_ADMIN_URL,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
    application_name: 'mailscope-bench',
  });
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot reach PostgreSQL at ${redact(PG_ADMIN_URL)} (PG_BENCH_URL): ${reason}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh, empty database of the bench's own, dropped on cleanup (success, failure, Ctrl-C). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `mailscope_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const drop = onCleanup(async () => {
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
