/**
 * Live fan-out: graphql-ws subscribers of messageEvents (in child processes of their own) while
 * the service sends. Latency is from an event's `at` (when the status changed) to the moment
 * the last subscriber that should get it has it.
 *
 * 1. BENCH_SUBSCRIBERS (1,000) unfiltered subscribers — dashboards — while mail flows at
 *    BENCH_FANOUT_RATE (10) messages/s for BENCH_FANOUT_SECONDS (10): every event to every one.
 * 2. The same number of subscribers, each filtered on a recipient of its own, while the pipeline
 *    sends BENCH_FANOUT_MESSAGES (5,000) as fast as it can (64 sendEmail in flight).
 * 3. BENCH_MANY_SUBSCRIBERS (10,000) unfiltered subscribers: RSS while they hold, and the
 *    latency of a few events to all of them.
 * BENCH_FANOUT_PARTS=all,filtered,many chooses parts; BENCH_CPU_PROF=<dir> profiles the service.
 */
import { performance } from 'node:perf_hooks';
import { fmt, percentile, positiveInt, rate, waitUntil } from '../lib/figures.ts';
import { graphql } from '../lib/graphql-client.ts';
import { runConcurrently } from '../lib/load.ts';
import { atMost, info, type BenchRow } from '../lib/report.ts';
import { startServiceProcess, type ServiceProcess } from '../lib/service-process.ts';
import { startSink } from '../lib/sink.ts';
import {
  mergeDeliveries,
  startSubscribers,
  type Deliveries,
  type Subscribers,
} from '../lib/subscribers.ts';

const env = process.env;
const settings = {
  subscribers: positiveInt('BENCH_SUBSCRIBERS', env['BENCH_SUBSCRIBERS'], 1_000),
  ratePerSecond: positiveInt('BENCH_FANOUT_RATE', env['BENCH_FANOUT_RATE'], 10),
  seconds: positiveInt('BENCH_FANOUT_SECONDS', env['BENCH_FANOUT_SECONDS'], 10),
  messages: positiveInt('BENCH_FANOUT_MESSAGES', env['BENCH_FANOUT_MESSAGES'], 5_000),
  many: positiveInt('BENCH_MANY_SUBSCRIBERS', env['BENCH_MANY_SUBSCRIBERS'], 10_000),
  /** Which of the three parts to run. */
  parts: (env['BENCH_FANOUT_PARTS'] ?? 'all,filtered,many').split(','),
};

const SEND = 'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }';

async function send(url: string, to: string, tag: string): Promise<void> {
  const body = await graphql(url, SEND, { input: { to, subject: `Fan-out ${tag}`, text: 'x' } });
  if (body.errors) throw new Error(body.errors[0]!.message);
}

interface Spread {
  events: number;
  /** Deliveries expected but not seen. */
  missing: number;
  latencies: number[];
}

/** The events of the measured messages: those to recipients starting with `prefix`. */
function measured(deliveries: Deliveries, prefix: string) {
  return [...deliveries.values()].filter((event) => event.recipient.startsWith(prefix));
}

/**
 * Event -> last subscriber latency for every event of the measured messages (recipients with
 * `prefix`; probes are left out), and deliveries that did not arrive.
 */
function spread(deliveries: Deliveries, expectedPerEvent: number, prefix: string): Spread {
  const latencies: number[] = [];
  let missing = 0;
  for (const { atMs, received, lastMs, recipient } of deliveries.values()) {
    if (!recipient.startsWith(prefix)) continue;
    latencies.push(lastMs - atMs);
    missing += Math.max(0, expectedPerEvent - received);
  }
  return { events: latencies.length, missing, latencies: latencies.sort((a, b) => a - b) };
}

function describe(label: string, result: Spread): string {
  const line =
    `${label}: ${fmt(result.events)} events, latency p50 ${fmt(percentile(result.latencies, 50))} ms, ` +
    `p99 ${fmt(percentile(result.latencies, 99))} ms, max ${fmt(percentile(result.latencies, 100))} ms` +
    (result.missing > 0 ? `, ${fmt(result.missing)} deliveries missing` : '');
  console.log(`  ${line}`);
  return line;
}

