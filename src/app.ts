import { loadConfig, type Config, type ConfigResult } from './config.ts';
import { parseSmtpUri } from './smtp/uri.ts';
import { addressProblem } from './delivery/input-rules.ts';
import { openDatabase } from './db/client.ts';
import { createDispatchRepository } from './db/dispatches.ts';
import { createEventRepository } from './db/events.ts';
import { createMessageRepository } from './db/messages.ts';
import { createSmtpConfigRepository } from './db/smtp-configs.ts';
import { createStatsRepository } from './db/stats.ts';
import { createWriteTurns } from './db/write-turns.ts';
import { createDeliveryStats } from './delivery/delivery-stats.ts';
import {
  createOrderedPublisher,
  startDeliveryThread,
  type DeliveryThread,
} from './delivery/delivery-thread-host.ts';
import { createEventBus } from './delivery/event-bus.ts';
import { createOutbox } from './delivery/outbox.ts';
import { createSmtpSettings } from './delivery/smtp-settings.ts';
import { createSmtpVerifier } from './delivery/smtp-verifier.ts';
import { createEventMessages } from './graphql/event-messages.ts';
import { createSchema } from './graphql/schema.ts';
import { startHttpServer } from './http/server.ts';
import { startEmbeddedSmtpServer, type EmbeddedSmtpServer } from './smtp/embedded-server.ts';
import { createApiTokens } from './auth/api-tokens.ts';
import { createSendRateLimiter } from './auth/send-rate-limiter.ts';
import { createApiTokenRepository } from './db/api-tokens.ts';
import { secureStoredSecrets } from './secrets/at-rest.ts';
import { createSecretBox } from './secrets/secret-box.ts';
import { destinationPolicy } from './smtp/destination-guard.ts';
import { createLogger, type Logger } from './logger.ts';
import { startOperations } from './operations.ts';

export interface RunningApp {
  /** e.g. http://127.0.0.1:4000; GraphQL is at `${url}/graphql`. */
  url: string;
  /** The embedded development SMTP server, when it runs. */
  embeddedSmtp: EmbeddedSmtpServer | null;
  /** Shuts down in reverse order of start; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Reads the configuration from `env`, checking SMTP_CONNECTION_URI with our own parser and
 * SMTP_FROM_ADDRESS with the API's own address rules.
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv): ConfigResult {
  return loadConfig(env, {
    smtpUriProblem(uri) {
      const parsed = parseSmtpUri(uri);
      return parsed.ok ? null : parsed.problem;
    },
    addressProblem,
  });
}

/** The composition root: every part is created here and handed what it needs. */
export async function startApp(
  config: Config,
  { log = createLogger({ level: config.logLevel, name: 'main' }) }: { log?: Logger } = {},
): Promise<RunningApp> {
  const storage = {
    synchronous: config.sqliteSynchronous,
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
  };
  const database = openDatabase(config.databasePath, storage);
  const secrets = createSecretBox(config.security.secretsKeys);
  const configs = createSmtpConfigRepository(database.db, secrets);
  try {
    secureStoredSecrets(configs, secrets, {
      info: (text) => log.info(text),
      warn: (text) => log.warn(text),
    });
  } catch (error) {
    database.close();
    throw error;
  }
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
    senderDomainAllowlist: config.security.senderDomainAllowlist,
    onConfigured: () => {
      // The delivery thread must see the new configuration before it is woken for the
      // messages the old one failed.
      deliveryControl.settingsChanged();
      outbox.configurationChanged();
    },
  });
  const bus = createEventBus();
  const events = createEventRepository(database.db);
  // The main thread's hot writers and the delivery thread take turns at SQLite's write lock.
  const writeTurns = createWriteTurns();
  // Readiness, metrics and retention; `operations.bus` counts subscriptions for the metrics.
  const operations = startOperations({
    config,
    db: database.db,
    bus,
    messages,
    settings,
    log,
    delivery: () => delivery,
    writeTurns,
  });
  // Events come from two threads; subscribers get them in the log's order.
  const orderedBus = { ...bus, publish: createOrderedPublisher(bus, events) };
  // The delivery thread boots (a second isolate loading its own modules) while the HTTP side
  // starts: /healthz means the database is migrated and the API answers, and mail accepted
  // meanwhile waits in the queue. A wake or settings change before it is up is passed on then.
  let delivery: DeliveryThread | null = null;
  const pending = { wake: false, settingsChanged: false };
  const deliveryControl = {
    wake: () => (delivery ? delivery.wake() : (pending.wake = true)),
    settingsChanged: () =>
      delivery ? delivery.settingsChanged() : (pending.settingsChanged = true),
  };
  const deliveryStarting = startDeliveryThread(
    {
      databasePath: config.databasePath,
      secretsKeys: config.security.secretsKeys,
      storage,
      environment,
      embedded,
      transports: {
        timeoutMs: config.smtpTimeoutMs,
        maxConnections: config.smtpMaxConnections,
        transcripts: config.deliveryTranscripts,
        destination: destinationPolicy(config.security),
      },
      worker: {
        leaseMs: config.deliveryLeaseMs,
        retryBaseMs: config.deliveryRetryBaseMs,
        retryMaxMs: config.deliveryRetryMaxMs,
        concurrency: config.deliveryConcurrency,
      },
      logLevel: config.logLevel,
      writeTurns: writeTurns.buffer,
    },
    orderedBus.publish,
    { log, onAttempts: operations.observeAttempts },
  );
  const outbox = createOutbox({
    messages,
    bus: orderedBus,
    settings,
    maxAttempts: config.deliveryMaxAttempts,
    wakeWorker: deliveryControl.wake,
    writeTurns,
  });
  const eventMessages = createEventMessages({ find: messages.find, bus });
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
      bus: operations.bus,
      deliveryStats: createDeliveryStats({ stats, messages }),
      verifier: createSmtpVerifier({
        settings,
        timeoutMs: config.smtpTimeoutMs,
        destination: destinationPolicy(config.security),
      }),
      apiTokens: createApiTokens({
        repository: createApiTokenRepository(database.db),
        bootstrapToken: config.apiToken,
        createPerHour: config.security.tokenCreateRateLimitPerHour,
        log,
      }),
      sendRateLimiter: createSendRateLimiter({
        perMinute: config.security.sendRateLimitPerMinute,
        totalPerMinute: config.security.sendRateLimitTotalPerMinute,
      }),
      eventMessages,
    },
    production: config.production,
    allowedOrigins: config.security.allowedOrigins,
    subscriptionCaps: {
      perConnection: config.security.wsMaxOperationsPerConnection,
      perToken: config.security.wsMaxOperationsPerToken,
    },
    probes: operations.routes,
    log,
  });

  let thread: DeliveryThread;
  try {
    thread = await deliveryStarting;
  } catch (error) {
    await http.close();
    await embeddedSmtp?.close();
    database.close();
    throw error;
  }
  delivery = thread;
  if (pending.settingsChanged) thread.settingsChanged();
  if (pending.wake) thread.wake();

  let closing: Promise<void> | null = null;
  return {
    url: http.url,
    embeddedSmtp,
    close() {
      closing ??= (async () => {
        await http.close();
        await operations.close();
        eventMessages.close();
        await thread.close();
        await embeddedSmtp?.close();
        database.close();
      })();
      return closing;
    },
  };
}
