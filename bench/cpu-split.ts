/**
 * Where each end-to-end message's CPU goes: `npm run bench:cpu`. Runs raw pooled nodemailer and
 * then the service (sendEmail over HTTP through the lean client, 64 in flight, 5 SMTP
 * connections, each to a fresh sink process), and reads `/proc/<pid>/task/<tid>/stat` before
 * and after the timed part of each: CPU per message of the raw client, the service's threads
 * (its main thread, its delivery thread, and the V8 and libuv helpers), the sink and this
 * process (the bench's HTTP client). Linux only. It prints figures and never asserts.
 *
 * Knobs (environment): BENCH_MESSAGES (20000: enough for start-up JIT compiling to weigh
 * little), BENCH_ROUNDS (1), BENCH_CONCURRENCY (64 sendEmail requests in flight),
 * BENCH_CPU_PROF=<dir> (the service under --cpu-prof).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { BENCH_BODY, SEND_EMAIL } from './lib/bench-mail.ts';
import { cleanupAll } from './lib/cleanup.ts';
import { positiveInt } from './lib/figures.ts';
import { createLeanHttpClient } from './lib/lean-http-client.ts';
import { runConcurrently } from './lib/load.ts';
import { runRawSender } from './lib/raw-sender.ts';
import { FROM, startServiceProcess } from './lib/service-process.ts';
import { startSink } from './lib/sink.ts';

const n = positiveInt('BENCH_MESSAGES', process.env['BENCH_MESSAGES'], 20_000);
const rounds = positiveInt('BENCH_ROUNDS', process.env['BENCH_ROUNDS'], 1);
const WARMUP = 1_000;
const CONNECTIONS = 5;
const IN_FLIGHT = positiveInt('BENCH_CONCURRENCY', process.env['BENCH_CONCURRENCY'], 64);
const CLOCK_TICKS_PER_SECOND = 100;
/** CPU seconds (user + system) of a process, or of one of its threads. */
function cpuSeconds(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function threadSeconds(pid: number): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    seconds.set(Number(tid), cpuSeconds(pid, Number(tid)));
  }
  return seconds;
}

function ownSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

const perMessage = (seconds: number) => `${Math.round((seconds / n) * 1e6)} µs`;

/** Returns messages per second. */
async function measureRaw(): Promise<number> {
  const { sink, close, pid: sinkPid } = await startSink();
  let clientBefore = 0;
  let sinkBefore = 0;
  let client = 0;
  let sinkCpu = 0;
  try {
    const job = {
      host: sink.host,
      port: sink.port,
      n,
      warmup: WARMUP,
      connections: CONNECTIONS,
      from: FROM,
      body: BENCH_BODY,
    };
    const { ms } = await runRawSender(sink, job, {
      atGo: (pid) => {
        clientBefore = cpuSeconds(pid);
        sinkBefore = cpuSeconds(sinkPid);
      },
      // Read as the sender reports: it exits right after.
      atDone: (pid) => {
        client = cpuSeconds(pid) - clientBefore;
        sinkCpu = cpuSeconds(sinkPid) - sinkBefore;
      },
    });
    console.log(`raw nodemailer: ${Math.round((n / ms) * 1000)} msgs/s`);
    console.log(`  client process   ${perMessage(client)}`);
    console.log(`  sink process     ${perMessage(sinkCpu)}`);
    console.log(`  total            ${perMessage(client + sinkCpu)}`);
    return (n / ms) * 1000;
  } finally {
    await close();
  }
}

/** Returns messages per second, end to end. */
async function measureService(): Promise<number> {
  const { sink, close, pid: sinkPid } = await startSink();
  const service = await startServiceProcess({
    env: {
      SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true`,
      SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
    },
    cpuProfDir: process.env['BENCH_CPU_PROF'] || null,
  });
  const client = createLeanHttpClient(service.url, IN_FLIGHT);
  const send = async (i: number) => {
    const input = { to: `rcpt${i}@example.com`, subject: `Bench message ${i}`, text: BENCH_BODY };
    const response = await client.post(
      '/graphql',
      JSON.stringify({ query: SEND_EMAIL, variables: { input } }),
    );
    const body = JSON.parse(response.text) as { errors?: { message: string }[] };
    if (body.errors) throw new Error(body.errors[0]!.message);
  };
  try {
    await runConcurrently(WARMUP, IN_FLIGHT, send);
    while (sink.receivedCount < WARMUP) await delay(5);
    // Let the warm-up's last records commit before the counters are read.
    await delay(300);
    const threadsBefore = threadSeconds(service.pid);
    const sinkBefore = cpuSeconds(sinkPid);
    const clientBefore = ownSeconds();
    const t0 = performance.now();
    await runConcurrently(n, IN_FLIGHT, send);
    const enqueueMs = performance.now() - t0;
    while (sink.receivedCount < WARMUP + n) await delay(2);
    const ms = performance.now() - t0;
    const threadsAfter = threadSeconds(service.pid);
    const sinkCpu = cpuSeconds(sinkPid) - sinkBefore;
    const clientCpu = ownSeconds() - clientBefore;

    const used = [...threadsAfter].map(([tid, after]) => ({
      tid,
      seconds: after - (threadsBefore.get(tid) ?? 0),
    }));
    const main = used.find(({ tid }) => tid === service.pid)?.seconds ?? 0;
    // The delivery thread is the busiest thread besides the main one; the rest are helpers.
    const others = used
      .filter(({ tid }) => tid !== service.pid)
      .sort((a, b) => b.seconds - a.seconds);
    const deliveryThread = others[0]?.seconds ?? 0;
    const helpers = others.slice(1).reduce((sum, { seconds }) => sum + seconds, 0);
    const serviceCpu = main + deliveryThread + helpers;
    console.log(
      `service: ${Math.round((n / ms) * 1000)} msgs/s end to end ` +
        `(sendEmail acknowledged at ${Math.round((n / enqueueMs) * 1000)}/s)`,
    );
    console.log(`  main thread      ${perMessage(main)}`);
    console.log(`  delivery thread  ${perMessage(deliveryThread)}`);
    console.log(`  other threads    ${perMessage(helpers)} (V8 compiler and GC, libuv)`);
    console.log(`  sink process     ${perMessage(sinkCpu)}`);
    console.log(`  bench client     ${perMessage(clientCpu)}`);
    console.log(`  total            ${perMessage(serviceCpu + sinkCpu + clientCpu)}`);
    return (n / ms) * 1000;
  } finally {
    client.close();
    await service.stop();
    await close();
  }
}

try {
  console.log(`CPU per message, N=${n}, warm-up ${WARMUP}, ${CONNECTIONS} SMTP connections`);
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`\nround ${round}/${rounds}`);
    const raw = await measureRaw();
    const service = await measureService();
    console.log(`service / raw: ${(service / raw).toFixed(2)}`);
  }
} finally {
  await cleanupAll();
}
