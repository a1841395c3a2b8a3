import Database from 'better-sqlite3';

export interface WriteProbe {
  /** null when a write transaction can start now; otherwise why not. */
  problem(): string | null;
  close(): void;
}

/**
 * Checks that the database accepts writes: `BEGIN IMMEDIATE` takes the write lock (failing on a
 * read-only file, a missing directory or a writer that holds the lock too long) and `ROLLBACK`
 * lets it go, writing nothing. It has its own connection with a short busy timeout, so a
 * readiness check never stalls the server behind a long transaction.
 */
export function createWriteProbe(path: string, { busyTimeoutMs = 250 } = {}): WriteProbe {
  let connection: Database.Database | null = null;
  return {
    problem() {
      try {
        connection ??= new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
        connection.exec('BEGIN IMMEDIATE');
        connection.exec('ROLLBACK');
        return null;
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
