/**
 * Backlog: a provider's outage leaves many messages deferred for a retry, and the service must
 * go on answering as it does with an empty queue, since that is when people watch it most.
 * Against an empty database and one holding the backlog, on SQLite and on PostgreSQL, in one
 * run: sendEmail one at a time and at 16 clients while the worker delivers each to a local sink,
 * and a /metrics scrape (counts by status, the queue's depth, the oldest QUEUED message's age).
 * Knobs: BENCH_BACKLOG_MESSAGES (100,000), BENCH_BACKLOG_CALLS (2,000 per measurement).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../lib/cleanup.ts';
import { fmt, percentile, positiveInt, waitUntil } from '../lib/figures.ts';
import { getStatus, graphql } from '../lib/graphql-client.ts';
import { runConcurrently, type LoadResult } from '../lib/load.ts';
import { createBenchDatabase } from '../lib/postgres-database.ts';
import { atMost, info, type BenchRow } from '../lib/report.ts';
import { seedDeferredBacklog } from '../lib/seed-backlog.ts';
import { startServiceProcess, type ServiceOptions } from '../lib/service-process.ts';
import type { StorageDescriptor } from '../../src/db/open-storage.ts';
import { startSink, type Sink } from '../lib/sink.ts';

const env = process.env;
const settings = {
  messages: positiveInt('BENCH_BACKLOG_MESSAGES', env['BENCH_BACKLOG_MESSAGES'], 100_000),
  calls: positiveInt('BENCH_BACKLOG_CALLS', env['BENCH_BACKLOG_CALLS'], 2_000),
};
/** Within the default DELIVERY_RETRY_MAX_MS, so the backlog is not due during the run. */
const RETRY_IN_MS = 30 * 60_000;
/** Enough that p99 is not simply the slowest scrape. */
const METRICS_SCRAPES = 200;
const WARM_UP_CALLS = 500;

const SEND = 'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }';
let sequence = 0;
const send = (url: string) => async () => {
  const i = sequence++;
  const input = { to: `rcpt${i % 5_000}@example.com`, subject: `Backlog ${i}`, text: 'x' };
  const body = await graphql(url, SEND, { input });
  if (body.errors) throw new Error(body.errors[0]!.message);
};

function latencies(result: LoadResult): number[] {
  if (result.failed > 0) throw new Error(`${result.failed} calls failed: ${result.firstError}`);
  return [...result.latencies].sort((a, b) => a - b);
}

interface Figures {
  lone: number[];
  sixteen: number[];
  metrics: number[];
}

/** A database the service is started on, and the same database as the seeding opens it. */
interface Target {
  service: ServiceOptions;
  storage: StorageDescriptor;
}

async function measure(target: Target, sink: Sink): Promise<Figures> {
  const smtp = `smtp://127.0.0.1:${sink.port}/?disable_starttls=true`;
  const receivedBefore = sink.receivedCount;
  const service = await startServiceProcess({
    ...target.service,
    env: { ...target.service.env, SMTP_CONNECTION_URI: smtp },
  });
  try {
    // Warm-up: JIT, pages, pooled connections.
    await runConcurrently(WARM_UP_CALLS, 4, send(service.url));
    const lone = latencies(await runConcurrently(settings.calls, 1, send(service.url)));
    const sixteen = latencies(await runConcurrently(settings.calls * 4, 16, send(service.url)));
    // The scrapes measure the counts beside the deferred backlog, not the delivery of the
    // messages just sent: those reach the sink first.
    const sent = WARM_UP_CALLS + settings.calls * 5;
    if (!(await waitUntil(() => sink.receivedCount >= receivedBefore + sent, 120_000, 20))) {
      throw new Error(`only ${sink.receivedCount - receivedBefore} of ${sent} messages delivered`);
    }
    // Untimed, as the warm-up above: the first scrape after a start counts every message once
    // (status-totals.ts); the later ones are what Prometheus sees every 15 s.
    if ((await getStatus(`${service.url}/metrics`, 10_000)) !== 200) throw new Error('/metrics');
    const metrics: number[] = [];
    for (let i = 0; i < METRICS_SCRAPES; i++) {
      const started = performance.now();
      const status = await getStatus(`${service.url}/metrics`, 10_000);
      if (status !== 200) throw new Error(`/metrics answered ${status}`);
      metrics.push(performance.now() - started);
    }
    metrics.sort((a, b) => a - b);
    return { lone, sixteen, metrics };
  } finally {
    await service.stop();
  }
}

function sqliteTargets(dir: string): [Target, Target] {
  const at = (name: string): Target => {
    const path = join(dir, `${name}.db`);
    return { service: { databasePath: path }, storage: { dialect: 'sqlite', path } };
  };
  return [at('empty'), at('backlog')];
}

async function postgresTargets(): Promise<[Target, Target]> {
  const at = async (): Promise<Target> => {
    const { url } = await createBenchDatabase();
    return { service: { env: { DATABASE_URL: url } }, storage: { dialect: 'postgres', url } };
  };
  return [await at(), await at()];
}

async function dialect(
  name: 'SQLite' | 'PostgreSQL',
  [empty, withBacklog]: [Target, Target],
  sink: Sink,
): Promise<BenchRow[]> {
  const started = performance.now();
  await seedDeferredBacklog(withBacklog.storage, settings.messages, RETRY_IN_MS);
  const n = settings.messages.toLocaleString('en-US');
  console.log(
    `${name}: seeded ${n} deferred messages in ${fmt((performance.now() - started) / 1000)} s`,
  );
  const before = await measure(empty, sink);
  const after = await measure(withBacklog, sink);
  const rows: BenchRow[] = [];
  const line = (what: string, sorted: (f: Figures) => number[]) => {
    const [e50, e99, b50, b99] = [before, before, after, after].map((f, i) =>
      percentile(sorted(f), i % 2 === 0 ? 50 : 99),
    ) as [number, number, number, number];
    console.log(
      `${name}, ${what}: empty p50 ${fmt(e50, 2)} / p99 ${fmt(e99, 2)} ms; ` +
        `${n} deferred p50 ${fmt(b50, 2)} / p99 ${fmt(b99, 2)} ms`,
    );
    rows.push(
      info(
        `backlog, ${name}: ${what} p50/p99, empty / ${n} deferred`,
        `${fmt(e50, 2)}/${fmt(e99, 2)} / ${fmt(b50, 2)}/${fmt(b99, 2)} ms`,
      ),
    );
    rows.push(atMost(`backlog, ${name}: ${what} p99, deferred / empty`, b99 / e99, 1.5, '×', 2));
  };
  line('sendEmail, 1 client', (f) => f.lone);
  line('sendEmail, 16 clients', (f) => f.sixteen);
  line('/metrics scrape', (f) => f.metrics);
  return rows;
}

export async function runBacklog(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'mailscope-backlog-'));
  const removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const { sink, close } = await startSink();
  try {
    return [
      ...(await dialect('SQLite', sqliteTargets(dir), sink)),
      ...(await dialect('PostgreSQL', await postgresTargets(), sink)),
    ];
  } finally {
    await close();
    await removeDir();
  }
}
