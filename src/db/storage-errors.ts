/**
 * Why a database operation failed when the cause is the storage, not the request: another
 * writer held a lock too long, the disk is full or failed, or the database server cannot be
 * reached. Callers turn these into "try again later" rather than treating them as bugs.
 */
export type StorageProblem = 'busy' | 'full' | 'io' | 'unavailable';

/** A storage problem an adapter recognised in its driver's error. */
export class StorageError extends Error {
  constructor(
    readonly problem: StorageProblem,
    options: { cause?: unknown } = {},
  ) {
    super(describeStorageProblem(problem), options);
    this.name = 'StorageError';
  }
}

/**
 * The storage problem behind an error: a StorageError from an adapter, or a better-sqlite3 error
 * by its code. Anything else (a constraint, a bug) is null.
 */
export function storageProblem(error: unknown): StorageProblem | null {
  if (error instanceof StorageError) return error.problem;
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
      return 'the database is busy: another writer held its lock for too long (SQLITE_BUSY_TIMEOUT_MS on SQLite); nothing was stored, try again';
    case 'full':
      return 'the database disk is full; nothing was stored, free space and try again';
    case 'io':
      return 'the database could not be written (I/O error); nothing was stored, try again';
    case 'unavailable':
      return 'the database cannot be reached; nothing was stored, try again once it is back';
  }
}
