import type { DeliveryStats, DeliveryStatsReport } from './delivery-stats.ts';
import type { EventBus } from './event-bus.ts';

export interface StatsStreamOptions {
  bus: EventBus;
  stats: DeliveryStats;
  /** Figures cover the trailing window. */
  windowMs: number;
  /** At most one report per interval. */
  intervalMs: number;
  /** Even when nothing happens, report this often so ages stay current. @default 10_000 */
  heartbeatMs?: number;
  now?: () => number;
}

/**
 * Delivery figures for a live dashboard: one report at once, then one per interval in which
 * something changed (plus a heartbeat). Nothing is computed while nobody listens: the timer and
 * the bus listener exist only for the life of the iterator.
 */
export function streamQueueStats(
  options: StatsStreamOptions,
): AsyncIterableIterator<DeliveryStatsReport> {
  const now = options.now ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  let dirty = true;
  let lastReportAt = 0;
  let stopped = false;
  let wake: (() => void) | null = null;

  const unsubscribe = options.bus.subscribe(() => {
    dirty = true;
  });
  const timer = setInterval(() => {
    if (dirty || now() - lastReportAt >= heartbeatMs) wake?.();
  }, options.intervalMs);

  function stop(): void {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
    wake?.();
  }

  const report = (): Promise<DeliveryStatsReport> => {
    dirty = false;
    lastReportAt = now();
    return options.stats.report(lastReportAt - options.windowMs, lastReportAt);
  };

  let first = true;
  return {
    async next(): Promise<IteratorResult<DeliveryStatsReport>> {
      if (stopped) return { done: true, value: undefined };
      if (first) {
        first = false;
        return { done: false, value: await report() };
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
      if (stopped) return { done: true, value: undefined };
      return { done: false, value: await report() };
    },
    async return(): Promise<IteratorResult<DeliveryStatsReport>> {
      stop();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
