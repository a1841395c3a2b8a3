/**
 * Why a write to the database failed when the cause is the storage, not the request: another
 * writer held the lock past busy_timeout, the disk is full, or the disk failed. Callers turn
 * these into "try again later" rather than treating them as bugs.
 */
export type StorageProblem = 'busy' | 'full' | 'io';

/** The storage problem behind a better-sqlite3 error, or null for any other error. */
export function storageProblem(error: unknown): StorageProblem | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE, …) share their primary's prefix.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code === 'ENOSPC') return 'io';
  return null;
}

/** A sentence for a person, saying what happened to the write and what to do. */
export function describeStorageProblem(problem: StorageProblem): string {
  switch (problem) {
    case 'busy':
      return 'the database is busy: another writer held its lock for longer than SQLITE_BUSY_TIMEOUT_MS; nothing was stored, try again';
    case 'full':
      return 'the database disk is full; nothing was stored, free space and try again';
    case 'io':
      return 'the database could not be written (I/O error); nothing was stored, try again';
  }
}
