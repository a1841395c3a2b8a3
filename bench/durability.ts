/**
 * Durability cost: SQLite `synchronous=FULL` against `NORMAL`, side by side in one run.
 *
 *   npm run bench:durability                       # both settings, N=2000, 2 rounds interleaved
 *   npm run bench:durability -- 5000               # N from argv (or BENCH_MESSAGES)
 *   SQLITE_SYNCHRONOUS=normal npm run bench:durability   # one setting only
 *
 * Each run is a fresh `node --import tsx src/main.ts` with a fresh SQLite file under BENCH_DIR
 * (default ./data, the service's own default location: fsync costs what the disk makes it
 * cost, and a tmpfs would hide it), delivering to an SMTP sink process. It reports
 *  - acknowledged/s: sendEmail responses per second (what FULL makes slower: each group commit
 *    is fsynced before the responses go out) and the p50/p99 sendEmail latency;
 *  - drained/s: messages accepted by the sink per second, from the first request until the last
 *    message is delivered (claims and records are commits too).
 * Knobs: BENCH_MESSAGES (2000), BENCH_ROUNDS (2), BENCH_CONCURRENCY (64 requests in flight),
 * BENCH_DIR (./data). Prints figures; never asserts timing. Not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanupAll } from './lib/cleanup.ts';
import { median, percentile, positiveInt, waitUntil } from './lib/figures.ts';
import { graphql } from './lib/graphql-client.ts';
import { runConcurrently } from './lib/load.ts';
import { repoRoot, startServiceProcess } from './lib/service-process.ts';
import { startSink } from './lib/sink.ts';

const env = process.env;
const count = positiveInt('BENCH_MESSAGES', process.argv[2] ?? env['BENCH_MESSAGES'], 2000);
const rounds = positiveInt('BENCH_ROUNDS', env['BENCH_ROUNDS'], 2);
const parallel = positiveInt('BENCH_CONCURRENCY', env['BENCH_CONCURRENCY'], 64);
const only = env['SQLITE_SYNCHRONOUS'];
const settingsToRun = only === 'full' || only === 'normal' ? [only] : ['full', 'normal'];
const baseDir = resolve(env['BENCH_DIR'] ?? join(repoRoot, 'data'));
mkdirSync(baseDir, { recursive: true });

function filesystemOf(path: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface RunResult {
  setting: string;
  acknowledgedPerS: number;
  drainedPerS: number;
  p50Ms: number;
  p99Ms: number;
}

const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

async function run(setting: string): Promise<RunResult> {
  const { sink, close } = await startSink();
  const dir = mkdtempSync(join(baseDir, 'bench-durability-'));
  const service = await startServiceProcess({
    databasePath: join(dir, 'bench.db'),
    env: {
      SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
      SQLITE_SYNCHRONOUS: setting,
    },
  });
  try {
    const before = sink.receivedCount;
    const startedAt = performance.now();
    const load = await runConcurrently(count, parallel, async (i) => {
      const input = { to: `r${i}@example.com`, subject: `durability ${i}`, text: 'x' };
      const body = await graphql(service.url, SEND, { input });
      if (body.errors) throw new Error(`sendEmail failed: ${body.errors[0]!.message}`);
    });
    if (load.failed > 0) throw new Error(load.firstError ?? 'sendEmail failed');
    const acknowledgedMs = performance.now() - startedAt;
    await waitUntil(() => sink.receivedCount - before >= count, 120_000);
    const drainedMs = performance.now() - startedAt;
    return {
      setting,
      acknowledgedPerS: Math.round((count / acknowledgedMs) * 1000),
      drainedPerS: Math.round((count / drainedMs) * 1000),
      p50Ms: Math.round(percentile(load.latencies, 50) * 10) / 10,
      p99Ms: Math.round(percentile(load.latencies, 99) * 10) / 10,
    };
  } finally {
    await service.stop();
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `durability bench: ${count} messages, ${parallel} sendEmail in flight, ${rounds} round(s), ` +
    `database on ${baseDir} (${filesystemOf(baseDir)})`,
);
const results: RunResult[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const setting of settingsToRun) {
      const result = await run(setting);
      results.push(result);
      console.log(
        `  round ${round} synchronous=${setting.padEnd(6)} acknowledged ${result.acknowledgedPerS}/s ` +
          `(p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms), drained ${result.drainedPerS}/s`,
      );
    }
  }
  console.log('medians:');
  for (const setting of settingsToRun) {
    const mine = results.filter((r) => r.setting === setting);
    console.log(
      `  synchronous=${setting.padEnd(6)} acknowledged ${median(mine.map((r) => r.acknowledgedPerS))}/s ` +
        `p50 ${median(mine.map((r) => r.p50Ms))} ms p99 ${median(mine.map((r) => r.p99Ms))} ms, ` +
        `drained ${median(mine.map((r) => r.drainedPerS))}/s`,
    );
  }
} finally {
  await cleanupAll();
}
process.exit(0);
