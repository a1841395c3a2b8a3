import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { RetentionStore } from '../db/port.ts';
import type { Logger } from '../logger.ts';

export interface RetentionOptions {
  /** Finished messages older than this are pruned; null keeps every age. */
  retentionDays: number | null;
  /** At most this many messages are kept; null: no cap. */
  maxMessages: number | null;
  intervalMs: number;
  /** Messages per transaction. @default 500 */
  batchSize?: number;
}

export interface RetentionJobDeps {
  retention: RetentionStore;
  options: RetentionOptions;
  log: Logger;
  /** Called after each batch with the messages it pruned (for the metrics). */
  onPruned?: (messages: number) => void;
  now?: () => number;
}

export interface RetentionJob {
  /** Prunes everything due now, batch by batch; resolves with the number of messages pruned. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a run in progress to finish its batch. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * Prunes old finished messages on a timer, in small transactions with a turn of the event loop
 * between them, so that HTTP requests and the delivery thread's commits interleave with it.
 * Does nothing (and starts no timer) when neither RETENTION_DAYS nor RETENTION_MAX_MESSAGES is set.
 */
export function startRetentionJob(deps: RetentionJobDeps): RetentionJob {
  const { retention, options, log } = deps;
  const now = deps.now ?? Date.now;
  const batchSize = options.batchSize ?? 500;
  const enabled = options.retentionDays !== null || options.maxMessages !== null;
  let closed = false;
  let running: Promise<number> | null = null;

  async function prune(): Promise<number> {
    let total = 0;
    const startedAt = now();
    const belowId =
      options.maxMessages === null ? null : await retention.capId(options.maxMessages);
    while (!closed) {
      const at = now();
      const result = await retention.pruneBatch({
        olderThanMs: options.retentionDays === null ? null : at - options.retentionDays * DAY_MS,
        belowId,
        limit: batchSize,
        nowMs: at,
      });
      total += result.messages;
      if (result.messages > 0) deps.onPruned?.(result.messages);
      if (result.messages < batchSize) break;
      await yieldToEventLoop();
    }
    // Reports that matched no message are kept as long as messages are, by age (they count
    // against no message, so RETENTION_MAX_MESSAGES does not reach them).
    const unmatched =
      closed || options.retentionDays === null
        ? 0
        : await retention.pruneUnmatchedReports(now() - options.retentionDays * DAY_MS);
    // Webhook deliveries carry their own copy of the message: kept by age like messages.
    const webhookDeliveries =
      closed || options.retentionDays === null
        ? 0
        : await retention.pruneWebhookDeliveries(now() - options.retentionDays * DAY_MS);
    if (total > 0 || unmatched > 0 || webhookDeliveries > 0) {
      log.info(
        {
          pruned: total,
          unmatchedReports: unmatched,
          webhookDeliveries,
          durationMs: now() - startedAt,
        },
        'retention pruned old messages',
      );
    }
    return total;
  }

  function runOnce(): Promise<number> {
    if (!enabled) return Promise.resolve(0);
    running ??= prune().finally(() => {
      running = null;
    });
    return running;
  }

  const timer = enabled
    ? setInterval(() => {
        runOnce().catch((error: unknown) => log.error({ err: error }, 'retention failed'));
      }, options.intervalMs)
    : null;
  timer?.unref();
  // A first run soon after start, rather than a whole interval later.
  if (enabled) {
    setImmediate(() => {
      runOnce().catch((error: unknown) => log.error({ err: error }, 'retention failed'));
    });
  }

  return {
    runOnce,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
