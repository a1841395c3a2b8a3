/**
 * The live feed across instances on PostgreSQL (part of `npm run bench -- pg`): three instances
 * on a fresh database, one graphql-ws messageEvents subscriber on the third (a process of its
 * own, bench/lag-subscriber-process.ts), while sendEmail requests go to the first and second in
 * turn at a steady BENCH_LAG_RATE, paced (open loop: each request leaves on schedule, whether or
 * not earlier ones were answered). The lag of a message is when the subscriber received its
 * QUEUED event minus when its sendEmail was acknowledged to the bench, both in the bench's clock
 * (the subscriber's times shifted by the offset measured over IPC, lib/clock.ts); it can be
 * negative, when the event outruns the HTTP response. Also: when each SENT event reached the
 * subscriber, minus when the sink received that Message-ID.
 *
 * Knobs: BENCH_LAG_MESSAGES (5000 measured), BENCH_WARMUP (1000 sent first as fast as they go,
 * 64 in flight to all three, and delivered), BENCH_LAG_WARMUP (1000 then sent at the pace, not
 * measured), BENCH_LAG_RATE (1000 messages/s), BENCH_LAG_MAX_IN_FLIGHT (1000: more requests
 * unanswered than this and the service is not keeping up; the part stops and says so),
 * BENCH_LAG_STATUSES (the subscriber's status filter, e.g. QUEUED,SENT; every event when unset),
 * BENCH_LAG_DUMP=<file> (each measured message's times as CSV, to see when lag builds up).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BENCH_BODY, SEND_EMAIL } from '../lib/bench-mail.ts';
import { onCleanup } from '../lib/cleanup.ts';
import { clockNow, clockOffsetMs } from '../lib/clock.ts';
import { fmt, percentile, positiveInt, waitUntil } from '../lib/figures.ts';
import { createLoadClient, graphql, type GraphQLBody } from '../lib/graphql-client.ts';
import { runConcurrently } from '../lib/load.ts';
import { createBenchDatabase } from '../lib/postgres-database.ts';
import { startInstances, stopInstances } from '../lib/postgres-instances.ts';
import { atMost, info, type BenchRow } from '../lib/report.ts';
import { startTrackingSink } from '../lib/sink.ts';

const env = process.env;
const settings = {
  messages: positiveInt('BENCH_LAG_MESSAGES', env['BENCH_LAG_MESSAGES'], 5_000),
  /** Sent as fast as they go (64 in flight, to all three) before the paced part, as in e2e. */
  jitWarmup: positiveInt('BENCH_WARMUP', env['BENCH_WARMUP'], 1_000, 0),
  warmup: positiveInt('BENCH_LAG_WARMUP', env['BENCH_LAG_WARMUP'], 1_000, 0),
  ratePerSecond: positiveInt('BENCH_LAG_RATE', env['BENCH_LAG_RATE'], 1_000),
  /** The subscriber's status filter (e.g. QUEUED,SENT); every event when unset. */
  statuses: env['BENCH_LAG_STATUSES']
    ? env['BENCH_LAG_STATUSES'].split(',').map((status) => status.trim().toUpperCase())
    : null,
  /** Write each measured message's figures here as CSV, to look at the lag over time. */
  dumpPath: env['BENCH_LAG_DUMP'] || null,
  maxInFlight: positiveInt('BENCH_LAG_MAX_IN_FLIGHT', env['BENCH_LAG_MAX_IN_FLIGHT'], 1_000),
  smtpConnections: positiveInt('BENCH_CONNECTIONS', env['BENCH_CONNECTIONS'], 5),
  /** How long events and deliveries are waited for once the last request was answered. */
  settleMs: 30_000,
};

interface SubscriberReport {
  events: number;
  problem: string | null;
  /** Message id -> QUEUED arrival, in the bench's clock. */
  queued: Map<string, number>;
  /** Message id -> SENT arrival in the bench's clock, and the Message-ID. */
  sent: Map<string, [number, string]>;
}

