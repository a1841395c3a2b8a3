import { loadConfig, type Config, type ConfigResult } from './config.ts';
import { parseSmtpUri } from './smtp/uri.ts';
import { openStorage, storageDescriptorFor } from './db/open-storage.ts';
import { addressProblem } from './delivery/input-rules.ts';
import { createDeliveryStats } from './delivery/delivery-stats.ts';
import { startDeliveryThread, type DeliveryThread } from './delivery/delivery-thread-host.ts';
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
import { secureStoredSecrets } from './secrets/at-rest.ts';
import { createSecretBox } from './secrets/secret-box.ts';
import { destinationPolicy } from './smtp/destination-guard.ts';
import type { MessageEvent } from './domain/message.ts';
import { createLogger, type Logger } from './logger.ts';
import { startOperations } from './operations.ts';
import { randomBytes } from 'node:crypto';
import { startBounceListener, type BounceListener } from './bounces/listener.ts';
import { createReportIntake } from './delivery/report-intake.ts';
import { createVerp, type Verp } from './smtp/verp.ts';

export interface RunningApp {
  /** e.g. http://127.0.0.1:4000; GraphQL is at `${url}/graphql`. */
  url: string;
  /** The embedded development SMTP server, when it runs. */
  embeddedSmtp: EmbeddedSmtpServer | null;
  /** The bounce listener (BOUNCE_SMTP_PORT), when it runs. */
  bounceSmtp: { host: string; port: number } | null;
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
  const secrets = createSecretBox(config.security.secretsKeys);
  const descriptor = storageDescriptorFor(config.storage);
  const storage = await openStorage(descriptor, { role: 'main', secrets });
  let embeddedSmtp: EmbeddedSmtpServer | null = null;
  // The VERP key is made once and kept in the database: bounces of mail sent before a restart
  // (or by another instance) must still verify.
  let bounceKey: string | null = null;
  try {
    if (config.bounce.domain !== null) {
      bounceKey = await storage.keys.getOrCreate(
        'verp',
        randomBytes(32).toString('base64'),
        Date.now(),
      );
    }
    await secureStoredSecrets(storage.smtpConfigs, secrets, {
      info: (text) => log.info(text),
      warn: (text) => log.warn(text),
    });
    // The embedded server is only for an install that has nothing else: it starts when no
    // configuration is stored and SMTP_CONNECTION_URI is unset.
    const needsEmbedded =
      config.embeddedSmtpPort !== null &&
      config.smtpConnectionUri === null &&
      (await storage.smtpConfigs.latest()) === null;
    embeddedSmtp = needsEmbedded ? await startEmbeddedSmtpServer(config.embeddedSmtpPort!) : null;
  } catch (error) {
    await storage.close();
    throw error;
  }

