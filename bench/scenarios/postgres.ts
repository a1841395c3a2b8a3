/**
 * PostgreSQL (`npm run bench -- pg`): the service on one PostgreSQL database with 1, 2 and 3
 * instances, against raw pooled nodemailer in the same run, then the live feed across instances.
 * Prints figures; it never asserts timing.
 *
 * 1. Throughput and double sends. Each round runs raw nodemailer and each configuration
 *    (BENCH_PG_INSTANCES, 1,2,3 instances), interleaved as in the e2e scenario (the order
 *    reversed every other round). Every service configuration starts on a fresh database
 *    (`mailscope_bench_<random>`, dropped afterwards) with a fresh sink process; its instances
 *    get the same N messages through sendEmail, request i to instance i mod k, with
 *    BENCH_CONCURRENCY requests in flight in total (lean keep-alive client per instance).
 *    End to end is N over the time from the first request until the sink has every accepted
 *    message (distinct Message-IDs). The sink counts each Message-ID's copies: a double send is
 *    a copy beyond the first. CPU of each process group is read from /proc over the timed part.
 * 2. Cross-instance event lag (postgres-lag.ts): three instances, a messageEvents subscriber on
 *    the third, messages paced at BENCH_LAG_RATE to the first two.
 *
 * Knobs (environment): BENCH_MESSAGES (5000), BENCH_ROUNDS (3), BENCH_CONCURRENCY (64 sendEmail
 * requests in flight over all instances), BENCH_CONNECTIONS (5 SMTP connections: raw, and each
 * instance's SMTP_MAX_CONNECTIONS), BENCH_WARMUP (1000 messages per phase before timing),
 * BENCH_PG_INSTANCES (1,2,3), BENCH_PG_PARTS (throughput,lag), BENCH_TIMEOUT_MS
 * (max(120 s, N x 50 ms) per phase), BENCH_CPU_PROF=<dir> (every instance under --cpu-prof),
 * PG_BENCH_URL (postgres://postgres@127.0.0.1:5432/postgres: where databases are created),
 * and the lag part's BENCH_LAG_* (postgres-lag.ts). Other variables pass through to the service.
 */
import { performance } from 'node:perf_hooks';
import { BENCH_BODY, SEND_EMAIL } from '../lib/bench-mail.ts';
import { wasInterrupted } from '../lib/cleanup.ts';
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
import { createBenchDatabase, withAdmin } from '../lib/postgres-database.ts';
import { startInstances, stopInstances } from '../lib/postgres-instances.ts';
import { cpuBetween, postgresPids, readCpu, type ProcessGroups } from '../lib/proc-cpu.ts';
import { runRawSender } from '../lib/raw-sender.ts';
import { atLeast, info, none, PartialFailure, type BenchRow } from '../lib/report.ts';
import { FROM } from '../lib/service-process.ts';
import { startTrackingSink, type TrackingSink } from '../lib/sink.ts';
import { runPostgresLag } from './postgres-lag.ts';

const env = process.env;
const messages = positiveInt('BENCH_MESSAGES', env['BENCH_MESSAGES'], 5000);
const settings = {
  messages,
  rounds: positiveInt('BENCH_ROUNDS', env['BENCH_ROUNDS'], 3),
  /** sendEmail requests in flight at once, over all instances. */
  httpConcurrency: positiveInt('BENCH_CONCURRENCY', env['BENCH_CONCURRENCY'], 64),
  /** Pooled SMTP connections of raw nodemailer, and of each instance. */
  smtpConnections: positiveInt('BENCH_CONNECTIONS', env['BENCH_CONNECTIONS'], 5),
  warmup: positiveInt('BENCH_WARMUP', env['BENCH_WARMUP'], 1_000, 0),
  instances: (env['BENCH_PG_INSTANCES'] || '1,2,3')
    .split(',')
    .map((count) => positiveInt('BENCH_PG_INSTANCES', count.trim(), 1)),
  parts: (env['BENCH_PG_PARTS'] || 'throughput,lag').split(',').map((part) => part.trim()),
  timeoutMs: positiveInt(
    'BENCH_TIMEOUT_MS',
    env['BENCH_TIMEOUT_MS'],
    Math.max(120_000, messages * 50),
  ),
  cpuProfDir: env['BENCH_CPU_PROF'] || null,
};

