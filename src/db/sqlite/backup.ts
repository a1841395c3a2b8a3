import { renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { preparePrivateDatabaseFile } from './file-modes.ts';

export interface BackupResult {
  bytes: number;
  pages: number;
  messages: number;
  events: number;
  durationMs: number;
}

/**
 * Copies the live database to `destination` with SQLite's online backup API, while the service
 * keeps running: WAL lets this read one consistent snapshot without blocking its writers. The
 * pages are copied in a single step (one read transaction): in small steps, every commit of the
 * running service would restart the copy. The copy is written beside the destination and
 * renamed into place only after `integrity_check` passes, so a failed backup leaves no file that
 * looks like a good one. The copy is created 0600, like the database.
 */
export async function backupDatabase(source: string, destination: string): Promise<BackupResult> {
  const startedAt = performance.now();
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  // The copy holds what the database holds: 0600 from the first byte, in a 0700 directory when
  // the backup creates it.
  preparePrivateDatabaseFile(partial);
  const live = new Database(source, { fileMustExist: true, timeout: 5_000 });
  let pages = 0;
  try {
    const progress = await live.backup(partial, { progress: () => 0x7fff_ffff });
    pages = progress.totalPages;
  } finally {
    live.close();
  }
  const copy = new Database(partial, { fileMustExist: true });
  let counts: { messages: number; events: number };
  try {
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok')
      throw new Error(`the copy failed integrity_check: ${String(integrity)}`);
    counts = copy
      .prepare(
        'select (select count(*) from messages) as messages, (select count(*) from message_events) as events',
      )
      .get() as { messages: number; events: number };
    // A restored file must not depend on a -wal beside it.
    copy.pragma('wal_checkpoint(TRUNCATE)');
  } catch (error) {
    copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
  copy.close();
  rmSync(`${partial}-wal`, { force: true });
  rmSync(`${partial}-shm`, { force: true });
  renameSync(partial, destination);
  return {
    bytes: statSync(destination).size,
    pages,
    ...counts,
    durationMs: Math.round(performance.now() - startedAt),
  };
}
