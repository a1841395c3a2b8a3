import type { Config } from './config.ts';
import { SUBMISSION_TLS_NAMES } from './config-submission.ts';
import { openStorage, storageDescriptorFor } from './db/open-storage.ts';
import { createDeliveryStats } from './delivery/delivery-stats.ts';
import { createDeliveryHandle } from './delivery/delivery-handle.ts';
import { loadVerpKey } from './delivery/verp-key.ts';
import { spawnDeliveryThread, type DeliveryThread } from './delivery/delivery-thread-host.ts';
import { createEventBus } from './delivery/event-bus.ts';
import { createMailBacklog } from './delivery/mail-backlog.ts';
import { createOutbox } from './delivery/outbox.ts';
import { createSmtpSettings, type SmtpSettingsSource } from './delivery/smtp-settings.ts';
import { createSenderDomainChecker } from './delivery/sender-domain-checker.ts';
import { createSmtpVerifier } from './delivery/smtp-verifier.ts';
import { createDnsResolver } from './dns/resolver.ts';
import { useDnsServers } from './dns/thread-dns.ts';
import { createEventMessages } from './graphql/event-messages.ts';
import { createSchema } from './graphql/schema.ts';
import { startHttpServer } from './http/server.ts';
import { startEmbeddedSmtpServer, type EmbeddedSmtpServer } from './smtp/embedded-server.ts';
import { createApiTokens } from './auth/api-tokens.ts';
import { createSendRateLimiter } from './auth/send-rate-limiter.ts';
import { secureStoredSecrets } from './secrets/at-rest.ts';
import { secureWebhookSecrets } from './webhooks/secret.ts';
import { createSecretBox } from './secrets/secret-box.ts';
import { sesReturnPathWarning } from './sender-domain/amazon-ses.ts';
import { destinationPolicy } from './smtp/destination-guard.ts';
import type { MessageEvent } from './domain/message.ts';
import { createLogger, type Logger } from './logger.ts';
import { createProbeRoutes } from './http/probes.ts';
import { createWebhookRoutes } from './http/webhooks.ts';
import { createWebhookHandlers } from './bounces/providers/handlers.ts';
import { startOps } from './ops/start-ops.ts';
import { principalKey } from './auth/principal.ts';
import { createSubmissionIntake } from './delivery/submission-intake.ts';
import { addressProblem } from './delivery/input-rules.ts';
import { startSubmissionServer, type SubmissionServer } from './smtp/submission-server.ts';
import { logSubmissionRefusal } from './smtp/submission-refusal-log.ts';
import { API_ERROR_CODES } from './graphql/errors.ts';
import { watchTlsPair } from './smtp/tls-pair-reload.ts';
import { startBounceListener, type BounceListener } from './bounces/listener.ts';
import { createReportIntake } from './delivery/report-intake.ts';
import { createVerp, type Verp } from './smtp/verp.ts';
import { startWebhookDispatcher } from './webhooks/dispatcher.ts';
import { createWebhookEndpoints } from './webhooks/endpoints.ts';

export interface RunningApp {
  /** e.g. http://127.0.0.1:4000; GraphQL is at `${url}/graphql`. */
  url: string;
  /** The embedded development SMTP server, when it runs. */
  embeddedSmtp: EmbeddedSmtpServer | null;
  /** The SMTP submission listener, when SUBMISSION_PORT is set. */
  submission: { host: string; port: number } | null;
  /** The bounce listener (BOUNCE_SMTP_PORT), when it runs. */
  bounceSmtp: { host: string; port: number } | null;
  /** Where the SMTP configuration in use comes from now; null when there is none. */
  smtpSource(): SmtpSettingsSource | null;
  /**
   * Reads SUBMISSION_TLS_CERT and SUBMISSION_TLS_KEY again now (SIGHUP) instead of at the next
   * poll; true when a renewed pair is in use.
   */
  reloadCertificates(): boolean;
  /** Shuts down in reverse order of start; safe to call twice. */
  close(): Promise<void>;
}

