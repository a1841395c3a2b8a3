import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { outcomeKey } from '../db/counters.ts';
import type { MessageReads } from '../db/port.ts';
import { DELIVERY_ERROR_CODES } from '../domain/delivery-error.ts';
import { MESSAGE_STATUSES, type MessageEvent } from '../domain/message.ts';
import type { AttemptReport } from '../delivery/attempt-observer.ts';
import type { ThreadRuntime } from '../delivery/delivery-thread-protocol.ts';
import type { Logger } from '../logger.ts';
import {
  SUBMISSION_REFUSAL_REASONS,
  type SubmissionRefusalReason,
} from '../smtp/submission-server.ts';

/** How long a scrape waits for the database's gauges before leaving them out. */
const STORED_READ_TIMEOUT_MS = 4_000;

export interface MetricsDeps {
  messages: Pick<MessageReads, 'queueSnapshot' | 'countByStatus'>;
  /** SMTP connections open in the delivery thread's pools, as it last reported. */
  smtpConnections: () => number;
  /** The webhook dispatcher yields to backlogged mail now (webhooks/yield-to-mail.ts). */
  webhooksYielding: () => boolean;
  /** The delivery thread's heap and event loop as it last reported them, or null. */
  deliveryThreadRuntime: () => ThreadRuntime | null;
  /** The `extensions.code`s the API answers with, counted from zero. */
  apiErrorCodes: readonly string[];
  /** Where a scrape that could not read the database says so (once per outage). */
  log: Pick<Logger, 'warn' | 'info'>;
  now?: () => number;
}

/** Reasons of the events that end an attempt. */
const ATTEMPT_REASONS = new Set([
  'sent',
  'retry_scheduled',
  'failed_permanently',
  'attempts_exhausted',
]);

let processRegistry: Registry | null = null;

/**
 * The process as a whole (resident memory, CPU, file descriptors) and the main thread's isolate
 * (heap, event loop, GC), under the names Node.js dashboards expect. One registry per process,
 * made with the first app (its CPU and event-loop figures count from then): each set starts a
 * GC observer and an event-loop timer that are never stopped, and a process that runs many apps
 * (the tests) needs them once.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Prometheus metrics, in a registry of their own (not prom-client's global one, so two apps in
 * one process, as in tests, never share or clash). Gauges about stored state are read when
 * scraped, with one grouped count over an index and the queue's own indexed snapshot; counters
 * and the latency histogram follow the events as they are published.
 */
