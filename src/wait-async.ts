/**
 * `Atomics.waitAsync`, typed. In Node since 16 (V8 8.7); TypeScript declares it only from lib
 * es2024, which would also admit APIs Node 20 lacks.
 */
export const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;