/** RCPT TO per submitted message; more are answered 452 4.5.3 (the client sends them again). */
const MAX_SUBMISSION_RECIPIENTS = 100;

/** The composition root: every part is created here and handed what it needs. */
export async function startApp(
  config: Config,
  {
    log = createLogger({ level: config.logLevel, name: 'main' }),
    trustedCaCertificates = [],
    certificatePolling = {},
  }: {
    log?: Logger;
    /** How the submission certificate's files are polled for renewals (smtp/tls-pair-reload.ts). */
    certificatePolling?: { intervalMs?: number; settleMs?: number };
    /**
     * PEM CA certificates trusted for outgoing HTTPS (SNS signing certificates) besides Node's
     * roots, like NODE_EXTRA_CA_CERTS, which Node reads only when the process starts; tests that
     * run the service in their own process trust their CA with it. @default none
     */
    trustedCaCertificates?: readonly string[];
  } = {},
): Promise<RunningApp> {
  const secrets = createSecretBox(config.security.secretsKeys);
  useDnsServers(config.dnsServers, config.dnsTimeoutMs);
  const dns = createDnsResolver({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs });
  const descriptor = storageDescriptorFor(config.storage);
  // Loads its modules while this thread migrates; started further down. A start-up that fails
  // before then ends it (until started, it keeps no process alive either way).
  const spawnedDelivery = spawnDeliveryThread();
  let storage: Awaited<ReturnType<typeof openStorage>>;
  try {
    storage = await openStorage(descriptor, {
      role: 'main',
      secrets,
      onWaiting: (message) => log.warn(message),
    });
  } catch (error) {
    await spawnedDelivery.terminate();
    throw error;
  }
  let embeddedSmtp: EmbeddedSmtpServer | null = null;
  // The VERP key (verp-key.ts), as base64 for both threads.
  let bounceKey: string | null = null;
  try {
    if (config.bounce.domain !== null) {
      bounceKey = (await loadVerpKey(storage.keys, secrets, Date.now())).toString('base64');
    }
    await secureStoredSecrets(storage.smtpConfigs, secrets, {
      info: (text) => log.info(text),
      warn: (text) => log.warn(text),
    });
    const resealed = await secureWebhookSecrets(storage.webhooks, secrets);
    if (resealed > 0) {
      log.info(`encrypted ${resealed} webhook endpoint secret(s) with SECRETS_KEY`);
    }
    // The embedded server is only for an install that has nothing else: it starts when no
    // configuration is stored and SMTP_CONNECTION_URI is unset.
    const needsEmbedded =
      config.embeddedSmtpPort !== null &&
      config.smtpConnectionUri === null &&
      (await storage.smtpConfigs.latest()) === null;
    embeddedSmtp = needsEmbedded ? await startEmbeddedSmtpServer(config.embeddedSmtpPort!) : null;
  } catch (error) {
    await spawnedDelivery.terminate();
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
    destination: destinationPolicy(config.security),
    onConfigured: (version) => {
      storage.signals.announce({ kind: 'smtp-config', version });
      const active = settings.current();
      const warning = active && sesReturnPathWarning(active, config.bounce.domain);
      if (warning) log.warn({ bounceDomain: config.bounce.domain, version }, warning);
    },
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
  // The delivery thread, as everything created before it is up talks to it.
  const delivery = createDeliveryHandle();
  // Whether this instance's delivery thread has mail waiting: webhooks yield to it.
  const mailBacklog = createMailBacklog();
  // Readiness, metrics and retention.
  const ops = startOps({
    config,
    storage,
    settings,
    log,
    delivery,
    // Read at a scrape, by which time the dispatcher below exists.
    webhooksYielding: () => webhookDispatcher.yielding(),
    // Apollo's own request errors besides ours, and what anything unexpected is answered as.
    apiErrorCodes: [...API_ERROR_CODES, 'BAD_REQUEST', 'INTERNAL_SERVER_ERROR'],
  });
  // Outgoing webhooks: the outbox rows are written with the events (a trigger); the dispatcher
  // is woken by what this instance commits and polls for the rest (retries, other instances).
  const webhookDispatcher = startWebhookDispatcher({
    store: storage.webhooks,
    signals: storage.signals,
    secrets,
    retryBaseMs: config.outgoingWebhooks.retryBaseMs,
    allowPrivateUrls: config.outgoingWebhooks.allowPrivateUrls,
    log,
    onResult: ops.countWebhook,
    mailBacklog,
  });
  const webhooks = createWebhookEndpoints({
    store: storage.webhooks,
    secrets,
    dispatcher: webhookDispatcher,
    signals: storage.signals,
    allowPrivateUrls: config.outgoingWebhooks.allowPrivateUrls,
  });
  // What this instance commits (from either thread) is counted, then published through the feed.
  const committed = (events: readonly MessageEvent[]) => {
    ops.countCommitted(events);
    feed.committed(events);
    webhookDispatcher.wake();
  };
  // The delivery thread boots while the HTTP side starts: /healthz means the database is
  // migrated and the API answers (delivery-handle.ts).
  const deliveryStarting = spawnedDelivery.start(
    {
      storage: descriptor,
      secretsKeys: config.security.secretsKeys,
      environment,
      embedded,
      transports: {
        timeoutMs: config.smtpTimeoutMs,
        maxConnections: config.smtpMaxConnections,
        transcripts: config.deliveryTranscripts,
        // nodemailer resolves with resolvers of its own (the system's): with DNS_SERVERS the
        // socket is opened by the destination guard, whose look-up goes to those servers.
        destination:
          destinationPolicy(config.security) ??
          (config.dnsServers === null ? null : { disallowPrivateIps: false, allowedPorts: null }),
      },
      worker: {
        leaseMs: config.deliveryLeaseMs,
        retryBaseMs: config.deliveryRetryBaseMs,
        retryMaxMs: config.deliveryRetryMaxMs,
        concurrency: config.deliveryConcurrency,
      },
      logLevel: config.logLevel,
      dnsServers: config.dnsServers,
      dnsTimeoutMs: config.dnsTimeoutMs,
      sesConfigurationSet: config.webhooks.sesConfigurationSet,
      bounce:
        config.bounce.domain !== null && bounceKey !== null
          ? { domain: config.bounce.domain, key: bounceKey }
          : null,
    },
    committed,
    { log, onAttempts: ops.observeAttempts, onBacklog: mailBacklog.set },
  );
  const outbox = createOutbox({
    messages: storage.messages,
    publish: committed,
    settings,
    maxAttempts: config.deliveryMaxAttempts,
    wakeWorker: delivery.wake,
    concurrentCommits: storage.concurrentWrites,
  });
  // A configuration stored here or on another instance. The delivery thread is told at once, so
  // that it reads the new one before any wake that follows (its messages are handled in order);
  // then the mail the old one failed is expedited, and this thread reads it too.
  const stopConfigChanges = storage.signals.subscribe((change) => {
    if (change.kind !== 'smtp-config') return;
    delivery.settingsChanged();
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
  const sendRateLimiter = createSendRateLimiter({
    rates: storage.rates,
    perMinute: config.security.sendRateLimitPerMinute,
    totalPerMinute: config.security.sendRateLimitTotalPerMinute,
  });
  // Delivery reports, from the bounce listener and the providers' webhooks alike.
  const intake = createReportIntake({
    reports: storage.reports,
    publish: committed,
    countUnmatched: ops.countUnmatched,
    countSuppression: ops.countSuppression,
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
      bus,
      deliveryStats: createDeliveryStats({ stats: storage.stats, messages: storage.messages }),
      verifier: createSmtpVerifier({
        settings,
        timeoutMs: config.smtpTimeoutMs,
        destination: destinationPolicy(config.security),
      }),
      senderDomain: createSenderDomainChecker({
        settings,
        resolver: dns,
        bounceDomain: config.bounce.domain,
      }),
      apiTokens,
      sendRateLimiter,
      eventMessages,
      webhooks,
    },
    production: config.production,
    allowedOrigins: config.security.allowedOrigins,
    subscriptionCaps: {
      perConnection: config.security.wsMaxOperationsPerConnection,
      perToken: config.security.wsMaxOperationsPerToken,
    },
    countSubscribers: ops.countSubscribers,
    countError: ops.countApiError,
    probes: createProbeRoutes({
      readiness: ops.readiness,
      metrics: ops.metrics,
      metricsToken: config.metricsToken,
    }),
    webhooks: createWebhookRoutes({
      handlers: createWebhookHandlers(config.webhooks, {
        intake,
        tokens: storage.webhookTokens,
        extraCaCertificates: trustedCaCertificates,
      }),
      log,
    }),
    log,
  });

  const verp: Verp | null =
    config.bounce.domain !== null && bounceKey !== null
      ? createVerp(config.bounce.domain, Buffer.from(bounceKey, 'base64'))
      : null;
  let bounces: BounceListener | null = null;
  let submission: SubmissionServer | null = null;
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
    submission =
      config.submission.port === null
        ? null
        : await startSubmissionServer({
            ...config.submission,
            port: config.submission.port,
            maxRecipients: MAX_SUBMISSION_RECIPIENTS,
            async authenticate(password) {
              const principal = await apiTokens.authenticateSecret(password);
              if (principal === null || principal.scope === 'read') return null;
              return {
                name: principal.tokenName ?? '',
                rateKey: principalKey(principal),
                stillValid: () => apiTokens.stillValid(principal),
              };
            },
            recipientProblem: addressProblem,
            accept: createSubmissionIntake({
              outbox,
              senderDomainAllowlist: config.security.senderDomainAllowlist,
              takeSends: (key, count) => sendRateLimiter.take(key, count),
              countSubmitted: ops.countSubmitted,
              log,
            }).accept,
            onError: (error) => log.debug({ err: error }, 'SMTP submission connection failed'),
            onRefusal(refusal) {
              ops.countSubmissionRefusal(refusal.reason);
              logSubmissionRefusal(log, refusal);
            },
          });
    thread = await deliveryStarting;
  } catch (error) {
    await bounces?.close();
    await submission?.close();
    await http.close();
    // When a listener is what failed, the delivery thread may be up: it is stopped too.
    await deliveryStarting.then(
      (started) => started.close(),
      () => undefined,
    );
    await embeddedSmtp?.close();
    await webhookDispatcher.close();
    await feed.close();
    await storage.close();
    throw error;
  }
  delivery.attach(thread);
  const certificates =
    submission !== null && config.submission.tls !== null
      ? watchTlsPair({
          names: SUBMISSION_TLS_NAMES,
          files: config.submission.tls.files,
          inUse: config.submission.tls,
          apply: submission.updateTls,
          log,
          ...certificatePolling,
        })
      : null;

  let closing: Promise<void> | null = null;
  return {
    url: http.url,
    embeddedSmtp,
    submission: submission ? { host: submission.host, port: submission.port } : null,
    bounceSmtp: bounces ? { host: bounces.host, port: bounces.port } : null,
    reloadCertificates: () => certificates?.reloadNow() ?? false,
    smtpSource: () => settings.current()?.source ?? null,
    close() {
      closing ??= (async () => {
        certificates?.close();
        // The worker stops starting SMTP transactions at once (what it has begun gets the grace
        // period), while the listeners below close: a send started later might not end in time.
        const threadClosed = thread.close();
        // Mail stops coming in first; a submission mid-way still stores what it was given (it
        // is sent after the next start).
        await submission?.close();
        await bounces?.close();
        await http.close();
        stopConfigChanges();
        apiTokens.close();
        await ops.close();
        eventMessages.close();
        await threadClosed;
        await webhookDispatcher.close();
        await embeddedSmtp?.close();
        await feed.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
