/**
 * Latency: one call at a time, as an application sends a password-reset mail inside a user's
 * request. `{ __typename }` (the HTTP and GraphQL path alone) and `sendEmail` (that path plus
 * the durable enqueue) over the same kept-alive node:http connections, in alternating rounds so
 * that both see the same machine; at 1, 16 and 64 clients, on SQLite and PostgreSQL. The worker
 * delivers to a local sink meanwhile. Also: start-up to /readyz 200 of the build and of the
 * sources, and the first 5,000 messages after a start.
 * Knobs: BENCH_LATENCY_CALLS (2,000 per round and kind), BENCH_LATENCY_ROUNDS (3).
 */
import { fmt, percentile, positiveInt } from '../lib/figures.ts';
import { graphql } from '../lib/graphql-client.ts';
import { runConcurrently, type LoadResult } from '../lib/load.ts';
import { createBenchDatabase } from '../lib/postgres-database.ts';
import { atMost, info, type BenchRow } from '../lib/report.ts';
import { startServiceProcess } from '../lib/service-process.ts';
import { startSink } from '../lib/sink.ts';

const env = process.env;
const settings = {
  calls: positiveInt('BENCH_LATENCY_CALLS', env['BENCH_LATENCY_CALLS'], 2_000),
  rounds: positiveInt('BENCH_LATENCY_ROUNDS', env['BENCH_LATENCY_ROUNDS'], 3),
};
const CLIENTS = [1, 16, 64] as const;

const TYPENAME = '{ __typename }';
const SEND = 'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }';

let sequence = 0;
const mail = () => {
  const i = sequence++;
  return { to: `rcpt${i % 5_000}@example.com`, subject: `Latency ${i}`, text: `Message ${i}.` };
};

async function call(url: string, query: string, variables?: Record<string, unknown>) {
  const body = await graphql(url, query, variables);
  if (body.errors) throw new Error(body.errors[0]!.message);
}

interface Pair {
  typename: number[];
  send: number[];
}

async function measure(url: string, clients: number): Promise<Pair> {
  const pair: Pair = { typename: [], send: [] };
  const keep = (into: number[], result: LoadResult) => {
    if (result.failed > 0) throw new Error(`${result.failed} calls failed: ${result.firstError}`);
    into.push(...result.latencies);
  };
  for (let round = 0; round < settings.rounds; round++) {
    keep(pair.typename, await runConcurrently(settings.calls, clients, () => call(url, TYPENAME)));
    keep(
      pair.send,
      await runConcurrently(settings.calls, clients, () => call(url, SEND, { input: mail() })),
    );
  }
  pair.typename.sort((a, b) => a - b);
  pair.send.sort((a, b) => a - b);
  return pair;
}

async function timeToReady(options: Parameters<typeof startServiceProcess>[0]) {
  const service = await startServiceProcess(options);
  try {
    const ms = await service.untilReadyz();
    return { ms, rss: service.rssMiB() };
  } finally {
    await service.stop();
  }
}

async function dialect(name: 'SQLite' | 'PostgreSQL', sinkPort: number): Promise<BenchRow[]> {
  const database = name === 'PostgreSQL' ? await createBenchDatabase() : null;
  const service = await startServiceProcess({
    env: {
      SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sinkPort}/?disable_starttls=true`,
      ...(database ? { DATABASE_URL: database.url } : {}),
    },
  });
  const rows: BenchRow[] = [];
  try {
    // Warm-up: JIT, pages, pooled connections.
    await runConcurrently(500, 4, () => call(service.url, TYPENAME));
    await runConcurrently(500, 4, () => call(service.url, SEND, { input: mail() }));
    for (const clients of CLIENTS) {
      const pair = await measure(service.url, clients);
      const figure = (p: number) => ({
        typename: percentile(pair.typename, p),
        send: percentile(pair.send, p),
      });
      const p50 = figure(50);
      const p99 = figure(99);
      console.log(
        `${name}, ${clients} client(s): { __typename } p50 ${fmt(p50.typename, 2)} ms, p99 ${fmt(p99.typename, 2)} ms; ` +
          `sendEmail p50 ${fmt(p50.send, 2)} ms, p99 ${fmt(p99.send, 2)} ms; ratio p50 ${fmt(p50.send / p50.typename, 2)} ×, p99 ${fmt(p99.send / p99.typename, 2)} ×`,
      );
      if (clients === 1) {
        rows.push(
          atMost(
            `${name}: sendEmail / __typename p50, 1 client`,
            p50.send / p50.typename,
            name === 'SQLite' ? 2 : 3,
            '×',
            2,
          ),
        );
        if (name === 'SQLite') {
          rows.push(
            atMost(
              `${name}: sendEmail / __typename p99, 1 client`,
              p99.send / p99.typename,
              4,
              '×',
              2,
            ),
          );
        }
      } else if (clients === 16) {
        rows.push(atMost(`${name}: sendEmail p99, 16 clients`, p99.send, 25, 'ms', 1));
      }
      rows.push(
        info(
          `${name}: p50/p99 at ${clients} client(s)`,
          `__typename ${fmt(p50.typename, 2)}/${fmt(p99.typename, 2)} ms, sendEmail ${fmt(p50.send, 2)}/${fmt(p99.send, 2)} ms`,
        ),
      );
    }
  } finally {
    await service.stop();
    await database?.drop();
  }
  return rows;
}

export async function runLatency(): Promise<BenchRow[]> {
  const { sink, close } = await startSink();
  const rows: BenchRow[] = [];
  try {
    const smtp = { SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true` };
    const built = await timeToReady({ env: smtp });
    const sources = await timeToReady({ env: smtp, fromSources: true });
    console.log(
      `start-up to /readyz 200, empty database: build ${fmt(built.ms)} ms (RSS ${fmt(built.rss)} MiB), ` +
        `sources through tsx ${fmt(sources.ms)} ms (RSS ${fmt(sources.rss)} MiB)`,
    );
    rows.push(atMost('start-up to /readyz 200 (build, empty database)', built.ms, 1_000, 'ms', 0));
    rows.push(info('start-up through tsx (sources)', `${fmt(sources.ms)} ms`));
    rows.push(
      info('RSS at idle after start (build / tsx)', `${fmt(built.rss)} / ${fmt(sources.rss)} MiB`),
    );
    rows.push(...(await dialect('SQLite', sink.port)));
    rows.push(...(await dialect('PostgreSQL', sink.port)));
  } finally {
    await close();
  }
  return rows;
}
