import { readFileSync } from 'node:fs';
import { withAdmin } from './postgres-database.ts';

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, every thread) a process has used; NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Named groups of processes whose CPU is read together, e.g. `{ service: [pid1, pid2] }`. */
export type ProcessGroups = Record<string, readonly number[]>;
export type CpuReading = Map<number, number>;

export function readCpu(groups: ProcessGroups): CpuReading {
  const reading: CpuReading = new Map();
  for (const pids of Object.values(groups)) {
    for (const pid of pids) reading.set(pid, processCpuSeconds(pid));
  }
  return reading;
}

/**
 * CPU seconds each group used between two readings. A process that appears only in `after`
 * started in between and counts whole; one gone by `after` cannot be read and counts nothing.
 */
export function cpuBetween(
  groups: ProcessGroups,
  before: CpuReading,
  after: CpuReading,
): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    let seconds = 0;
    for (const pid of pids) {
      const end = after.get(pid) ?? Number.NaN;
      if (!Number.isFinite(end)) continue;
      const start = before.get(pid);
      seconds += end - (start !== undefined && Number.isFinite(start) ? start : 0);
    }
    spent[name] = seconds;
  }
  return spent;
}

/**
 * The server processes of one PostgreSQL database (its client backends, where the SQL runs) and
 * the server-wide writers (WAL writer, checkpointer, background writer), which also work for
 * whatever else the shared server is doing. Only meaningful when the server runs on this machine.
 */
export async function postgresPids(
  database: string,
): Promise<{ backends: number[]; writers: number[] }> {
  const { rows } = await withAdmin((client) =>
    client.query<{ pid: number; ours: boolean }>(
      `SELECT pid, datname IS NOT DISTINCT FROM $1 AS ours FROM pg_stat_activity
        WHERE datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
      [database],
    ),
  );
  return {
    backends: rows.filter((row) => row.ours).map((row) => row.pid),
    writers: rows.filter((row) => !row.ours).map((row) => row.pid),
  };
}