/** Sends until every subscriber has seen an event, so none is still being registered. */
async function untilAllListen(url: string, subscribers: Subscribers, total: number, to: string) {
  for (let i = 0; ; i++) {
    await send(url, to, `probe ${i}`);
    // One collect holds what arrived since the previous one: an event that reaches its
    // subscribers across two collects has reached them all only in the sum.
    const seen: Deliveries = new Map();
    const ok = await waitUntil(
      async () => {
        mergeDeliveries(seen, await subscribers.collect());
        return [...seen.values()].some((event) => event.received >= total);
      },
      1_000,
      50,
    );
    if (ok) break;
    if (i > 60) throw new Error('the subscribers never all received an event');
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  await subscribers.collect(); // drop the probes
}

/** `{ __typename }` one call at a time, 5 ms apart, until stopped: the latencies, sorted. */
function probeApi(url: string): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const body = await graphql(url, '{ __typename }');
      if (body.errors) throw new Error(body.errors[0]!.message);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies.sort((a, b) => a - b);
    },
  };
}

async function allToAll(service: ServiceProcess): Promise<BenchRow[]> {
  const total = settings.subscribers;
  const subscribers = await startSubscribers({ url: service.url, total, processes: 2 });
  try {
    await untilAllListen(service.url, subscribers, total, 'probe@example.com');
    const count = settings.ratePerSecond * settings.seconds;
    // The API beside the fan-out: a request that arrives while the service writes an event to
    // every subscriber waits for it. `{ __typename }` one at a time, 5 ms apart, and the paced
    // sendEmail calls themselves.
    const probe = probeApi(service.url);
    const sendLatencies: number[] = [];
    const sends: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / settings.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const started = performance.now();
      sends.push(
        send(service.url, `dash${i}@example.com`, `paced ${i}`).then(() => {
          sendLatencies.push(performance.now() - started);
        }),
      );
    }
    await Promise.all(sends);
    const typename = await probe.stop();
    sendLatencies.sort((a, b) => a - b);
    // Every message makes three events (QUEUED, PROCESSING, SENT).
    const deliveries: Deliveries = new Map();
    await waitUntil(
      async () => {
        mergeDeliveries(deliveries, await subscribers.collect());
        return (
          measured(deliveries, 'dash').length >= count * 3 &&
          measured(deliveries, 'dash').every((event) => event.received >= total)
        );
      },
      60_000,
      250,
    );
    const result = spread(deliveries, total, 'dash');
    describe(`${fmt(total)} unfiltered subscribers at ${settings.ratePerSecond} msgs/s`, result);
    const row = atMost(
      `event -> all ${fmt(total)} subscribers p99 (${settings.ratePerSecond} msgs/s, ${fmt(settings.ratePerSecond * 3 * total)} deliveries/s)`,
      percentile(result.latencies, 99),
      50,
      'ms',
      0,
    );
    if (result.missing > 0) row.measured += ` [${fmt(result.missing)} missing]`;
    const api =
      `{ __typename } p50 ${fmt(percentile(typename, 50), 2)} / p99 ${fmt(percentile(typename, 99), 2)} ms (${fmt(typename.length)} calls), ` +
      `sendEmail p50 ${fmt(percentile(sendLatencies, 50), 2)} / p99 ${fmt(percentile(sendLatencies, 99), 2)} ms`;
    console.log(`  the API meanwhile: ${api}`);
    return [row, info(`the API during the fan-out to ${fmt(total)} subscribers`, api)];
  } finally {
    await subscribers.close();
  }
}

