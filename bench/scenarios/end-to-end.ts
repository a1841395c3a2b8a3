/**
 * End to end: the service (GraphQL sendEmail -> SQLite queue -> worker -> pooled SMTP) against raw
 * pooled nodemailer sending the same messages to the same kind of local SMTP sink (one fresh sink
 * process per phase). Prints figures; it never asserts timing.
 *
 * Knobs (environment): BENCH_MESSAGES (5000), BENCH_ROUNDS (3), BENCH_CONCURRENCY (64 sendEmail
 * requests in flight), BENCH_CONNECTIONS (5 SMTP connections, raw and SMTP_MAX_CONNECTIONS alike),
 * BENCH_WARMUP (1000 messages per phase before timing; 0 for none), BENCH_E2E_PARTS
 * (warm,cold,sixteen: any of them; sixteen is the warm part with 16 requests in flight, issue
 * 17's modest concurrency), BENCH_POLL_MS (2),
 * BENCH_SINK (process: the sink in its own process; inline: in the bench process),
 * BENCH_TIMEOUT_MS (max(120 s, N x 50 ms)), BENCH_CPU_PROF=<dir> (run the service with --cpu-prof
 * and write its profile there). Other variables pass through to the service, so e.g.
 * `DELIVERY_CONCURRENCY=256 npm run bench -- e2e` tries a setting.
 *
 * Both sides start cold each round and get the same warm-up: each raw run is a fresh process
 * (bench/raw-process.ts), each service run a fresh `node dist/main.js` (what `npm start` runs)
 * with a fresh SQLite file in a temp dir, stopped with SIGTERM. Then the cold rounds: the first
 * COLD_MESSAGES after a start, with no warm-up on either side (the service timed from /readyz
 * 200, raw from its fresh process's first send), so that JIT, first statements and new pooled
 * connections are counted as an application that sends right after a deploy meets them. The
 * sink runs in a process of its own (bench/sink-process.ts), so neither side's client shares an event loop with the server it sends
 * to. The sendEmail requests go through a lean keep-alive HTTP client (lib/lean-http-client.ts,
 * ~45 µs of CPU per request against ~90 µs for node:http's; BENCH_CLIENT=node-http uses that),
 * because the bench's client competes with the service for the same two cores.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { BENCH_BODY, SEND_EMAIL } from '../lib/bench-mail.ts';
import {
  fmt,
  median,
  percentile,
  positiveInt,
  printAligned,
  rate,
  waitUntil,
} from '../lib/figures.ts';
import { createLoadClient, graphql } from '../lib/graphql-client.ts';
import { runConcurrently } from '../lib/load.ts';
import { runRawSender } from '../lib/raw-sender.ts';
import { atLeast, type BenchRow } from '../lib/report.ts';
import { FROM, startServiceProcess, type ServiceProcess } from '../lib/service-process.ts';
import { startSink, type Sink } from '../lib/sink.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const env = process.env;
/** Issue 17: issue 7's end-to-end target must hold with this many requests in flight too. */
const MODEST_CONCURRENCY = 16;
const messages = positiveInt('BENCH_MESSAGES', env['BENCH_MESSAGES'], 5000);
const settings = {
  messages,
  rounds: positiveInt('BENCH_ROUNDS', env['BENCH_ROUNDS'], 3),
  /** sendEmail requests in flight at once. */
  httpConcurrency: positiveInt('BENCH_CONCURRENCY', env['BENCH_CONCURRENCY'], 64),
  /** Pooled SMTP connections, for raw nodemailer and the service (SMTP_MAX_CONNECTIONS) alike. */
  smtpConnections: positiveInt('BENCH_CONNECTIONS', env['BENCH_CONNECTIONS'], 5),
  /** Messages sent (and delivered) before the timed part of each phase; not counted. */
  warmup: positiveInt('BENCH_WARMUP', env['BENCH_WARMUP'], 1_000, 0),
  /**
   * `warm` (N after the warm-up), `cold` (the first COLD_MESSAGES after a start), `sixteen`
   * (warm, with MODEST_CONCURRENCY requests in flight).
   */
  parts: (env['BENCH_E2E_PARTS'] ?? 'warm,cold,sixteen').split(','),
  /** How often the sink's counter is looked at. */
  pollMs: positiveInt('BENCH_POLL_MS', env['BENCH_POLL_MS'], 2),
  /** Give up waiting for a phase to finish after this long (reported, and exit status 1). */
  timeoutMs: positiveInt(
    'BENCH_TIMEOUT_MS',
    env['BENCH_TIMEOUT_MS'],
    Math.max(120_000, messages * 50),
  ),
  /** When set, the service runs with --cpu-prof and writes its profiles into this directory. */
  cpuProfDir: env['BENCH_CPU_PROF'] || null,
  /** Where the SMTP sink runs: `process` (its own) or `inline` (in the bench process). */
  sinkMode: env['BENCH_SINK'] === 'inline' ? ('inline' as const) : ('process' as const),
};