/** With BENCH_VERBOSE set, says what the scenario is doing, with the time. */
function enter(what: string): void {
  if (env['BENCH_VERBOSE']) console.log(`  [${new Date().toISOString().slice(11, 23)}] ${what}`);
}

const mail = (i: number, tag: string) => ({
  to: `rcpt${i}@example.com`,
  subject: `Bench ${tag} message ${i}`,
  text: BENCH_BODY,
});

const SENT_COUNT = '{ messages(filter: { status: [SENT] }) { totalCount } }';

async function sentCount(url: string): Promise<number> {
  const body = await graphql(url, SENT_COUNT);
  if (body.errors) throw new Error(`messages query failed: ${body.errors[0]!.message}`);
  return body.data!['messages'].totalCount as number;
}

/** Polls `condition`; when it first held, or null once `deadline` passed. */
async function timeWhen(
  condition: () => boolean | Promise<boolean>,
  everyMs: number,
  deadline: number,
): Promise<number | null> {
  const held = await waitUntil(condition, Math.max(0, deadline - performance.now()), everyMs);
  return held ? performance.now() : null;
}

// ---------------------------------------------------------------------------------------------
// Raw pooled nodemailer, to the same kind of sink (tracking Message-IDs costs both sides alike)

interface RawResult {
  ms: number;
  delivered: number;
  failed: number;
  firstError: string | null;
}

async function runRaw(n: number): Promise<RawResult> {
  enter('raw: starting the sink');
  const { sink, close } = await startTrackingSink();
  enter('raw: sending');
  try {
    const result = await runRawSender(
      sink,
      {
        host: sink.host,
        port: sink.port,
        n,
        warmup: settings.warmup,
        connections: settings.smtpConnections,
        from: FROM,
        body: BENCH_BODY,
      },
      { timeoutMs: settings.timeoutMs },
    );
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
// k instances on a fresh database

interface ServiceResult {
  instances: number;
  enqueueMs: number;
  /** First request until the sink had every accepted message; null on timeout. */
  sinkMs: number | null;
  accepted: number;
  failed: number;
  firstError: string | null;
  latencies: number[];
  /** Acknowledged over the whole phase, warm-up included. */
  acknowledged: number;
  received: number;
  distinct: number;
  /** Copies of a Message-ID beyond the first. */
  copies: number;
  /** CPU seconds per process group over the timed part. */
  cpu: Record<string, number>;
  notes: string[];
}

/**
 * Sends `count` sendEmail requests, request i to `urls[i % k]`, `httpConcurrency` in flight in
 * all. Gives up after the phase timeout: the sockets are closed, so what is in flight fails.
 */
async function sendRoundRobin(urls: readonly string[], count: number, tag: string) {
  // Each instance's share of the sockets: every one stays busy (an idle one is closed by the
  // server after 5 s), and the instances see the concurrency of one e2e instance in all.
  const connections = Math.ceil(Math.min(settings.httpConcurrency, count) / urls.length);
  const clients = urls.map((url) => createLoadClient(url, connections));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const client of clients) client.close();
  }, settings.timeoutMs);
  try {
    const load = await runConcurrently(count, settings.httpConcurrency, async (i) => {
      const body = await clients[i % clients.length]!.graphql(SEND_EMAIL, {
        input: mail(i, tag),
      });
      if (body.errors) throw new Error(body.errors[0]!.message);
    });
    if (timedOut) {
      throw new Error(
        `sendEmail did not finish within ${settings.timeoutMs} ms (BENCH_TIMEOUT_MS): ` +
          `${load.ok} of ${count} acknowledged`,
      );
    }
    return load;
  } finally {
    clearTimeout(timer);
    for (const client of clients) client.close();
  }
}

