import type { StorageConfig } from '../config-storage.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Storage } from './port.ts';
import type { PostgresStorageOptions } from './postgres/storage.ts';
import type { OpenOptions, SqliteStorageOptions } from './sqlite/storage.ts';

/** Which database and how to reach it; structured-cloneable, so a thread can open its own. */
export type StorageDescriptor = SqliteStorageOptions | PostgresStorageOptions;

export type { OpenOptions };

/** Whether a command's `--database` names a PostgreSQL database (a URL) rather than a SQLite file. */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//.test(target);

/** The storage configuration with a command's `--database` as where the data lives. */
export function withDatabaseTarget(config: StorageConfig, target: string): StorageConfig {
  return isPostgresUrl(target)
    ? { ...config, databaseUrl: target }
    : { ...config, databasePath: target, databaseUrl: null };
}

/**
 * Where the configuration says the data lives. On SQLite the main thread and the delivery
 * thread take turns at the write lock through one shared buffer (sqlite/write-turns.ts).
 */
export function storageDescriptorFor(config: StorageConfig): StorageDescriptor {
  if (config.databaseUrl !== null) {
    return {
      dialect: 'postgres',
      url: config.databaseUrl,
      connectTimeoutMs: config.connectTimeoutMs,
      queryTimeoutMs: config.queryTimeoutMs,
    };
  }
  return {
    dialect: 'sqlite',
    path: config.databasePath,
    synchronous: config.sqliteSynchronous,
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
    writeTurns: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
  };
}

/**
 * Opens the storage `descriptor` names. Each dialect's adapter (and its driver) is loaded only
 * when it is used: an embedded install never loads pg.
 */
export async function openStorage(
  descriptor: StorageDescriptor,
  options: {
    role: OpenOptions['role'];
    secrets: SecretBox | null;
    /** Told once when the database does not answer at first and is waited for (PostgreSQL). */
    onWaiting?: (message: string) => void;
  },
): Promise<Storage> {
  if (descriptor.dialect === 'sqlite') {
    const { openSqliteStorage } = await import('./sqlite/storage.ts');
    return openSqliteStorage(descriptor, options);
  }
  const { openPostgresStorage } = await import('./postgres/storage.ts');
  return openPostgresStorage(descriptor, options);
}
