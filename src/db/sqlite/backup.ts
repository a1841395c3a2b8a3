import { realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { preparePrivateDatabaseFile } from './file-modes.ts';
import { describeDatabaseFileError, whyNotWritable } from './file-errors.ts';

export interface BackupResult {
  bytes: number;
  pages: number;
  messages: number;
  events: number;
  durationMs: number;
}

/**
 * Why `destination` must not be written by a backup of `source`, or null when it may. A backup
 * renames its copy over the destination: over the live database file (by the same path, a
 * symlink, a hard link or another spelling of it) the running service would go on writing to
 * the old, deleted inode and every write after it would be lost; over its -wal or -shm it would
 * corrupt it. Files are compared by device and inode; names that do not exist yet by their
 * resolved path.
 */
export function backupDestinationClash(source: string, destination: string): string | null {
  const live = fileIdentity(source);
  const sourceNames = [source, ...(live ? [live.path] : [])];
  const guarded = sourceNames.flatMap((name) => [
    { path: name, what: 'the database itself' },
    { path: `${name}-wal`, what: "the database's -wal file" },
    { path: `${name}-shm`, what: "the database's -shm file" },
    { path: `${name}-journal`, what: "the database's -journal file" },
  ]);
  // The copy is written at `<destination>.partial` first, and that name is removed beforehand.
  for (const target of [destination, `${destination}.partial`]) {
    const written = fileIdentity(target);
    for (const file of guarded) {
      const existing = fileIdentity(file.path);
      const same =
        existing !== null && written !== null
          ? existing.dev === written.dev && existing.ino === written.ino
          : resolvedName(file.path) === resolvedName(target);
      if (same) return `${target} is ${file.what} (${source}): a backup must go to another file`;
    }
  }
  return null;
}

function fileIdentity(path: string): { dev: number; ino: number; path: string } | null {
  try {
    const { dev, ino } = statSync(path);
    return { dev, ino, path: realpathSync(path) };
  } catch {
    return null;
  }
}

/** The absolute path with the directory's symlinks resolved, for a name that may not exist. */
function resolvedName(path: string): string {
  const absolute = resolve(path);
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
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
  const clash = backupDestinationClash(source, destination);
  if (clash !== null) throw new Error(clash);
  const startedAt = performance.now();
  const partial = `${destination}.partial`;
  try {
    return await copyThroughPartial(source, partial, destination, startedAt);
  } catch (error) {
    // A failed backup leaves nothing behind, not even a half-written copy.
    for (const file of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true });
    throw error;
  }
}

async function copyThroughPartial(
  source: string,
  partial: string,
  destination: string,
  startedAt: number,
): Promise<BackupResult> {
  rmSync(partial, { force: true });
  // The copy holds what the database holds: 0600 from the first byte, in a 0700 directory when
  // the backup creates it.
  preparePrivateDatabaseFile(partial);
  let pages = 0;
  try {
    const live = new Database(source, { fileMustExist: true, timeout: 5_000 });
    try {
      const progress = await live.backup(partial, { progress: () => 0x7fff_ffff });
      pages = progress.totalPages;
    } finally {
      live.close();
    }
  } catch (error) {
    // The source is opened (for WAL, -shm and -wal beside it) when the backup starts: when it
    // cannot be written there, say so in DATABASE_PATH's terms (a read-only mount, permissions)
    // rather than SQLite's "unable to open database file".
    const code = (error as { code?: unknown } | null)?.code;
    throw code === 'SQLITE_CANTOPEN' && whyNotWritable(source) !== null
      ? describeDatabaseFileError(error, source)
      : error;
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
