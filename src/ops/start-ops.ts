import type { Config } from '../config.ts';
import type { Storage } from '../db/port.ts';
import type { AttemptReport } from '../delivery/attempt-observer.ts';
import type { DeliveryHandle } from '../delivery/delivery-handle.ts';
import type { MessageEvent } from '../domain/message.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createReadiness, type Readiness } from './readiness.ts';
import { startRetentionJob } from './retention-job.ts';
import type { SmtpSettings } from '../delivery/smtp-settings.ts';
import type { Logger } from '../logger.ts';
import type { SubmissionRefusalReason } from '../smtp/submission-server.ts';
import { redactUriPassword } from '../smtp/uri.ts';
import { sesReturnPathWarning } from '../sender-domain/amazon-ses.ts';

export interface OpsDeps {
  config: Config;
  storage: Storage;
  settings: SmtpSettings;
  log: Logger;
  /** The delivery thread, which starts after this (its health is null until it is up). */
  delivery: Pick<DeliveryHandle, 'health'>;
  /** Outgoing webhooks run at their floor pace while mail is backlogged. */
  webhooksYielding: () => boolean;
  /** The `extensions.code`s the API answers with (graphql/errors.ts), counted from zero. */
  apiErrorCodes: readonly string[];
}

export interface Ops {
  /** What /readyz answers. */
  readiness: Readiness;
  /** What /metrics renders. */
  metrics: Metrics;
  /** A GraphQL subscriber started (+1) or stopped (-1) listening. */
  countSubscribers(change: 1 | -1): void;
  /** Where the delivery thread's attempt reports go. */
  observeAttempts(reports: AttemptReport[]): void;
  /** Events this instance committed, for the counters. */
  countCommitted(events: readonly MessageEvent[]): void;
  /** A delivery report that matched no message, by source. */
  countUnmatched(source: string): void;
  /** An address put on the suppression list, by reason. */
  countSuppression(reason: string): void;
  /** A webhook request, by result. */
  countWebhook(result: string, durationMs: number): void;
  /** An error the API answered with, by its code. */
  countApiError(code: string): void;
  /** A refusal the SMTP submission listener answered with, by reason. */
  countSubmissionRefusal(reason: SubmissionRefusalReason): void;
  /** Messages queued from one SMTP submission. */
  countSubmitted(messages: number): void;
  close(): Promise<void>;
}

/**
 * What an operator runs the service with: readiness, Prometheus metrics, retention, and the
 * storage's own background work (its indexes and counters).
 */
export function startOps(deps: OpsDeps): Ops {
  const { config, storage } = deps;
  const smtp = deps.settings.current();
  // URIs reach the log only through redactUriPassword (the view is redacted already; this
  // keeps it so if that ever changes).
  if (smtp === null) {
    // The worker still claims what is due and fails each attempt with CONFIG (attempts count,
    // and a message can end ABANDONED): say so, rather than that mail waits.
    deps.log.warn(
      { smtp: null },
      'no SMTP configuration: each delivery attempt fails with CONFIG until one is stored (configureSmtp) or set (SMTP_CONNECTION_URI)',
    );
  } else {
    deps.log.info(
      { smtp: { source: smtp.source, uri: redactUriPassword(smtp.connectionUri) } },
      'SMTP configuration in use',
    );
    const warning = sesReturnPathWarning(smtp, config.bounce.domain);
    if (warning) deps.log.warn({ bounceDomain: config.bounce.domain }, warning);
  }
  const metrics = createMetrics({
    messages: storage.messages,
    smtpConnections: () => deps.delivery.health()?.smtpConnections ?? 0,
    deliveryThreadRuntime: () => deps.delivery.health()?.runtime ?? null,
    webhooksYielding: deps.webhooksYielding,
    apiErrorCodes: deps.apiErrorCodes,
    log: deps.log,
  });
  const readiness = createReadiness({
    databaseProblem: () => storage.writeProblem(),
    deliveryHealth: () => deps.delivery.health(),
    smtpSource: () => deps.settings.current()?.source ?? null,
    privateDestinationsRefused: config.security.smtpDisallowPrivateIps,
    // A cycle waits for at most a full batch of sends, each bounded by a few SMTP timeouts.
    cycleStaleAfterMs: Math.max(10_000, 3 * config.smtpTimeoutMs),
  });
  const retention = startRetentionJob({
    retention: storage.retention,
    options: {
      retentionDays: config.retentionDays,
      maxMessages: config.retentionMaxMessages,
      intervalMs: config.retentionIntervalMs,
    },
    log: deps.log,
    onPruned: metrics.pruned,
  });
  const background = storage.startBackgroundJobs((error, job) =>
    deps.log.warn({ err: error, job }, `${job} failed; will retry`),
  );
  return {
    readiness,
    metrics,
    countSubscribers: metrics.countSubscribers,
    observeAttempts: metrics.observeAttempts,
    countCommitted: metrics.countCommitted,
    countUnmatched: metrics.countUnmatched,
    countSuppression: metrics.countSuppression,
    countWebhook: metrics.countWebhook,
    countApiError: metrics.countApiError,
    countSubmissionRefusal: metrics.countSubmissionRefusal,
    countSubmitted: metrics.countSubmitted,
    async close() {
      await background.close();
      await retention.close();
      metrics.close();
    },
  };
}
