import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { closeWith } from './scope.ts';

// What the PostgreSQL-only suites (*.postgres.test.ts) share: a cleanup stack per test, a plain
// client to look at what the service stored, and a PostgreSQL cluster of the test's own for the
// faults that must not touch the shared server (stopping it, holding a transaction open).

const run = promisify(execFile);

/** Something to close or remove when the test is over. */
export type Cleanup = () => unknown;

/**
 * The test's cleanups, newest first (so a database is dropped only after the services on it are
 * closed), together with those the helpers register on the same scope (scope.ts).
 */
export function cleanupStack(t: TestContext): (cleanup: Cleanup) => void {
  return (cleanup) => closeWith(t, cleanup);
}

/** A plain connection to `url` (no pool) for reading what the service stored. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // A server that goes away must not end the test process with an unhandled 'error'.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The stored event log in its one order, as the cursors the API shows ("<xid>.<seq>"). */
export async function storedLog(
  client: pg.Client,
): Promise<{ cursor: string; messageId: string; status: string }[]> {
  const { rows } = await client.query<{ cursor: string; message_id: string; status: string }>(
    `SELECT xid::text || '.' || seq AS cursor, message_id::text, status
     FROM message_events ORDER BY xid, seq`,
  );
  return rows.map((row) => ({ cursor: row.cursor, messageId: row.message_id, status: row.status }));
}

/** Message counts by status. */
export async function statusCountsOf(client: pg.Client): Promise<Record<string, number>> {
  const { rows } = await client.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM messages GROUP BY status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** initdb and pg_ctl: PG_BIN_DIR, else Debian's newest /usr/lib/postgresql/<version>/bin. */
function serverBinDir(): string {
  const fromEnv = process.env['PG_BIN_DIR'];
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root}; set PG_BIN_DIR`);
  return join(root, versions[0]!, 'bin');
}

export interface PrivateCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  url: string;
  port: number;
  /** `pg_ctl stop`: `fast` ends sessions and shuts down cleanly, `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it (if running) and deletes its files. */
  remove(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl into a temp dir, on a free port), for
 * faults that would disturb everyone else on the shared server. Root cannot run PostgreSQL, so
 * as root (CI) the commands run as the `postgres` OS user.
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = serverBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'mailscope-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pgCommand = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : run(join(bin, tool), args);
  let port = 0;

  const start = async () => {
    await pgCommand('pg_ctl', [
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      // Durability is not what these tests are about; fsync off keeps the machine free for them.
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=60`,
      'start',
    ]);
  };

  const remove = async () => {
    // Whatever state a failed test left it in: stopping a stopped cluster just fails.
    await pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
    port = await freePort();
    await start();
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode = 'fast') {
      await pgCommand('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    },
    start,
    remove,
  };
}