export function createMetrics(deps: MetricsDeps) {
  const now = deps.now ?? Date.now;
  const registry = new Registry();
  const registers = [registry];
  const processWide = processMetrics();
  // The gauges read from the database, in a registry of their own: when the database cannot be
  // read they are left out of the scrape (no stale or made-up value), and everything else is
  // still served, so that the process and the API's errors stay visible during the outage.
  const stored = new Registry();
  const storageUp = new Gauge({
    name: 'mailscope_storage_up',
    help: "1 when this scrape read the database's gauges (mailscope_messages, mailscope_queue_depth, mailscope_oldest_queued_age_seconds); 0 when the read failed and they are left out",
    registers,
  });
  let storageDownSince: number | null = null;

  new Gauge({
    name: 'mailscope_messages',
    help: 'Messages stored, by status',
    labelNames: ['status'],
    registers: [stored],
    async collect() {
      const counts = await deps.messages.countByStatus();
      for (const status of MESSAGE_STATUSES) this.set({ status }, counts[status]);
    },
  });
  const oldestQueuedAge = new Gauge({
    name: 'mailscope_oldest_queued_age_seconds',
    help: 'Age of the oldest QUEUED message; 0 when none is queued',
    registers: [],
  });
  new Gauge({
    name: 'mailscope_queue_depth',
    help: 'Messages QUEUED now (due or waiting for a retry)',
    registers: [stored],
    // One snapshot sets both gauges; the age gauge is registered right after this one.
    async collect() {
      const snapshot = await deps.messages.queueSnapshot();
      this.set(snapshot.queued);
      const oldest = snapshot.oldestQueuedAtMs;
      oldestQueuedAge.set(oldest === null ? 0 : Math.max(0, now() - oldest) / 1_000);
    },
  });
  stored.registerMetric(oldestQueuedAge);

  const readStored = async (): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Bounded well inside a scraper's own time-out (Prometheus: 10 s): a database path that
      // went silent would otherwise hold the scrape for the query time-out, and the target would
      // be marked down instead of reporting mailscope_storage_up 0.
      const text = await Promise.race([
        stored.metrics(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${STORED_READ_TIMEOUT_MS} ms`)),
            STORED_READ_TIMEOUT_MS,
          );
        }),
      ]);
      storageUp.set(1);
      if (storageDownSince !== null) {
        deps.log.info(
          { downForMs: now() - storageDownSince },
          'metrics: the database can be read again; its gauges are back in /metrics',
        );
        storageDownSince = null;
      }
      return text;
    } catch (error) {
      storageUp.set(0);
      if (storageDownSince === null) {
        storageDownSince = now();
        deps.log.warn(
          { err: error },
          'metrics: cannot read the database; /metrics leaves out its gauges (mailscope_storage_up 0) until it can',
        );
      }
      return '';
    } finally {
      clearTimeout(timer);
    }
  };
  const threadRuntime = (read: (runtime: ThreadRuntime) => number) =>
    function (this: Gauge) {
      const runtime = deps.deliveryThreadRuntime();
      if (runtime !== null) this.set(read(runtime));
    };
  new Gauge({
    name: 'mailscope_delivery_thread_heap_used_bytes',
    help: "The delivery thread's V8 heap in use (nodejs_heap_size_used_bytes is the main thread's)",
    registers,
    collect: threadRuntime((runtime) => runtime.heapUsedBytes),
  });
  new Gauge({
    name: 'mailscope_delivery_thread_heap_total_bytes',
    help: "The delivery thread's V8 heap, allocated",
    registers,
    collect: threadRuntime((runtime) => runtime.heapTotalBytes),
  });
  new Gauge({
    name: 'mailscope_delivery_thread_event_loop_delay_max_seconds',
    help: "The longest the delivery thread's event loop was held up in the last second (past a 20 ms timer)",
    registers,
    collect: threadRuntime((runtime) => runtime.eventLoopDelayMaxMs / 1_000),
  });
  new Gauge({
    name: 'mailscope_smtp_pool_connections',
    help: 'SMTP connections open in the delivery pools',
    registers,
    collect() {
      this.set(deps.smtpConnections());
    },
  });
  new Gauge({
    name: 'mailscope_webhooks_yielding_to_mail',
    help: '1 while mail waits to be delivered on this instance and outgoing webhooks run at their floor pace to let it through; 0 otherwise',
    registers,
    collect() {
      this.set(deps.webhooksYielding() ? 1 : 0);
    },
  });
  const subscriptions = new Gauge({
    name: 'mailscope_active_subscriptions',
    help: 'GraphQL subscriptions (messageEvents, queueStats) listening now',
    registers,
  });
  const attempts = new Counter({
    name: 'mailscope_delivery_attempts_total',
    help: 'Delivery attempts since start, by outcome and DeliveryErrorCode ("none" when sent)',
    labelNames: ['outcome', 'error_code'],
    registers,
  });
  const events = new Counter({
    name: 'mailscope_message_events_total',
    help: 'Status changes since start, by new status',
    labelNames: ['status'],
    registers,
  });
  const sendDuration = new Histogram({
    name: 'mailscope_smtp_send_duration_seconds',
    help: 'Duration of each SMTP delivery attempt (the Dispatch durationMs)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });

  // Every known label set starts at zero, so a dashboard's rate() and an alert on "failures > 0"
  // see the series from the first scrape instead of from the first event of its kind.
  for (const status of MESSAGE_STATUSES) events.inc({ status }, 0);
  attempts.inc({ outcome: 'sent', error_code: 'none' }, 0);
  for (const code of DELIVERY_ERROR_CODES) attempts.inc({ outcome: 'failed', error_code: code }, 0);
  for (const outcome of ['sent', 'failed']) sendDuration.zero({ outcome });

  const pruned = new Counter({
    name: 'mailscope_retention_pruned_messages_total',
    help: 'Messages retention deleted since start (with their dispatches and events)',
    registers,
  });

  const reports = new Counter({
    name: 'mailscope_delivery_reports_total',
    help: 'Delivery reports recorded since start, by source and outcome (bounces by type: BOUNCED_HARD, BOUNCED_SOFT, BOUNCED_UNDETERMINED)',
    labelNames: ['source', 'outcome'],
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'mailscope_webhook_deliveries_total',
    help: 'Webhook requests since start, by result (succeeded, failed, timed_out, unreachable, gone)',
    labelNames: ['result'],
    registers,
  });
  const webhookDuration = new Histogram({
    name: 'mailscope_webhook_request_seconds',
    help: 'Duration of webhook requests, by result',
    labelNames: ['result'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers,
  });
  const unmatched = new Counter({
    name: 'mailscope_unmatched_reports_total',
    help: 'Delivery reports since start that matched no message (kept; see the unmatchedReports query), by source',
    labelNames: ['source'],
    registers,
  });
  const suppressionsAdded = new Counter({
    name: 'mailscope_suppressions_added_total',
    help: 'Addresses hard bounces and complaints put on the suppression list since start, by reason',
    labelNames: ['reason'],
    registers,
  });

  const apiErrors = new Counter({
    name: 'mailscope_api_errors_total',
    help: 'Errors the API answered since start (GraphQL over HTTP and WebSocket, and requests refused before GraphQL ran), by extensions.code; INTERNAL_SERVER_ERROR for anything unexpected',
    labelNames: ['code'],
    registers,
  });
  for (const code of deps.apiErrorCodes) apiErrors.inc({ code }, 0);
  const submissionRefusals = new Counter({
    name: 'mailscope_submission_refusals_total',
    help: 'SMTP submission replies that refused something since start, by reason (bad_credentials, sender_not_allowed, too_big, storage_unavailable, …)',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of SUBMISSION_REFUSAL_REASONS) submissionRefusals.inc({ reason }, 0);
  const submitted = new Counter({
    name: 'mailscope_submitted_messages_total',
    help: 'Messages queued from SMTP submission since start (one per recipient)',
    registers,
  });

  function countEvent(event: MessageEvent): void {
    if (event.outcome !== null) {
      // A report: the status did not change.
      reports.inc({ source: event.report?.source ?? 'unknown', outcome: outcomeKey(event) });
      return;
    }
    events.inc({ status: event.status });
    if (!ATTEMPT_REASONS.has(event.reason)) return;
    if (event.error === null) attempts.inc({ outcome: 'sent', error_code: 'none' });
    else attempts.inc({ outcome: 'failed', error_code: event.error.code });
  }

  return {
    /**
     * Counts the events this instance committed (its own, not those its feed hears from other
     * instances: Prometheus sums each instance's counters).
     */
    countCommitted(committed: readonly MessageEvent[]): void {
      for (const event of committed) countEvent(event);
    },

    /** A report that matched no message. */
    countUnmatched(source: string): void {
      unmatched.inc({ source });
    },

    /** One webhook request and how it ended. */
    countWebhook(result: string, durationMs: number): void {
      webhookDeliveries.inc({ result });
      webhookDuration.observe({ result }, durationMs / 1_000);
    },

    /** An address put on the suppression list. */
    countSuppression(reason: string): void {
      suppressionsAdded.inc({ reason });
    },

    /** Feeds the latency histogram from the delivery thread's attempt reports. */
    observeAttempts(reports: readonly AttemptReport[]): void {
      for (const report of reports) {
        sendDuration.observe(
          { outcome: report.errorCode === null ? 'sent' : 'failed' },
          report.durationMs / 1_000,
        );
      }
    },

    /** An error the API answered with, by its code. */
    countApiError(code: string): void {
      apiErrors.inc({ code });
    },

    /** A refusal the SMTP submission listener answered with. */
    countSubmissionRefusal(reason: SubmissionRefusalReason): void {
      submissionRefusals.inc({ reason });
    },

    /** Messages queued from one SMTP submission. */
    countSubmitted(messages: number): void {
      submitted.inc(messages);
    },

    /** A GraphQL subscriber started (+1) or stopped (-1) listening. */
    countSubscribers(change: 1 | -1): void {
      subscriptions.inc(change);
    },

    /** Counts what a retention batch deleted. */
    pruned: (messages: number) => pruned.inc(messages),

    contentType: registry.contentType,
    // The delivery thread's heap and loop are in this registry, the rest of the process in
    // `processWide`.
    render: async () => {
      const fromDatabase = await readStored();
      return (await registry.metrics()) + fromDatabase + (await processWide.metrics());
    },
    close: () => {},
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
