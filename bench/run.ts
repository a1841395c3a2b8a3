/**
 * `npm run bench` runs every scenario and prints one table: figure, target, measured, ratio
 * (oriented so that >= 1 means the target is met). Each scenario measures its baseline in the
 * same run. It never asserts: the exit status is 1 only when a scenario failed to run.
 *
 *   npm run bench                       # every scenario
 *   npm run bench -- e2e accept         # some of them: e2e, accept, history, fanout, pg, latency, submit, webhooks, backlog
 *
 * See bench/README.md for the method and each scenario's knobs.
 */
import os from 'node:os';
import { cleanupAll, wasInterrupted } from './lib/cleanup.ts';
import { PartialFailure, printReport, type BenchRow } from './lib/report.ts';
import { runAccept } from './scenarios/accept.ts';
import { runBacklog } from './scenarios/backlog.ts';
import { runEndToEnd } from './scenarios/end-to-end.ts';
import { runFanOut } from './scenarios/fan-out.ts';
import { runHistory } from './scenarios/history.ts';
import { runLatency } from './scenarios/latency.ts';
import { runPostgres } from './scenarios/postgres.ts';
import { runSubmission } from './scenarios/submission.ts';
import { runWebhooks } from './scenarios/webhooks.ts';

const SCENARIOS: Record<string, () => Promise<BenchRow[]>> = {
  e2e: runEndToEnd,
  accept: runAccept,
  history: runHistory,
  fanout: runFanOut,
  pg: runPostgres,
  latency: runLatency,
  submit: runSubmission,
  webhooks: runWebhooks,
  backlog: runBacklog,
};

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(SCENARIOS).join(', ')}`,
    );
    return 2;
  }
  const names = requested.length > 0 ? requested : Object.keys(SCENARIOS);
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${os.platform()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const rows: BenchRow[] = [];
  let failures = 0;
  for (const name of names) {
    console.log(`\n=== ${name} ===`);
    const started = performance.now();
    try {
      rows.push(...(await SCENARIOS[name]!()));
    } catch (error) {
      if (wasInterrupted()) throw error;
      failures++;
      console.error(`bench: ${name} failed:`, error instanceof Error ? error.message : error);
      rows.push(
        ...(error instanceof PartialFailure
          ? error.rows
          : [{ figure: `${name}: failed to run`, target: '-', measured: '-', ratio: Number.NaN }]),
      );
    }
    console.log(`(${name} took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  console.log('\n=== summary ===');
  printReport(rows);
  return failures > 0 ? 1 : 0;
}

let status = 1;
try {
  status = await main();
} catch (error) {
  if (!wasInterrupted()) {
    console.error('bench failed:', error instanceof Error ? error.message : error);
  }
} finally {
  await cleanupAll();
}
process.exit(wasInterrupted() ? 130 : status);
