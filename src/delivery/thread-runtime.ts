import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { ThreadRuntime } from './delivery-thread-protocol.ts';

/**
 * Samples the calling thread's V8 heap and event-loop delay. prom-client's default metrics see
 * only the main thread's isolate and loop; a leak or a stall in the delivery thread would hide
 * behind them, so the thread reports its own with each heartbeat.
 */
export function createThreadRuntimeSampler() {
  // A 20 ms timer: a delay shorter than that is not worth an operator's look, and a coarser
  // timer costs the thread less.
  const resolutionMs = 20;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  return {
    /** The heap now, and the longest delay since the previous sample. */
    sample(): ThreadRuntime {
      const heap = getHeapStatistics();
      // The histogram holds nanoseconds between the timer's runs (nothing until its first), so an
      // idle loop reads the resolution itself: the delay is what lies beyond it.
      const beyondMs = delay.count === 0 ? 0 : Math.max(0, delay.max / 1e6 - resolutionMs);
      delay.reset();
      return {
        heapUsedBytes: heap.used_heap_size,
        heapTotalBytes: heap.total_heap_size,
        eventLoopDelayMaxMs: Math.round(beyondMs * 1_000) / 1_000,
      };
    },
    close: () => delay.disable(),
  };
}
