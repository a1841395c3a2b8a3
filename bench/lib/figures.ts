// Small arithmetic and formatting shared by every scenario.

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export const rate = (count: number, ms: number | null) =>
  ms === null || ms <= 0 ? Number.NaN : (count * 1000) / ms;

export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : 'n/a';

export function positiveInt(
  name: string,
  raw: string | undefined,
  fallback: number,
  min = 1,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`bench: ${name} must be a whole number >= ${min}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

/** Prints rows of cells as an aligned table; the first row is the header. */
export function printAligned(table: readonly (readonly string[])[], rightAlignFrom = 1): void {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((line) => line[c]!.length)));
  for (const [index, line] of table.entries()) {
    const cells = line.map((cell, c) =>
      c < rightAlignFrom ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
    );
    console.log(cells.join('  '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Resolves when `condition` holds, or after `timeoutMs` anyway. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 1,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
