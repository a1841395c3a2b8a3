import { z } from 'zod';
import { wholeNumber, optionalText } from './config-fields.ts';

// Where the data lives: SQLite (the embedded default) or PostgreSQL (several instances).

export const storageEnvShape = {
  DATABASE_PATH: z.string().min(1).default('./data/mailscope.db'),
  // Never echoed: the URL may hold a password.
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'must be a postgres:// or postgresql:// URL')
      .nullable(),
  ),
  DATABASE_CONNECT_TIMEOUT_MS: wholeNumber(0, 600_000).default(30_000),
  DATABASE_QUERY_TIMEOUT_MS: wholeNumber(1_000, 3_600_000).default(60_000),
  SQLITE_SYNCHRONOUS: z
    .enum(['full', 'normal'], { error: 'must be full or normal' })
    .default('full'),
  SQLITE_BUSY_TIMEOUT_MS: wholeNumber(0, 600_000).default(5_000),
};

type StorageEnv = { [K in keyof typeof storageEnvShape]: z.output<(typeof storageEnvShape)[K]> };

/** The storage options from their variables (already parsed by `storageEnvShape`). */
export function storageConfig(env: StorageEnv) {
  return {
    /** DATABASE_PATH: the SQLite file, used unless `databaseUrl` is set. @default './data/mailscope.db' */
    databasePath: env.DATABASE_PATH,
    /** DATABASE_URL: PostgreSQL (`postgres://…`); several instances may share it. @default null (SQLite) */
    databaseUrl: env.DATABASE_URL,
    /** DATABASE_CONNECT_TIMEOUT_MS: how long an unreachable DATABASE_URL is retried at start. @default 30_000 */
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    /**
     * DATABASE_QUERY_TIMEOUT_MS: how long one PostgreSQL statement may go unanswered before its
     * connection is given up as dead (SERVICE_UNAVAILABLE). Far above any statement the
     * service makes (a retention batch, a statistics read, a message search: well under a
     * second to a few seconds on large tables). @default 60_000
     */
    queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS,
    /** SQLITE_SYNCHRONOUS: `full` survives power loss, `normal` only process crashes. @default 'full' */
    sqliteSynchronous: env.SQLITE_SYNCHRONOUS,
    /** SQLITE_BUSY_TIMEOUT_MS: how long a write waits for another writer before failing. @default 5_000 */
    sqliteBusyTimeoutMs: env.SQLITE_BUSY_TIMEOUT_MS,
  };
}

export type StorageConfig = ReturnType<typeof storageConfig>;
