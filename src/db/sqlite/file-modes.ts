import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/**
 * Readies `path` for a SQLite file that may hold SMTP credentials (without SECRETS_KEY they are
 * in cleartext): missing directories are created 0700, the file is created 0600, and the file
 * and its -wal and -shm are tightened to 0600 if they are looser. SQLite creates -wal and -shm
 * with the database file's mode, so creating the file first is what keeps them private. A
 * directory that already exists is left as it is: it may be shared on purpose (/var/lib).
 */
export function preparePrivateDatabaseFile(path: string): void {
  createMissingDirectories(dirname(path));
  createIfMissing(path);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) tightenFile(file);
}

/**
 * Creates each missing directory, from the top, one mkdir each. Not `mkdirSync(…, { recursive:
 * true })`: under a file system that refuses new directories with ENOENT although the parent
 * exists (/proc), Node's recursive mkdir retries forever at full CPU instead of failing.
 */
function createMissingDirectories(dir: string): void {
  const missing: string[] = [];
  for (let current = resolve(dir); !existsSync(current); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const directory of missing) mkdirSync(directory, { mode: PRIVATE_DIR });
}

/**
 * Creates the file 0600 when it does not exist, and never opens one that does. Closing any
 * descriptor of a file drops every POSIX lock this process holds on it, SQLite's included: a
 * connection opened after the first (the delivery thread's, the backup's) would otherwise
 * leave the database unlocked, and the next outside client to close it (the sqlite3 shell, a
 * monitoring script) would think itself the last, checkpoint and delete the WAL under the
 * running service, taking acknowledged writes with it.
 */
function createIfMissing(path: string): void {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx', PRIVATE_FILE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A directory of that name: said as opening it would have said it (file-errors.ts).
    if (statSync(path).isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), {
        code: 'EISDIR',
      });
    }
    return;
  }
  closeSync(descriptor);
}

/** chmod 0600 when group or others have any access; missing files are skipped. */
export function tightenFile(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) chmodSync(path, PRIVATE_FILE);
}