async function filteredAtFullSpeed(service: ServiceProcess, sinkCount: () => number) {
  const total = settings.subscribers;
  const recipients = Array.from({ length: total }, (_, i) => `own${i}@example.com`);
  const subscribers = await startSubscribers({
    url: service.url,
    total,
    processes: 2,
    recipients,
  });
  try {
    // Each subscriber has its own recipient: probe them all once so every one is registered.
    await runConcurrently(total, 32, (i) => send(service.url, recipients[i]!, 'probe'));
    await waitUntil(async () => (await subscribers.collect()).size === 0, 10_000, 250);
    const n = settings.messages;
    const before = sinkCount();
    const t0 = performance.now();
    const load = await runConcurrently(n, 64, (i) =>
      send(service.url, recipients[i % total]!, `full ${i}`),
    );
    await waitUntil(() => sinkCount() - before >= load.ok, 120_000, 5);
    const throughput = rate(sinkCount() - before, performance.now() - t0);
    const deliveries: Deliveries = new Map();
    await waitUntil(
      async () => {
        mergeDeliveries(deliveries, await subscribers.collect());
        return deliveries.size >= load.ok * 3;
      },
      30_000,
      250,
    );
    const result = spread(deliveries, 1, 'own');
    describe(
      `${fmt(total)} filtered subscribers, pipeline at full speed (${fmt(throughput)} msgs/s end to end)`,
      result,
    );
    const row = atMost(
      `event -> its subscriber p99 (${fmt(total)} filtered, full speed)`,
      percentile(result.latencies, 99),
      50,
      'ms',
      0,
    );
    row.measured += ` at ${fmt(throughput)} msgs/s`;
    return [row];
  } finally {
    await subscribers.close();
  }
}

async function manySubscribers(service: ServiceProcess): Promise<BenchRow[]> {
  const total = settings.many;
  const rssBefore = service.rssMiB();
  const t0 = performance.now();
  const subscribers = await startSubscribers({ url: service.url, total, processes: 4 });
  const connectMs = performance.now() - t0;
  try {
    await untilAllListen(service.url, subscribers, total, 'probe-many@example.com');
    const rssHolding = service.rssMiB();
    const deliveries: Deliveries = new Map();
    for (let i = 0; i < 5; i++) await send(service.url, `many${i}@example.com`, `many ${i}`);
    await waitUntil(
      async () => {
        mergeDeliveries(deliveries, await subscribers.collect());
        const events = measured(deliveries, 'many');
        return events.length >= 15 && events.every((e) => e.received >= total);
      },
      60_000,
      250,
    );
    const result = spread(deliveries, total, 'many');
    console.log(
      `  ${fmt(total)} subscribers connected in ${fmt(connectMs)} ms; RSS ${fmt(rssBefore)} -> ` +
        `${fmt(rssHolding)} MiB holding, ${fmt(service.rssMiB())} MiB after 15 events, peak ${fmt(service.peakRssMiB())} MiB`,
    );
    describe(`${fmt(total)} unfiltered subscribers, 5 messages`, result);
    return [
      info(
        `RSS holding ${fmt(total)} subscribers`,
        `${fmt(rssHolding)} MiB (${fmt(rssBefore)} MiB before; ${fmt(((rssHolding - rssBefore) * 1024) / total, 1)} KiB each)`,
      ),
      info(
        `event -> all ${fmt(total)} subscribers p99`,
        `${fmt(percentile(result.latencies, 99))} ms` +
          (result.missing > 0 ? ` [${fmt(result.missing)} missing]` : ''),
      ),
    ];
  } finally {
    await subscribers.close();
  }
}

export async function runFanOut(): Promise<BenchRow[]> {
  const { sink, close } = await startSink();
  const service = await startServiceProcess({
    env: {
      SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true`,
      // Every bench subscriber is the same anonymous caller.
      WS_MAX_OPERATIONS_PER_TOKEN: String(Math.max(settings.subscribers, settings.many) + 100),
    },
    cpuProfDir: env['BENCH_CPU_PROF'] || null,
  });
  try {
    const rows: BenchRow[] = [];
    if (settings.parts.includes('all')) rows.push(...(await allToAll(service)));
    if (settings.parts.includes('filtered')) {
      rows.push(...(await filteredAtFullSpeed(service, () => sink.receivedCount)));
    }
    if (settings.parts.includes('many')) rows.push(...(await manySubscribers(service)));
    return rows;
  } finally {
    await service.stop();
    await close();
  }
}