  const environment = {
    connectionUri: config.smtpConnectionUri,
    fromAddress: config.smtpFromAddress,
    fromName: config.smtpFromName,
  };
  const embedded = embeddedSmtp ? { host: embeddedSmtp.host, port: embeddedSmtp.port } : null;
  const settings = createSmtpSettings({
    configs: storage.smtpConfigs,
    environment,
    embedded,
    senderDomainAllowlist: config.security.senderDomainAllowlist,
    onConfigured: (version) => storage.signals.announce({ kind: 'smtp-config', version }),
  });
  await settings.refresh();
  const bus = createEventBus();
  const eventMessages = createEventMessages({
    find: storage.messages.find,
    findMany: storage.messages.findMany,
    bus,
  });
  // Every committed event, of either thread (and on PostgreSQL of every instance), reaches the
  // bus through the feed, in the log's order; the messages subscribers will resolve are read
  // with each page the feed reads.
  const feed = await storage.startFeed({
    publish: bus.publish,
    beforePublish: (events) => eventMessages.prime(events),
    listening: bus.listening,
  });
  // Readiness, metrics and retention; `operations.bus` counts subscriptions for the metrics.
  const operations = startOperations({
    config,
    storage,
    bus,
    settings,
    log,
    delivery: () => delivery,
  });
  // What this instance commits (from either thread) is counted, then published through the feed.
  const committed = (events: readonly MessageEvent[]) => {
    operations.countCommitted(events);
    feed.committed(events);
  };
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
      storage: descriptor,
      secretsKeys: config.security.secretsKeys,
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
      bounce:
        config.bounce.domain !== null && bounceKey !== null
          ? { domain: config.bounce.domain, key: bounceKey }
          : null,
    },
    committed,
    { log, onAttempts: operations.observeAttempts },
  );
  const outbox = createOutbox({
    messages: storage.messages,
    suppressions: storage.suppressions,
    publish: committed,
    settings,
    maxAttempts: config.deliveryMaxAttempts,
    wakeWorker: deliveryControl.wake,
    concurrentCommits: storage.concurrentWrites,
  });
  // A configuration stored here or on another instance. The delivery thread is told at once, so
  // that it reads the new one before any wake that follows (its messages are handled in order);
  // then the mail the old one failed is expedited, and this thread reads it too.
  const stopConfigChanges = storage.signals.subscribe((change) => {
    if (change.kind !== 'smtp-config') return;
    deliveryControl.settingsChanged();
    outbox
      .configurationChanged()
      .catch((error: unknown) => log.warn({ err: error }, 'could not expedite failed messages'));
    settings
      .refresh()
      .catch((error: unknown) =>
        log.error({ err: error }, 'could not read the new SMTP configuration'),
      );
  });
  const apiTokens = createApiTokens({
    repository: storage.apiTokens,
    signals: storage.signals,
    bootstrapToken: config.apiToken,
    createPerHour: config.security.tokenCreateRateLimitPerHour,
    rates: storage.rates,
    log,
  });
  const http = await startHttpServer({
    host: config.host,
    port: config.port,
    schema: createSchema(),
    context: {
      outbox,
      settings,
      messages: storage.messages,
      events: storage.events,
      dispatches: storage.dispatches,
      reports: storage.reports,
      suppressions: storage.suppressions,
      bus: operations.bus,
      deliveryStats: createDeliveryStats({ stats: storage.stats, messages: storage.messages }),
      verifier: createSmtpVerifier({
        settings,
        timeoutMs: config.smtpTimeoutMs,
        destination: destinationPolicy(config.security),
      }),
      apiTokens,
      sendRateLimiter: createSendRateLimiter({
        rates: storage.rates,
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

  const verp: Verp | null =
    config.bounce.domain !== null && bounceKey !== null
      ? createVerp(config.bounce.domain, Buffer.from(bounceKey, 'base64'))
      : null;
  const intake = createReportIntake({
    reports: storage.reports,
    publish: committed,
    countUnmatched: operations.countUnmatched,
    countSuppression: operations.countSuppression,
  });
  let bounces: BounceListener | null = null;
  let thread: DeliveryThread;
  try {
    if (verp !== null && config.bounce.port !== null) {
      bounces = await startBounceListener({
        host: config.bounce.host,
        port: config.bounce.port,
        maxBytes: config.bounce.maxBytes,
        verp,
        intake,
        log,
      });
    }
    thread = await deliveryStarting;
  } catch (error) {
    await bounces?.close();
    // The listener could not start: the thread that did is stopped too.
    await deliveryStarting.then((started) => started.close()).catch(() => {});
    await http.close();
    await embeddedSmtp?.close();
    await feed.close();
    await storage.close();
    throw error;
  }
  delivery = thread;
  if (pending.settingsChanged) thread.settingsChanged();
  if (pending.wake) thread.wake();

  let closing: Promise<void> | null = null;
  return {
    url: http.url,
    embeddedSmtp,
    bounceSmtp: bounces ? { host: bounces.host, port: bounces.port } : null,
    close() {
      closing ??= (async () => {
        await bounces?.close();
        await http.close();
        stopConfigChanges();
        apiTokens.close();
        await operations.close();
        eventMessages.close();
        await thread.close();
        await embeddedSmtp?.close();
        await feed.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
