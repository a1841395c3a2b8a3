import { fmt, printAligned } from './figures.ts';

/** One line of the final table: a figure, its target, what was measured, and how it compares. */
export interface BenchRow {
  figure: string;
  target: string;
  measured: string;
  /** Measured against target, oriented so that >= 1 means the target is met; NaN if unmeasured. */
  ratio: number;
}

/** A figure that should be at least `target` (throughput and the like). */
export function atLeast(
  figure: string,
  measured: number,
  target: number,
  unit: string,
  digits = 0,
): BenchRow {
  return {
    figure,
    target: `>= ${fmt(target, digits)} ${unit}`,
    measured: `${fmt(measured, digits)} ${unit}`,
    ratio: measured / target,
  };
}

/** A figure that should be at most `target` (latency, memory, time). */
export function atMost(
  figure: string,
  measured: number,
  target: number,
  unit: string,
  digits = 1,
): BenchRow {
  return {
    figure,
    target: `<= ${fmt(target, digits)} ${unit}`,
    measured: `${fmt(measured, digits)} ${unit}`,
    ratio: target / measured,
  };
}

/** A count that should be zero (double sends, lost messages); the ratio falls as it grows. */
export function none(figure: string, count: number, measured: string): BenchRow {
  return { figure, target: '= 0', measured, ratio: 1 / (1 + count) };
}

/**
 * Thrown by a scenario some of whose parts failed after others measured something: run.ts
 * reports the rows it carries and counts the scenario as failed.
 */
export class PartialFailure extends Error {
  readonly rows: BenchRow[];
  constructor(message: string, rows: BenchRow[]) {
    super(message);
    this.rows = rows;
  }
}

/** A figure reported without a target (e.g. the database size). */
export function info(figure: string, measured: string): BenchRow {
  return { figure, target: '-', measured, ratio: Number.NaN };
}

export function printReport(rows: readonly BenchRow[]): void {
  printAligned(
    [
      ['figure', 'target', 'measured', 'ratio', ''],
      ...rows.map((row) => [
        row.figure,
        row.target,
        row.measured,
        Number.isFinite(row.ratio) ? fmt(row.ratio, 2) : '-',
        Number.isFinite(row.ratio) ? (row.ratio >= 1 ? 'met' : 'MISSED') : '',
      ]),
    ],
    2,
  );
}
