import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A failure to open the SQLite file, said in terms of the setting that chose it: node's
 * "EEXIST: file already exists, mkdir '/tmp/afile'" does not tell a newcomer that a part of
 * DATABASE_PATH is a file, nor what to do.
 */
export function describeDatabaseFileError(error: unknown, path: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const said = (reason: string) =>
    new Error(`DATABASE_PATH "${path}": ${reason}`, { cause: error });
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR': {
      const file = firstFileAmongParents(path);
      return said(`${file ?? 'a parent'} is a file, not a directory; choose a path in a directory`);
    }
    case 'EISDIR':
      return said('is a directory; name a file inside it, e.g. mailscope.db');
    case 'EACCES':
    case 'EPERM':
      return said(
        `permission denied: the service's user must be able to create and write files in ${dirname(path)}`,
      );
    case 'ENOENT':
      // mkdir of a directory whose parent exists: a file system that takes no new ones (/proc).
      return said(
        `cannot create ${(error as NodeJS.ErrnoException).path ?? dirname(path)} there; choose a path on a writable file system`,
      );
    case 'EROFS':
      return said('the file system is read-only');
    case 'ENOSPC':
      return said('no space left on the device');
    case 'SQLITE_NOTADB':
      return said('is not a SQLite database (or is encrypted); point it at a mailscope database');
    case 'SQLITE_CANTOPEN': {
      // SQLite does not say why; the file system does. A database in WAL mode needs to write
      // beside itself (-wal, -shm) even to be read.
      const why = whyNotWritable(path);
      return said(
        why === 'EROFS'
          ? 'the file system is read-only (the database and its -wal and -shm files must be writable)'
          : why === 'EACCES' || why === 'EPERM'
            ? `permission denied: the service's user must be able to write the file and create files in ${dirname(path)}`
            : 'SQLite cannot open it',
      );
    }
    case 'SQLITE_CORRUPT':
      return said('the database is damaged; restore it from a backup (mailscope backup)');
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Why the database file (or its directory) cannot be written, as an errno code; null if it can. */
export function whyNotWritable(path: string): string | null {
  for (const target of [path, dirname(path)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? null;
      if (code !== 'ENOENT') return code;
    }
  }
  return null;
}

function firstFileAmongParents(path: string): string | null {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (!statSync(dir).isDirectory()) return dir;
    } catch {
      // Not there (yet): look further up.
    }
  }
  return null;
}