async function runService(k: number, n: number): Promise<ServiceResult> {
  enter(`${plural(k)}: creating the database and the sink`);
  const database = await createBenchDatabase();
  const { sink, close: closeSink, pid: sinkPid, report } = await startTrackingSink();
  enter(`${plural(k)}: starting the instances`);
  const instances = await startInstances({
    databaseUrl: database.url,
    sinkPort: sink.port,
    smtpConnections: settings.smtpConnections,
    count: k,
    cpuProfDir: settings.cpuProfDir,
  }).catch(async (error: unknown) => {
    await closeSink();
    await database.drop();
    throw error;
  });
  try {
    const urls = instances.map((instance) => instance.url);
    const result = await measureService(urls, sink, n, database.name, [
      sinkPid,
      ...instances.map((i) => i.pid),
    ]);
    enter(`${plural(k)}: counting copies`);
    // Copies arrive, if at all, about when the first did; wait until the sink has been quiet.
    let last = sink.receivedCount;
    let quietSince = performance.now();
    await waitUntil(
      () => {
        if (sink.receivedCount !== last) {
          last = sink.receivedCount;
          quietSince = performance.now();
        }
        return performance.now() - quietSince >= 500;
      },
      5_000,
      20,
    );
    const counts = await report();
    result.received = counts.received;
    result.distinct = counts.distinct;
    result.copies = counts.received - counts.distinct;
    if (counts.withoutId > 0) result.notes.push(`${counts.withoutId} messages had no Message-ID`);
    for (const [messageId, copies] of counts.duplicated.slice(0, 5)) {
      result.notes.push(`${messageId} arrived ${copies} times`);
    }
    enter(`${plural(k)}: stopping`);
    result.notes.push(...(await stopInstances(instances)));
    return result;
  } finally {
    await stopInstances(instances);
    await closeSink();
    enter(`${plural(k)}: dropping the database`);
    await database.drop();
  }
}