/** The subscriber process on `url`, connected; its clock offset measured. */
async function startLagSubscriber(url: string) {
  const child = fork(
    fileURLToPath(new URL('../lag-subscriber-process.ts', import.meta.url)),
    [JSON.stringify({ url, statuses: settings.statuses })],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send({ type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the subscriber did not connect to instance 3 within 30 s')),
        30_000,
      );
      void exited.then(() =>
        reject(new Error('the subscriber process exited before it connected')),
      );
      child.on('message', (message: { type: string }) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (error) {
    await close();
    throw error;
  }
  const offset = await clockOffsetMs(child);
  const report = () =>
    new Promise<SubscriberReport>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the subscriber did not report in 10 s')),
        10_000,
      );
      const onMessage = (message: {
        type: string;
        events: number;
        problem: string | null;
        queued: [string, number][];
        sent: [string, number, string][];
      }) => {
        if (message.type !== 'report') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve({
          events: message.events,
          problem: message.problem,
          queued: new Map(message.queued.map(([id, at]) => [id, at - offset])),
          sent: new Map(message.sent.map(([id, at, messageId]) => [id, [at - offset, messageId]])),
        });
      };
      child.on('message', onMessage);
      child.send({ type: 'report' });
    });
  return { offset, report, close };
}

interface Acknowledged {
  id: string;
  /** When the response arrived (bench clock). */
  ackAt: number;
  latencyMs: number;
}

/**
 * Sends `total` sendEmail requests at `ratePerSecond` on schedule, request i to `urls[i % 2]`;
 * resolves when every one is answered. Stops early, saying so, when the service falls
 * `maxInFlight` requests behind: it cannot take that rate on this machine now.
 */
