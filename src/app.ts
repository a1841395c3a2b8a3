import { loadConfig, type Config, type ConfigResult } from './config.ts';
import { parseSmtpUri } from './smtp/uri.ts';
import { openDatabase } from './db/client.ts';
import { createDispatchRepository } from './db/dispatches.ts';
import { createEventRepository } from './db/events.ts';
import { createMessageRepository } from './db/messages.ts';
import { createSmtpConfigRepository } from './db/smtp-configs.ts';
import { createStatsRepository } from './db/stats.ts';
import { createDeliveryStats } from './delivery/delivery-stats.ts';
import { createOrderedPublisher, startDeliveryThread } from './delivery/delivery-thread-host.ts';
import { createEventBus } from './delivery/event-bus.ts';
import { createOutbox } from './delivery/outbox.ts';
import { createSmtpSettings } from './delivery/smtp-settings.ts';
import { createSmtpVerifier } from './delivery/smtp-verifier.ts';
import { createSchema } from './graphql/schema.ts';
import { startHttpServer } from './http/server.ts';
import { startEmbeddedSmtpServer, type EmbeddedSmtpServer } from './smtp/embedded-server.ts';

export interface RunningApp {
  /** e.g. http://127.0.0.1:4000; GraphQL is at `${url}/graphql`. */
  url: string;
  /** The embedded development SMTP server, when it runs. */
  embeddedSmtp: EmbeddedSmtpServer | null;
  /** Shuts down in reverse order of start; safe to call twice. */
  close(): Promise<void>;
}

/** Reads the configuration from `env`, checking SMTP_CONNECTION_URI with our own parser. */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv): ConfigResult {
  return loadConfig(env, {
    smtpUriProblem(uri) {
      const parsed = parseSmtpUri(uri);
      return parsed.ok ? null : parsed.problem;
    },
  });
}

/** The composition root: every part is created here and handed what it needs. */
export async function startApp(config: Config): Promise<RunningApp> {
  const storage = {
    synchronous: config.sqliteSynchronous,
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
  };
  const database = openDatabase(config.databasePath, storage);
  const configs = createSmtpConfigRepository(database.db);
  const stats = createStatsRepository(database.db);
  const messages = createMessageRepository(database.db, stats);

  // The embedded server is only for an install that has nothing else: it starts when no
  // configuration is stored and SMTP_CONNECTION_URI is unset.
  const needsEmbedded =
    config.embeddedSmtpPort !== null &&
    config.smtpConnectionUri === null &&
    configs.latest() === null;
  const embeddedSmtp = needsEmbedded
    ? await startEmbeddedSmtpServer(config.embeddedSmtpPort!)
    : null;

  const environment = {
    connectionUri: config.smtpConnectionUri,
    fromAddress: config.smtpFromAddress,
    fromName: config.smtpFromName,
  };
  const embedded = embeddedSmtp ? { host: embeddedSmtp.host, port: embeddedSmtp.port } : null;
  const settings = createSmtpSettings({
    configs,
    environment,
    embedded,
    onConfigured: () => {
      // The delivery thread must see the new configuration before it is woken for the
      // messages the old one failed.
      delivery.settingsChanged();
      outbox.configurationChanged();
    },
  });
  const bus = createEventBus();
  const events = createEventRepository(database.db);
  // Events come from two threads; subscribers get them in the log's order.
  const orderedBus = { ...bus, publish: createOrderedPublisher(bus, events) };
  const delivery = await startDeliveryThread(
    {
      databasePath: config.databasePath,
      storage,
      environment,
      embedded,
      transports: {
        timeoutMs: config.smtpTimeoutMs,
        maxConnections: config.smtpMaxConnections,
        transcripts: config.deliveryTranscripts,
      },
      worker: {
        leaseMs: config.deliveryLeaseMs,
        retryBaseMs: config.deliveryRetryBaseMs,
        retryMaxMs: config.deliveryRetryMaxMs,
        concurrency: config.deliveryConcurrency,
      },
    },
    orderedBus.publish,
  );
  const outbox = createOutbox({
    messages,
    bus: orderedBus,
    settings,
    maxAttempts: config.deliveryMaxAttempts,
    wakeWorker: delivery.wake,
  });
  const http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema: createSchema(),
    context: {
      outbox,
      settings,
      messages,
      events,
      dispatches: createDispatchRepository(database.db),
      bus,
      deliveryStats: createDeliveryStats({ stats, messages }),
      verifier: createSmtpVerifier({ settings, timeoutMs: config.smtpTimeoutMs }),
    },
    apiToken: config.apiToken,
    production: config.production,
  });

  let closing: Promise<void> | null = null;
  return {
    url: http.url,
    embeddedSmtp,
    close() {
      closing ??= (async () => {
        await http.close();
        await delivery.close();
        await embeddedSmtp?.close();
        database.close();
      })();
      return closing;
    },
  };
}
