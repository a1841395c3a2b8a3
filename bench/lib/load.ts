import { performance } from 'node:perf_hooks';

export interface LoadResult {
  ok: number;
  failed: number;
  firstError: string | null;
  /** Each call's latency, ms, sorted. */
  latencies: number[];
  wallMs: number;
}

/** Calls `task(i)` for i in [0, count) with `concurrency` calls in flight; times each call. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  let next = 0;
  async function lane() {
    for (let i = next++; i < count; i = next++) {
      const started = performance.now();
      try {
        await task(i);
        ok++;
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      latencies.push(performance.now() - started);
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return {
    ok,
    failed,
    firstError,
    latencies: latencies.sort((a, b) => a - b),
    wallMs: performance.now() - t0,
  };
}
