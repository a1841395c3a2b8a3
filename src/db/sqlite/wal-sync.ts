import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Durable commits without blocking the thread: the connection commits with
 * `synchronous = NORMAL` (the WAL frames are written, not yet flushed) and a write's caller is
 * answered once an fdatasync of the WAL file, run on libuv's thread pool, has covered it.
 *
 * With `synchronous = FULL` SQLite flushes the WAL inside COMMIT, on the thread that commits:
 * about 1 ms each on an ordinary disk, during which the main thread parses no request and
 * answers no SMTP client. Commits arrive one or two at a time (SMTP clients wait for each 250),
 * so group commit gathered next to nothing and intake was held to one flush per message. Here
 * the thread goes on while a flush runs, and the commits made meanwhile share the next flush.
 *
 * The guarantee is FULL's: a write's promise resolves only once its commit is on disk, and
 * frames written before a flush began are covered by it (fdatasync flushes the whole file,
 * whichever descriptor asks). What differs: another connection may read a commit before it is
 * flushed, as PostgreSQL's readers may with synchronous_commit off; on power loss such a commit
 * may be lost, but nobody was told it was stored.
 */
export interface WalSync {
  /** Resolves once everything committed before this call is on disk. */
  durable(): Promise<void>;
  close(): Promise<void>;
}

export function createWalSync(databasePath: string): WalSync {
  let wal: Promise<FileHandle> | null = null;
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;

  async function openWal(): Promise<FileHandle> {
    const handle = await open(`${databasePath}-wal`, 'r');
    // Once: the directory entry of a WAL file created since the directory was last flushed.
    // Best effort: a directory this process may enter but not read cannot be opened.
    const directory = await open(dirname(databasePath), 'r').catch(() => null);
    try {
      await directory?.sync();
    } finally {
      await directory?.close();
    }
    return handle;
  }

  function flush(): Promise<void> {
    const started = (async () => {
      wal ??= openWal();
      try {
        await (await wal).datasync();
      } catch (error) {
        // Opened again next time (e.g. the file could not be opened at all).
        wal = null;
        throw error;
      }
    })().finally(() => {
      if (running === started) running = null;
    });
    running = started;
    return started;
  }

  return {
    durable() {
      if (running === null) return flush();
      // The flush in flight may have begun before this commit: the next one covers it, and
      // every commit made until it starts.
      next ??= running
        .catch(() => undefined)
        .then(() => {
          next = null;
          return flush();
        });
      return next;
    },
    async close() {
      await next?.catch(() => undefined);
      await running?.catch(() => undefined);
      const handle = await wal?.catch(() => null);
      wal = null;
      await handle?.close();
    },
  };
}
