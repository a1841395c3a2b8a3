/**
 * Durability cost: SQLite `synchronous=FULL` against `NORMAL`, side by side in one run.
 *
 *   npm run bench:durability                       # both settings, N=2000, 2 rounds interleaved
 *   npm run bench:durability -- 5000               # N from argv (or BENCH_MESSAGES)
 *   SQLITE_SYNCHRONOUS=normal npm run bench:durability   # one setting only
 *
 * Each run is a fresh `node --import tsx src/main.ts` with a fresh SQLite file under BENCH_DIR
 * (default ./data, the service's own default location: fsync costs what the disk makes it
 * cost, and a tmpfs would hide it), delivering to an SMTP sink in this process. It reports
 *  - acknowledged/s: sendEmail responses per second (what FULL makes slower: each group commit
 *    is fsynced before the responses go out) and the p50/p99 sendEmail latency;
 *  - drained/s: messages accepted by the sink per second, from the first request until the last
 *    message is delivered (claims and records are commits too).
 * Knobs: BENCH_MESSAGES (2000), BENCH_ROUNDS (2), BENCH_CONCURRENCY (64 requests in flight),
 * BENCH_DIR (./data). Prints figures; never asserts timing. Not part of `npm test`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestSmtpServer } from '../test/helpers/smtp-server.ts';

const env = process.env;
const count = Number(process.argv[2] ?? env['BENCH_MESSAGES'] ?? 2000);
const rounds = Number(env['BENCH_ROUNDS'] ?? 2);
const parallel = Number(env['BENCH_CONCURRENCY'] ?? 64);
const only = env['SQLITE_SYNCHRONOUS'];
const settingsToRun = only === 'full' || only === 'normal' ? [only] : ['full', 'normal'];
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const baseDir = resolve(env['BENCH_DIR'] ?? join(repoRoot, 'data'));
mkdirSync(baseDir, { recursive: true });

function filesystemOf(path: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });

function post(url: URL, body: string): Promise<string> {
  return new Promise((resolvePost, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolvePost(text));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

interface RunResult {
  setting: string;
  acknowledgedPerS: number;
  drainedPerS: number;
  p50Ms: number;
  p99Ms: number;
}

async function run(setting: string): Promise<RunResult> {
  const sink = await startTestSmtpServer({ keepMessages: false, recordCommands: false });
  const dir = mkdtempSync(join(baseDir, 'bench-durability-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: join(dir, 'bench.db'),
      SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
      EMBEDDED_SMTP_PORT: 'off',
      SQLITE_SYNCHRONOUS: setting,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let base: string | undefined;
    while (!(base = /GraphQL at (http:\/\/[^\s]+)\/graphql/.exec(output)?.[1])) {
      if (child.exitCode !== null) throw new Error(`service exited:\n${output}`);
      await delay(20);
    }
    const url = new URL(`${base}/graphql`);
    const query = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;
    const latencies: number[] = [];
    let next = 0;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < count) {
          const i = next++;
          const sentAt = performance.now();
          const body = JSON.stringify({
            query,
            variables: {
              input: { to: `r${i}@example.com`, subject: `durability ${i}`, text: 'x' },
            },
          });
          const text = await post(url, body);
          if (!text.includes('"sendEmail":{')) throw new Error(`sendEmail failed: ${text}`);
          latencies.push(performance.now() - sentAt);
        }
      }),
    );
    const acknowledgedMs = performance.now() - startedAt;
    while (sink.receivedCount < count) await delay(2);
    const drainedMs = performance.now() - startedAt;
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return {
      setting,
      acknowledgedPerS: Math.round((count / acknowledgedMs) * 1000),
      drainedPerS: Math.round((count / drainedMs) * 1000),
      p50Ms: Math.round(at(0.5) * 10) / 10,
      p99Ms: Math.round(at(0.99) * 10) / 10,
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `durability bench: ${count} messages, ${parallel} sendEmail in flight, ${rounds} round(s), ` +
    `database on ${baseDir} (${filesystemOf(baseDir)})`,
);
const results: RunResult[] = [];
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
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log('medians:');
for (const setting of settingsToRun) {
  const mine = results.filter((r) => r.setting === setting);
  console.log(
    `  synchronous=${setting.padEnd(6)} acknowledged ${median(mine.map((r) => r.acknowledgedPerS))}/s ` +
      `p50 ${median(mine.map((r) => r.p50Ms))} ms p99 ${median(mine.map((r) => r.p99Ms))} ms, ` +
      `drained ${median(mine.map((r) => r.drainedPerS))}/s`,
  );
}
agent.destroy();