async function sendPaced(urls: readonly string[], total: number) {
  const clients = urls.map((url) => createLoadClient(url, 32));
  const acknowledged: (Acknowledged | undefined)[] = new Array(total);
  const firedAt: number[] = new Array(total);
  let inFlight = 0;
  let maxInFlight = 0;
  let failed = 0;
  let firstError: string | null = null;
  let fellBehind: string | null = null;
  const fire = (i: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const started = clockNow();
    firedAt[i] = started;
    const input = {
      to: `rcpt${i}@example.com`,
      subject: `Bench lag message ${i}`,
      text: BENCH_BODY,
    };
    clients[i % clients.length]!.graphql(SEND_EMAIL, { input }).then(
      (body: GraphQLBody) => {
        const at = clockNow();
        inFlight--;
        const id = body.data?.['sendEmail']?.id as string | undefined;
        if (body.errors || !id) {
          failed++;
          firstError ??= body.errors?.[0]?.message ?? 'no id in the response';
        } else {
          acknowledged[i] = { id, ackAt: at, latencyMs: at - started };
        }
      },
      (error: unknown) => {
        inFlight--;
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      },
    );
  };
  const intervalMs = 1000 / settings.ratePerSecond;
  try {
    await new Promise<void>((resolve) => {
      const t0 = performance.now();
      let next = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
        while (next < due) fire(next++);
        if (inFlight > settings.maxInFlight) {
          fellBehind =
            `the service fell behind ${settings.ratePerSecond} msgs/s: ${inFlight} sendEmail ` +
            `requests unanswered after ${next} sent (BENCH_LAG_MAX_IN_FLIGHT); stopped there`;
          resolve();
        } else if (next >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    if (!(await waitUntil(() => inFlight === 0, settings.settleMs, 5))) {
      throw new Error(
        `${inFlight} sendEmail requests unanswered ${settings.settleMs} ms after the last`,
      );
    }
  } finally {
    for (const client of clients) client.close();
  }
  return { acknowledged, firedAt, maxInFlight, failed, firstError, fellBehind };
}

/** `jitWarmup` sendEmail round-robin over every instance, 64 in flight; how many were stored. */
async function warmUp(urls: readonly string[]): Promise<number> {
  const clients = urls.map((url) => createLoadClient(url, Math.ceil(64 / urls.length)));
  try {
    const load = await runConcurrently(settings.jitWarmup, 64, async (i) => {
      const input = {
        to: `warm${i}@example.com`,
        subject: `Bench lag warm-up ${i}`,
        text: BENCH_BODY,
      };
      const body = await clients[i % clients.length]!.graphql(SEND_EMAIL, { input });
      if (body.errors) throw new Error(body.errors[0]!.message);
    });
    if (load.failed > 0) throw new Error(`warm-up: sendEmail failed: ${load.firstError}`);
    return load.ok;
  } finally {
    for (const client of clients) client.close();
  }
}

export async function runPostgresLag(): Promise<BenchRow[]> {
  const { messages: n, warmup, ratePerSecond } = settings;
  console.log(
    `lag: 3 instances, a messageEvents subscriber on instance 3, ${fmt(warmup + n)} sendEmail at ` +
      `${fmt(ratePerSecond)} msgs/s to instances 1 and 2 in turn (the first ${fmt(warmup)} not ` +
      `measured), ${settings.smtpConnections} SMTP connections per instance; the subscriber ` +
      `takes ${settings.statuses ? settings.statuses.join(', ') + ' events' : 'every event'}`,
  );
  const database = await createBenchDatabase();
  const { sink, close: closeSink, report: sinkReport } = await startTrackingSink();
  let instances: Awaited<ReturnType<typeof startInstances>> = [];
  let subscriber: Awaited<ReturnType<typeof startLagSubscriber>> | null = null;
  try {
    instances = await startInstances({
      databaseUrl: database.url,
      sinkPort: sink.port,
      smtpConnections: settings.smtpConnections,
      count: 3,
    });
    const urls = instances.map((instance) => instance.url);
    subscriber = await startLagSubscriber(urls[2]!);
    console.log(`subscriber clock offset ${fmt(subscriber.offset, 3)} ms`);

    // A message sent through instance 1 whose SENT event the subscriber on instance 3 gets: the
    // subscription is live, and (the feed being in order) it has caught up with what came before.
    const live = subscriber;
    const probe = async (what: string, timeoutMs: number) => {
      const body = await graphql(urls[0]!, SEND_EMAIL, {
        input: { to: 'probe@example.com', subject: `Bench lag probe ${what}`, text: 'probe' },
      });
      const id = body.data?.['sendEmail']?.id as string | undefined;
      if (!id) throw new Error(`sendEmail fails: ${body.errors?.[0]?.message}`);
      const seen = async () => {
        const report = await live.report();
        return settings.statuses && !settings.statuses.includes('SENT')
          ? report.queued.has(id)
          : report.sent.has(id);
      };
      if (!(await waitUntil(seen, timeoutMs, 100))) {
        throw new Error(
          `the subscriber on instance 3 did not see the ${what} probe within ${timeoutMs} ms`,
        );
      }
    };
    await probe('first', 15_000);

    // Cold instances answer the first requests slowly (JIT, pools, prepared statements): warm
    // them up at full speed, as the throughput part does, then let the subscriber catch up.
    const warmed = await warmUp(urls);
    await probe('after warm-up', 120_000);

    const sent = await sendPaced(urls.slice(0, 2), warmup + n);
    const acked = sent.acknowledged.filter((a): a is Acknowledged => a !== undefined);
    const measured = sent.acknowledged.slice(warmup).filter((a): a is Acknowledged => !!a);
    const delivered = await waitUntil(
      () => sink.distinctCount >= 2 + warmed + acked.length,
      settings.settleMs,
      10,
    );
    let events = await subscriber.report();
    const complete = (report: SubscriberReport) =>
      measured.every((a) => report.queued.has(a.id) && report.sent.has(a.id));
    const deadline = performance.now() + settings.settleMs;
    while (!complete(events) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      events = await subscriber.report();
    }
    const arrivals = await sinkReport({ times: true });

    const queuedLags = measured
      .map((a) => (events.queued.get(a.id) ?? Number.POSITIVE_INFINITY) - a.ackAt)
      .sort((x, y) => x - y);
    const missing = measured.filter((a) => !events.queued.has(a.id)).length;
    const sentLags: number[] = [];
    for (const a of measured) {
      const entry = events.sent.get(a.id);
      const atSink = entry && arrivals.times.get(entry[1]);
      sentLags.push(entry && atSink !== undefined ? entry[0] - atSink : Number.POSITIVE_INFINITY);
    }
    sentLags.sort((x, y) => x - y);
    const firstMeasured = sent.firedAt[warmup] ?? Number.NaN;
    if (settings.dumpPath) {
      writeFileSync(
        settings.dumpPath,
        'index,instance,acknowledged_ms,send_latency_ms,queued_lag_ms,sent_after_sink_ms\n' +
          sent.acknowledged
            .flatMap((a, i) => {
              if (!a || i < warmup) return [];
              const entry = events.sent.get(a.id);
              const atSink = entry && arrivals.times.get(entry[1]);
              const cells = [
                i,
                (i % 2) + 1,
                a.ackAt - firstMeasured,
                a.latencyMs,
                (events.queued.get(a.id) ?? Number.NaN) - a.ackAt,
                entry && atSink !== undefined ? entry[0] - atSink : Number.NaN,
              ];
              return [cells.map((v) => (Number.isInteger(v) ? v : v.toFixed(2))).join(',')];
            })
            .join('\n') +
          '\n',
      );
      console.log(`per-message figures written to ${settings.dumpPath}`);
    }
    const latencies = measured.map((a) => a.latencyMs).sort((x, y) => x - y);
    const fired = sent.firedAt.filter((at) => at !== undefined);
    const paceAchieved = ((fired.length - warmup - 1) * 1000) / (fired.at(-1)! - firstMeasured);

    const notes = [
      sent.fellBehind,
      sent.failed > 0 && `${sent.failed} sendEmail failed, first: ${sent.firstError}`,
      !delivered && `the sink has ${sink.distinctCount} of ${2 + warmed + acked.length} messages`,
      missing > 0 && `${missing} of ${measured.length} QUEUED events never reached instance 3`,
      events.problem && `subscriber: ${events.problem}`,
      arrivals.received !== arrivals.distinct &&
        `${arrivals.received - arrivals.distinct} copies at the sink`,
    ].filter((note): note is string => typeof note === 'string');
    const ms = (values: number[], p: number) => fmt(percentile(values, p), 1);
    console.log(
      `paced at ${fmt(paceAchieved)} msgs/s (most in flight ${sent.maxInFlight}); sendEmail ` +
        `p50 ${ms(latencies, 50)} ms, p99 ${ms(latencies, 99)} ms; ${fmt(events.events)} events ` +
        `on instance 3`,
    );
    console.log(
      `QUEUED event on instance 3 after the acknowledgement: p50 ${ms(queuedLags, 50)} ms, ` +
        `p90 ${ms(queuedLags, 90)}, p99 ${ms(queuedLags, 99)}, max ${ms(queuedLags, 100)}, ` +
        `min ${ms(queuedLags, 0)} (${fmt(measured.length)} messages)`,
    );
    console.log(
      `SENT event on instance 3 after the sink's receipt: p50 ${ms(sentLags, 50)} ms, ` +
        `p90 ${ms(sentLags, 90)}, p99 ${ms(sentLags, 99)}, max ${ms(sentLags, 100)}`,
    );
    for (const note of notes) console.log(`  ${note}`);
    // The subscriber leaves first: instances shutting down would close it with 1001.
    await subscriber.close();
    for (const note of await stopInstances(instances)) console.log(`  ${note}`);

    const p99 = percentile(queuedLags, 99);
    const row = atMost(
      `PostgreSQL event lag across instances p99 (QUEUED, ${fmt(ratePerSecond)} msgs/s)`,
      p99,
      100,
      'ms',
      0,
    );
    row.measured =
      `${fmt(p99)} ms (p50 ${ms(queuedLags, 50)}, max ${ms(queuedLags, 100)}; ` +
      `${fmt(measured.length)} msgs at ${fmt(paceAchieved)}/s)`;
    if (notes.length > 0) row.measured += ` [${notes.length} problem(s), see above]`;
    return [
      row,
      info(
        'PostgreSQL SENT event on instance 3 after the sink, p50 / p99',
        `${ms(sentLags, 50)} / ${ms(sentLags, 99)} ms`,
      ),
    ];
  } finally {
    await subscriber?.close();
    await stopInstances(instances);
    await closeSink();
    await database.drop();
  }
}
