import type { SecretBox } from '../../secrets/secret-box.ts';
import { createPostgresWebhooks } from './webhooks.ts';
import type { Storage } from '../port.ts';
import { createPostgresApiTokens } from './api-tokens.ts';
import { createClient, migrateDatabase, postgresProblem, waitForDatabase } from './client.ts';
import { createPostgresDispatches } from './dispatches.ts';
import { createPostgresEventLog } from './events.ts';
import { startPostgresFeed } from './feed.ts';
import { createPostgresMessageActions, createPostgresMessageReads } from './messages.ts';
import { startNotifications } from './notifications.ts';
import { createPostgresQueue } from './queue.ts';
import { createPostgresReports } from './reports.ts';
import { createPostgresRates } from './rates.ts';
import { createPostgresRetention } from './retention.ts';
import { startPostgresSignals } from './signals.ts';
import { createPostgresSmtpConfigs } from './smtp-configs.ts';
import { createPostgresStats } from './stats.ts';

export interface PostgresStorageOptions {
  dialect: 'postgres';
  /** postgres://user:password@host:port/database (DATABASE_URL). */
  url: string;
  /** How long an unreachable database is waited for at start. @default 30_000 */
  connectTimeoutMs?: number;
  /** How long one statement may go unanswered (DATABASE_QUERY_TIMEOUT_MS). @default 60_000 */
  queryTimeoutMs?: number;
}

/** How long /readyz waits for the database before calling it not ready. */
const PROBE_TIMEOUT_MS = 1_000;
/** How often counter increments are folded into the counters (stats.ts). */
const FOLD_INTERVAL_MS = 1_000;

/**
 * The PostgreSQL adapter, for any number of instances on one database. `main` migrates (under
 * an advisory lock), follows the log and tells other instances about changes; `delivery` (the
 * delivery thread) only needs the queue and the configurations.
 */
export async function openPostgresStorage(
  options: PostgresStorageOptions,
  open: {
    role: 'main' | 'delivery';
    secrets: SecretBox | null;
    onWaiting?: (message: string) => void;
  },
): Promise<Storage> {
  const main = open.role === 'main';
  if (main) {
    await waitForDatabase(options.url, options.connectTimeoutMs ?? 30_000, open.onWaiting);
    await migrateDatabase(options.url);
  }
  const client = createClient({
    url: options.url,
    max: main ? 8 : 4,
    applicationName: `mailscope-${open.role}`,
    queryTimeoutMs: options.queryTimeoutMs ?? 60_000,
  });
  const notifications = main
    ? startNotifications(options.url, client, options.queryTimeoutMs ?? 60_000)
    : null;
  const signals = notifications ? startPostgresSignals(client, notifications) : null;
  const log = createPostgresEventLog(client);
  const stats = createPostgresStats(client);
  const reports = createPostgresReports(client);

  return {
    dialect: 'postgres',
    // Half the pool: reads and the feed keep connections of their own meanwhile.
    concurrentWrites: 4,
    // Each record-and-claim is a round trip and a commit the server flushes, and several
    // instances split the finished sends between them: 20 ms instead of 5 made three instances
    // faster end to end in seven of eight alternating pairs (median +14 %; one instance +10 %),
    // with less CPU per message in the service and the backends (bench/MACHINES.md).
    recordWindowMs: 20,
    messages: {
      ...createPostgresMessageReads(client),
      ...createPostgresQueue(client),
      ...createPostgresMessageActions(client),
    },
    events: log,
    dispatches: createPostgresDispatches(client),
    smtpConfigs: createPostgresSmtpConfigs(client, open.secrets),
    apiTokens: createPostgresApiTokens(client),
    stats,
    retention: createPostgresRetention(client),
    rates: createPostgresRates(client),
    reports,
    suppressions: reports,
    webhooks: createPostgresWebhooks(client),
    keys: {
      async getOrCreate(name, candidate, nowMs) {
        const { rows } = await client.query<{ value: string }>(
          `WITH inserted AS (
              INSERT INTO service_keys (name, value, created_at) VALUES ($1, $2, $3)
              ON CONFLICT (name) DO NOTHING RETURNING value)
            SELECT value FROM inserted UNION ALL
            SELECT value FROM service_keys WHERE name = $1`,
          [name, candidate, nowMs],
        );
        return rows[0]!.value;
      },
    },
    webhookTokens: {
      async claim(token, eventKey, nowMs, forgetBeforeMs) {
        await client.query('DELETE FROM webhook_tokens WHERE seen_at < $1', [forgetBeforeMs]);
        // One statement: two instances given the same token at once cannot both see it new.
        const { rows } = await client.query<{ event_key: string; inserted: boolean }>(
          `WITH inserted AS (
              INSERT INTO webhook_tokens (token, event_key, seen_at) VALUES ($1, $2, $3)
              ON CONFLICT (token) DO NOTHING RETURNING event_key)
            SELECT event_key, true AS inserted FROM inserted UNION ALL
            SELECT event_key, false AS inserted FROM webhook_tokens WHERE token = $1`,
          [token, eventKey, nowMs],
        );
        const row = rows.find((r) => r.inserted) ?? rows[0];
        if (row?.inserted) return 'new';
        // Inserted by another transaction after this statement's snapshot: read it now.
        const seen =
          row ??
          (
            await client.query<{ event_key: string }>(
              'SELECT event_key FROM webhook_tokens WHERE token = $1',
              [token],
            )
          ).rows[0];
        return seen?.event_key === eventKey ? 'same' : 'reused';
      },
    },
    signals: signals ?? {
      announce() {
        throw new Error('changes are announced from the main role');
      },
      subscribe: () => () => {},
    },
    async writeProblem() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve(`no answer from PostgreSQL within ${PROBE_TIMEOUT_MS} ms`),
          PROBE_TIMEOUT_MS,
        );
      });
      // A standby, or a database whose transactions are read-only (default_transaction_read_only,
      // which managed providers set when storage fills up): every write would be refused.
      const answer = client
        .query<{ standby: boolean; readOnly: string }>(
          `SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS "readOnly"`,
        )
        .then(
          ({ rows }) =>
            rows[0]?.standby
              ? 'PostgreSQL is a read-only standby'
              : rows[0]?.readOnly === 'on'
                ? 'PostgreSQL takes no writes: its transactions are read-only (default_transaction_read_only)'
                : (null as string | null),
          (error: unknown) =>
            postgresProblem(error) === 'unavailable'
              ? 'PostgreSQL cannot be reached'
              : error instanceof Error
                ? error.message
                : String(error),
        );
      try {
        return await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async startFeed(options) {
      if (!notifications) throw new Error('the feed runs in the main role');
      return startPostgresFeed({ ...options, log, notifications });
    },
    startBackgroundJobs(onError) {
      let stopped = false;
      let running: Promise<void> | null = null;
      const timer = setInterval(() => {
        if (running || stopped) return;
        running = (async () => {
          try {
            // Fold until caught up, a batch at a time.
            while (!stopped && (await stats.fold(5_000)) === 5_000);
          } catch (error) {
            onError(error, 'statistics counters');
          } finally {
            running = null;
          }
        })();
      }, FOLD_INTERVAL_MS);
      timer.unref();
      return {
        async close() {
          stopped = true;
          clearInterval(timer);
          await running;
        },
      };
    },
    async close() {
      signals?.close();
      await notifications?.close();
      await client.close();
    },
  };
}
