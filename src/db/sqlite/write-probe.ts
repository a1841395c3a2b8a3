import Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

export interface WriteProbe {
  /** null when a write transaction can start now; otherwise why not. */
  problem(): string | null;
  close(): void;
}

/**
 * Below this much free space on the database's file system, writes are about to fail or already
 * fail with SQLITE_FULL (a WAL frame is a page; one message with its events is a few pages, a
 * large one hundreds), so the instance is not ready.
 */
const MIN_FREE_BYTES = 1024 * 1024;

/**
 * Checks that the database accepts writes: `BEGIN IMMEDIATE` takes the write lock (failing on a
 * read-only file, a missing directory or a writer that holds the lock too long) and `ROLLBACK`
 * lets it go, writing nothing. It has its own connection with a short busy timeout, so a
 * readiness check never stalls the server behind a long transaction. A full disk does not stop
 * `BEGIN IMMEDIATE`, only the writes after it, so the free space is read as well.
 */
export function createWriteProbe(path: string, { busyTimeoutMs = 250 } = {}): WriteProbe {
  let connection: Database.Database | null = null;
  return {
    problem() {
      try {
        connection ??= new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
        connection.exec('BEGIN IMMEDIATE');
        connection.exec('ROLLBACK');
        return diskFull(path);
      } catch (error) {
        // The next check opens a fresh connection, in case this one is what broke.
        try {
          connection?.close();
        } catch {
          // already unusable
        }
        connection = null;
        return error instanceof Error ? error.message : String(error);
      }
    },
    close() {
      connection?.close();
      connection = null;
    },
  };
}

/** Why the file system holding `path` (and its WAL beside it) is too full to write, or null. */
function diskFull(path: string): string | null {
  // The blocks a file system reserves for root are free to a service running as root only.
  const { bavail, bfree, bsize } = statfsSync(dirname(path));
  const free = (process.getuid?.() === 0 ? bfree : bavail) * bsize;
  if (free >= MIN_FREE_BYTES) return null;
  return `the disk holding it is full (${Math.floor(free / 1024)} KiB free); free space or grow the volume`;
}