async function measureService(
  urls: readonly string[],
  sink: TrackingSink,
  n: number,
  databaseName: string,
  [sinkPid, ...servicePids]: number[],
): Promise<ServiceResult> {
  const notes: string[] = [];
  let acknowledged = 0;
  if (settings.warmup > 0) {
    enter(`${plural(urls.length)}: warm-up`);
    const warm = await sendRoundRobin(urls, settings.warmup, 'warm-up');
    if (warm.ok === 0) throw new Error(`sendEmail fails: ${warm.firstError}`);
    acknowledged += warm.ok;
    const deadline = performance.now() + settings.timeoutMs;
    const ok =
      (await timeWhen(() => sink.distinctCount >= warm.ok, 2, deadline)) !== null &&
      (await timeWhen(async () => (await sentCount(urls[0]!)) >= warm.ok, 10, deadline)) !== null;
    if (!ok) throw new Error('the warm-up messages were not all delivered in time');
  }

  // Every instance's pool is open by now; backends opened during the timed part are added after.
  const before = await postgresPids(databaseName);
  const groups = (pg: { backends: number[]; writers: number[] }): ProcessGroups => ({
    service: servicePids,
    'postgres backends': pg.backends,
    'postgres writers': pg.writers,
    sink: [sinkPid!],
    'bench client': [process.pid],
  });
  const cpuBefore = readCpu(groups(before));
  let cpuAfter = cpuBefore;

  enter(`${plural(urls.length)}: timed part`);
  const distinctBefore = sink.distinctCount;
  let target = distinctBefore + n; // lowered once we know how many requests were accepted
  const t0 = performance.now();
  const deadline = t0 + settings.timeoutMs;
  const sinkDone = timeWhen(
    () => {
      if (sink.distinctCount < target) return false;
      cpuAfter = readCpu(groups(before));
      return true;
    },
    2,
    deadline,
  );
  const sent = await sendRoundRobin(urls, n, 'service');
  const enqueueMs = performance.now() - t0;
  acknowledged += sent.ok;
  target = distinctBefore + sent.ok;
  enter(`${plural(urls.length)}: waiting for the sink`);
  const sinkAt = await sinkDone;
  const after = await postgresPids(databaseName);
  const all = {
    backends: [...new Set([...before.backends, ...after.backends])],
    writers: [...new Set([...before.writers, ...after.writers])],
  };
  const cpu = cpuBetween(groups(all), cpuBefore, cpuAfter);

  if (sinkAt === null) {
    notes.push(
      `timed out after ${settings.timeoutMs} ms: the sink has ` +
        `${sink.distinctCount - distinctBefore} of ${sent.ok} accepted messages`,
    );
  }
  // Everything SENT before the copies are counted: a late copy would come before its record.
  else if (
    (await timeWhen(
      async () => (await sentCount(urls[0]!)) >= acknowledged,
      10,
      performance.now() + settings.timeoutMs,
    )) === null
  ) {
    notes.push(`not every acknowledged message was SENT within ${settings.timeoutMs} ms`);
  }
  return {
    instances: urls.length,
    enqueueMs,
    sinkMs: sinkAt === null ? null : sinkAt - t0,
    accepted: sent.ok,
    failed: sent.failed,
    firstError: sent.firstError,
    latencies: sent.latencies,
    acknowledged,
    received: 0,
    distinct: 0,
    copies: 0,
    cpu,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Round {
  raw: RawResult;
  services: ServiceResult[];
}

const rawRate = (raw: RawResult) => rate(raw.delivered, raw.ms);
const serviceRate = (service: ServiceResult) => rate(service.accepted, service.sinkMs);
const plural = (k: number) => `${k} instance${k === 1 ? '' : 's'}`;

function printRounds(rounds: readonly Round[]): void {
  const header = ['', ...rounds.map((_, r) => `round ${r + 1}`)];
  if (rounds.length > 1) header.push('median');
  const line = (label: string, digits: number, value: (round: Round) => number) => {
    const values = rounds.map(value);
    const cells = values.map((v) => fmt(v, digits));
    if (rounds.length > 1) cells.push(fmt(median(values), digits));
    return [label, ...cells];
  };
  const table = [header, line('raw nodemailer msgs/s', 0, (round) => rawRate(round.raw))];
  for (const [c, k] of settings.instances.entries()) {
    const at = (round: Round) => round.services[c]!;
    table.push(
      line(`${plural(k)}: end to end msgs/s`, 0, (round) => serviceRate(at(round))),
      line(`${plural(k)}: x raw`, 2, (round) => serviceRate(at(round)) / rawRate(round.raw)),
      line(`${plural(k)}: enqueue req/s`, 0, (round) =>
        rate(at(round).accepted + at(round).failed, at(round).enqueueMs),
      ),
      line(`${plural(k)}: sendEmail p50 ms`, 1, (round) => percentile(at(round).latencies, 50)),
      line(`${plural(k)}: sendEmail p95 ms`, 1, (round) => percentile(at(round).latencies, 95)),
      line(`${plural(k)}: copies at the sink`, 0, (round) => at(round).copies),
    );
  }
  printAligned(table);

  console.log('\nCPU per message over the timed part (µs; /proc, every thread of each process):');
  const groups = Object.keys(rounds[0]?.services[0]?.cpu ?? {});
  const microseconds = (service: ServiceResult, group: string) => {
    const seconds =
      group === 'total'
        ? Object.values(service.cpu).reduce((a, b) => a + b, 0)
        : (service.cpu[group] ?? Number.NaN);
    return (seconds / service.accepted) * 1e6;
  };
  printAligned([
    ['', ...settings.instances.map(plural)],
    ...[...groups, 'total'].map((group) => [
      group,
      ...settings.instances.map((_, c) =>
        fmt(median(rounds.map(({ services }) => microseconds(services[c]!, group)))),
      ),
    ]),
  ]);
  console.log(
    '(postgres writers: WAL writer, checkpointer, background writer; the server is shared, so ' +
      'they also work for anything else running on it)',
  );
}

function throughputRows(rounds: readonly Round[], n: number): BenchRow[] {
  const rows: BenchRow[] = [];
  const rawMedian = median(rounds.map((round) => rawRate(round.raw)));
  const rates = new Map<number, number>();
  for (const [c, k] of settings.instances.entries()) {
    const services = rounds.map((round) => round.services[c]!);
    const msgs = median(services.map(serviceRate));
    rates.set(k, msgs);
    const ratio = median(
      rounds.map((round) => serviceRate(round.services[c]!) / rawRate(round.raw)),
    );
    const figure = `PostgreSQL end to end, ${plural(k)} (x raw)`;
    const row =
      k === 1 ? atLeast(figure, ratio, 0.5, 'x raw', 2) : info(figure, `${fmt(ratio, 2)} x raw`);
    row.measured += ` (${fmt(msgs)} vs raw ${fmt(rawMedian)} msgs/s, N=${n})`;
    const problems = services.reduce((sum, s) => sum + s.notes.length + (s.failed > 0 ? 1 : 0), 0);
    if (problems > 0) row.measured += ` [${problems} problem(s), see above]`;
    rows.push(row);
  }
  const one = rates.get(1);
  const three = rates.get(3);
  if (one !== undefined && three !== undefined) {
    const row = atLeast('PostgreSQL 3 instances vs 1, end to end', three, one, 'msgs/s');
    row.target = `>= 1 instance (${fmt(one)} msgs/s)`;
    rows.push(row);
  }
  for (const [c, k] of settings.instances.entries()) {
    const services = rounds.map((round) => round.services[c]!);
    const sum = (pick: (s: ServiceResult) => number) => services.reduce((a, s) => a + pick(s), 0);
    const copies = sum((s) => s.copies);
    const received = sum((s) => s.received);
    const acknowledged = sum((s) => s.acknowledged);
    rows.push(
      none(
        `PostgreSQL double sends, ${plural(k)} (${rounds.length} round(s))`,
        copies,
        `${fmt(copies)} copies; sink ${fmt(received)} (${fmt(sum((s) => s.distinct))} distinct), ` +
          `acknowledged ${fmt(acknowledged)}, beyond acknowledged ${fmt(received - acknowledged)}`,
      ),
    );
  }
  return rows;
}

async function runThroughput(): Promise<BenchRow[]> {
  const n = settings.messages;
  console.log(
    `throughput: N=${n} messages, ${settings.rounds} round(s), instances ` +
      `${settings.instances.join(', ')}, ${settings.httpConcurrency} sendEmail requests in flight ` +
      `in all (round-robin), ${settings.smtpConnections} SMTP connections per instance and raw, ` +
      `warm-up ${settings.warmup} per phase; every configuration on a fresh database`,
  );
  const rounds: Round[] = [];
  for (let r = 0; r < settings.rounds; r++) {
    // raw, 1, 2, 3 then 3, 2, 1, raw: drift (other load, page cache) hits every side alike.
    const phases: (number | 'raw')[] = ['raw', ...settings.instances];
    if (r % 2 === 1) phases.reverse();
    let raw: RawResult | undefined;
    const services = new Map<number, ServiceResult>();
    for (const phase of phases) {
      if (phase === 'raw') raw = await runRaw(n);
      else services.set(phase, await runService(phase, n));
    }
    const round: Round = { raw: raw!, services: settings.instances.map((k) => services.get(k)!) };
    rounds.push(round);
    console.log(
      `round ${r + 1}/${settings.rounds}: raw ${fmt(rawRate(round.raw))} msgs/s | ` +
        round.services
          .map(
            (s) =>
              `${plural(s.instances)} ${fmt(serviceRate(s))} msgs/s ` +
              `(${fmt(serviceRate(s) / rawRate(round.raw), 2)} x raw, ${s.copies} copies)`,
          )
          .join(' | '),
    );
    if (round.raw.failed > 0) {
      console.log(`  raw: ${round.raw.failed} sends failed, first: ${round.raw.firstError}`);
    }
    for (const s of round.services) {
      if (s.failed > 0) {
        console.log(
          `  ${plural(s.instances)}: ${s.failed} sendEmail failed, first: ${s.firstError}`,
        );
      }
      for (const note of s.notes) console.log(`  ${plural(s.instances)}: ${note}`);
    }
  }
  console.log('');
  printRounds(rounds);
  return throughputRows(rounds, n);
}

// ---------------------------------------------------------------------------------------------
// Main

export async function runPostgres(): Promise<BenchRow[]> {
  const parts: [name: string, run: () => Promise<BenchRow[]>][] = [
    ['throughput', runThroughput],
    ['lag', runPostgresLag],
  ];
  const unknown = settings.parts.filter((part) => !parts.some(([name]) => name === part));
  if (unknown.length > 0) {
    throw new Error(`BENCH_PG_PARTS: unknown part(s) ${unknown.join(', ')}; use throughput,lag`);
  }
  // Fails at once, with where it looked, when nothing answers there.
  await withAdmin((client) => client.query('SELECT 1'));
  const rows: BenchRow[] = [];
  const failed: string[] = [];
  for (const [name, run] of parts) {
    if (!settings.parts.includes(name)) continue;
    console.log(`\n--- pg ${name} ---`);
    try {
      rows.push(...(await run()));
    } catch (error) {
      if (wasInterrupted()) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      console.error(`bench: pg ${name} failed: ${reason}`);
      failed.push(name);
      rows.push(info(`pg ${name}: failed to run`, reason.split('\n')[0]!.slice(0, 100)));
    }
  }
  if (failed.length > 0) throw new PartialFailure(`part(s) ${failed.join(', ')} failed`, rows);
  return rows;
}