/** Issue 17's "first 5,000 messages after a start". */
const COLD_MESSAGES = 5_000;

function mail(i: number, tag: string) {
  return {
    to: `rcpt${i}@example.com`,
    subject: `Bench ${tag} message ${i}`,
    text: BENCH_BODY,
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

interface RawResult {
  ms: number;
  delivered: number;
  failed: number;
  firstError: string | null;
}

interface ServiceResult {
  /** First request sent until the last sendEmail response arrived. */
  enqueueMs: number;
  /** First request sent until the sink counted every accepted message; null on timeout. */
  sinkMs: number | null;
  /** First request sent until GraphQL counted them all SENT; null on timeout. */
  sentMs: number | null;
  accepted: number;
  failed: number;
  firstError: string | null;
  delivered: number;
  /** Counted by the sink when the last sendEmail response arrived. */
  deliveredDuringEnqueue: number;
  latencies: number[];
  /** Why the phase is incomplete, or null. */
  note: string | null;
  /** A slow or failed SIGTERM shutdown of the service; reported, not a bench failure. */
  shutdownNote: string | null;
}

interface Round {
  raw: RawResult;
  service: ServiceResult;
}

// ---------------------------------------------------------------------------------------------
// Phase 1: raw pooled nodemailer

async function runRaw(n: number, warmup: number): Promise<RawResult> {
  const { sink, close } = await startSink(settings.sinkMode);
  try {
    const result = await runRawSender(sink, {
      host: sink.host,
      port: sink.port,
      n,
      warmup,
      connections: settings.smtpConnections,
      from: FROM,
      body: BENCH_BODY,
    });
    // The sink reports its count every millisecond; let it catch up with the last replies.
    await waitUntil(() => sink.receivedCount - result.before >= n - result.failed, 2_000);
    return {
      ms: result.ms,
      delivered: sink.receivedCount - result.before,
      failed: result.failed,
      firstError: result.firstError,
    };
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 2: the service as a child process (what `npm start` runs)

const SENT_COUNT = '{ messages(filter: { status: [SENT] }) { totalCount } }';

async function sentCount(url: string): Promise<number> {
  const body = await graphql(url, SENT_COUNT);
  if (body.errors) throw new Error(`messages query failed: ${body.errors[0]!.message}`);
  return body.data!['messages'].totalCount as number;
}

/** Sends `count` sendEmail mutations, `inFlight` at a time; each request's latency. */
async function sendEmails(url: string, count: number, tag: string, inFlight: number) {
  const client = createLoadClient(url, Math.min(inFlight, count));
  try {
    const load = await runConcurrently(count, inFlight, async (i) => {
      const body = await client.graphql(SEND_EMAIL, { input: mail(i, tag) });
      if (body.errors) throw new Error(body.errors[0]!.message);
    });
    return {
      latencies: load.latencies,
      accepted: load.ok,
      failed: load.failed,
      firstError: load.firstError,
    };
  } finally {
    client.close();
  }
}

/** Polls `condition` every `everyMs`; the time it first held, or null after the deadline. */
async function timeWhen(
  condition: () => boolean | Promise<boolean>,
  everyMs: number,
  deadline: number,
): Promise<number | null> {
  for (;;) {
    if (await condition()) return performance.now();
    if (performance.now() > deadline) return null;
    await delay(everyMs);
  }
}

async function runService(n: number, warmup: number, inFlight: number): Promise<ServiceResult> {
  const { sink, close } = await startSink(settings.sinkMode);
  let service: ServiceProcess | null = null;
  try {
    service = await startServiceProcess({
      env: {
        SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true`,
        SMTP_MAX_CONNECTIONS: String(settings.smtpConnections),
      },
      cpuProfDir: settings.cpuProfDir,
    });
    // Timed from readiness (the delivery thread up), as an application sending right after a
    // start would meet it; the warm rounds wait for their warm-up's delivery anyway.
    await service.untilReadyz();
    const result = await measureService(service.url, sink, n, warmup, inFlight);
    const shutdown = await service.stop();
    if (shutdown && (shutdown.code !== 0 || shutdown.ms > 6_000)) {
      result.shutdownNote =
        `SIGTERM shutdown took ${fmt(shutdown.ms / 1000, 1)} s and ended with ` +
        `${shutdown.signal ?? `status ${shutdown.code}`} ("${shutdown.lastLine}")`;
    }
    return result;
  } finally {
    await service?.stop();
    await close();
  }
}

async function measureService(
  url: string,
  sink: Sink,
  n: number,
  warmup: number,
  inFlight: number,
): Promise<ServiceResult> {
  // Warm-up: JIT, SQLite pages, SMTP connections. Waits until it is all delivered and SENT.
  let sentBefore = 0;
  if (warmup > 0) {
    const warm = await sendEmails(url, warmup, 'warm-up', inFlight);
    if (warm.accepted === 0) throw new Error(`sendEmail fails: ${warm.firstError}`);
    const deadline = performance.now() + settings.timeoutMs;
    const ok =
      (await timeWhen(() => sink.receivedCount >= warm.accepted, settings.pollMs, deadline)) !==
        null &&
      (await timeWhen(async () => (await sentCount(url)) >= warm.accepted, 10, deadline)) !== null;
    if (!ok) throw new Error('the warm-up messages were not all delivered in time');
    sentBefore = await sentCount(url);
  }

  const sinkBefore = sink.receivedCount;
  let target = sinkBefore + n; // lowered once we know how many requests were accepted
  const t0 = performance.now();
  const deadline = t0 + settings.timeoutMs;
  const sinkDone = timeWhen(() => sink.receivedCount >= target, settings.pollMs, deadline);
  const sent = await sendEmails(url, n, 'service', inFlight);
  const enqueueMs = performance.now() - t0;
  const deliveredDuringEnqueue = sink.receivedCount - sinkBefore;
  target = sinkBefore + sent.accepted;
  const sinkAt = await sinkDone;
  // Only now, so the status polling does not load the service while it is measured.
  const sentAt = await timeWhen(
    async () => (await sentCount(url)) >= sentBefore + sent.accepted,
    10,
    deadline,
  );
  const delivered = sink.receivedCount - sinkBefore;
  let note: string | null = null;
  if (sinkAt === null || sentAt === null) {
    const sentNow = (await sentCount(url).catch(() => Number.NaN)) - sentBefore;
    note =
      `timed out after ${settings.timeoutMs} ms: the sink has ${delivered} of ` +
      `${sent.accepted} accepted messages, GraphQL reports ${sentNow} SENT`;
  }
  return {
    enqueueMs,
    sinkMs: sinkAt === null ? null : sinkAt - t0,
    sentMs: sentAt === null ? null : sentAt - t0,
    accepted: sent.accepted,
    failed: sent.failed,
    firstError: sent.firstError,
    delivered,
    deliveredDuringEnqueue,
    latencies: sent.latencies, // sorted by runConcurrently
    note,
    shutdownNote: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

/** Every figure of a round: label, decimals shown, value (NaN when it could not be measured). */
const METRICS: [label: string, digits: number, value: (round: Round) => number][] = [
  ['raw nodemailer msgs/s', 0, ({ raw }) => rate(raw.delivered, raw.ms)],
  [
    'service enqueue req/s',
    0,
    ({ service }) => rate(service.accepted + service.failed, service.enqueueMs),
  ],
  ['service end to end msgs/s (sink)', 0, ({ service }) => rate(service.accepted, service.sinkMs)],
  ['service end to end msgs/s (SENT)', 0, ({ service }) => rate(service.accepted, service.sentMs)],
  [
    'ratio service/raw (sink)',
    2,
    ({ raw, service }) => rate(service.accepted, service.sinkMs) / rate(raw.delivered, raw.ms),
  ],
  [
    'service drain msgs/s (after enqueue)',
    0,
    ({ service }) =>
      rate(
        service.accepted - service.deliveredDuringEnqueue,
        service.sinkMs === null ? null : service.sinkMs - service.enqueueMs,
      ),
  ],
  ['sendEmail latency p50 ms', 1, ({ service }) => percentile(service.latencies, 50)],
  ['sendEmail latency p95 ms', 1, ({ service }) => percentile(service.latencies, 95)],
  ['sendEmail latency max ms', 1, ({ service }) => percentile(service.latencies, 100)],
  ['raw wall ms', 0, ({ raw }) => raw.ms],
  ['service enqueue wall ms', 0, ({ service }) => service.enqueueMs],
  ['service to sink wall ms', 0, ({ service }) => service.sinkMs ?? Number.NaN],
  ['service to SENT wall ms', 0, ({ service }) => service.sentMs ?? Number.NaN],
];

function printTable(rounds: readonly Round[]): void {
  const header = ['', ...rounds.map((_, r) => `round ${r + 1}`)];
  if (rounds.length > 1) header.push('median');
  printAligned([
    header,
    ...METRICS.map(([label, digits, value]) => {
      const values = rounds.map(value);
      const cells = values.map((v) => fmt(v, digits));
      if (rounds.length > 1) cells.push(fmt(median(values), digits));
      return [label, ...cells];
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * `count` rounds of raw and service, interleaved: each phase a fresh process, `warmup` messages
 * first (not timed), then `n`. Prints each round; returns the rounds and how many problems.
 */
async function runRounds(
  n: number,
  warmup: number,
  count: number,
  label: string,
  inFlight = settings.httpConcurrency,
): Promise<{ rounds: Round[]; problems: number }> {
  const rounds: Round[] = [];
  let problems = 0;
  for (let r = 0; r < count; r++) {
    // Alternate the order so drift (thermal, page cache, other load) hits both sides alike.
    const rawFirst = r % 2 === 0;
    let raw: RawResult | undefined;
    if (rawFirst) raw = await runRaw(n, warmup);
    const service = await runService(n, warmup, inFlight);
    if (!rawFirst) raw = await runRaw(n, warmup);
    const round: Round = { raw: raw!, service };
    rounds.push(round);

    const figure = (name: string) => {
      const [, digits, value] = METRICS.find(([metric]) => metric === name)!;
      return fmt(value(round), digits);
    };
    console.log(
      `${label} ${r + 1}/${count}: raw ${figure('raw nodemailer msgs/s')} msgs/s | ` +
        `service enqueue ${figure('service enqueue req/s')} req/s, ` +
        `end to end ${figure('service end to end msgs/s (sink)')} msgs/s (sink), ` +
        `${figure('service end to end msgs/s (SENT)')} msgs/s (SENT) | ` +
        `ratio ${figure('ratio service/raw (sink)')} | ` +
        `sendEmail p50 ${figure('sendEmail latency p50 ms')} ms, ` +
        `p95 ${figure('sendEmail latency p95 ms')} ms`,
    );
    for (const line of [
      round.raw.failed > 0 &&
        `  raw: ${round.raw.failed} sends failed, first: ${round.raw.firstError}`,
      round.raw.delivered !== n && `  raw: the sink counted ${round.raw.delivered} of ${n}`,
      service.failed > 0 &&
        `  service: ${service.failed} sendEmail requests failed, first: ${service.firstError}`,
      service.note && `  service: ${service.note}`,
    ]) {
      if (line) {
        problems++;
        console.log(line);
      }
    }
    if (service.shutdownNote) console.log(`  service: ${service.shutdownNote}`);
  }
  console.log('');
  printTable(rounds);
  console.log('');
  return { rounds, problems };
}

/** The median over rounds of one of METRICS. */
const medianOf = (rounds: readonly Round[], label: string) =>
  median(rounds.map(METRICS.find(([name]) => name === label)![2]));

/** The row of a part: the median ratio to raw against `target`, with both rates beside it. */
function ratioRow(
  title: string,
  { rounds, problems }: { rounds: readonly Round[]; problems: number },
  target: number,
  extra = '',
): BenchRow {
  const row = atLeast(title, medianOf(rounds, 'ratio service/raw (sink)'), target, 'x raw', 2);
  row.measured +=
    ` (${fmt(medianOf(rounds, 'service end to end msgs/s (sink)'))} vs raw ` +
    `${fmt(medianOf(rounds, 'raw nodemailer msgs/s'))} msgs/s${extra})`;
  if (problems > 0) row.measured += ` [${problems} problem(s), see above]`;
  return row;
}

/** Raw and service rounds interleaved, warm then cold; the rows for the final table (medians). */
export async function runEndToEnd(): Promise<BenchRow[]> {
  const n = settings.messages;
  console.log(
    `end to end: N=${n} messages, ${settings.rounds} round(s), ` +
      `${settings.httpConcurrency} sendEmail requests in flight, ` +
      `${settings.smtpConnections} SMTP connections, warm-up ${settings.warmup} per phase; ` +
      `parts: ${settings.parts.join(', ')} (cold: the first ${fmt(COLD_MESSAGES)} after a start)`,
  );
  console.log(
    settings.sinkMode === 'inline'
      ? 'note: the SMTP sink and the client run in this process; the service runs in a child process\n'
      : 'note: the SMTP sink runs in a process of its own; the client runs in this process, the service in another\n',
  );

  const rows: BenchRow[] = [];
  if (settings.parts.includes('warm')) {
    const warm = await runRounds(n, settings.warmup, settings.rounds, 'round');
    rows.push(
      ratioRow('end to end, sendEmail to sink (x raw)', warm, 0.8, `, N=${n}`),
      atLeast(
        'sendEmail acknowledged during end to end',
        medianOf(warm.rounds, 'service enqueue req/s'),
        3_000,
        'req/s',
      ),
    );
  }
  if (settings.parts.includes('cold')) {
    const cold = await runRounds(COLD_MESSAGES, 0, settings.rounds, 'cold');
    rows.push(ratioRow(`end to end, first ${fmt(COLD_MESSAGES)} after a start (x raw)`, cold, 0.7));
  }
  if (settings.parts.includes('sixteen')) {
    const sixteen = await runRounds(
      n,
      settings.warmup,
      settings.rounds,
      `${MODEST_CONCURRENCY} in flight`,
      MODEST_CONCURRENCY,
    );
    rows.push(
      ratioRow(
        `end to end, ${MODEST_CONCURRENCY} sendEmail requests in flight (x raw)`,
        sixteen,
        0.8,
        `, sendEmail p50 ${fmt(medianOf(sixteen.rounds, 'sendEmail latency p50 ms'), 1)} ms`,
      ),
    );
  }
  return rows;
}
