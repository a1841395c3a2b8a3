/**
 * History at scale: a database of BENCH_HISTORY_MESSAGES (1,000,000) messages with their
 * dispatches and events (seeded once through the repository code and cached under .tmp/bench),
 * then the service started on a copy of it: time to ready, the first page of `messages` for each
 * filter, `deliveryStats`, `message(id)` with dispatches, each BENCH_QUERY_RUNS (100) times in a
 * row after 20 untimed runs; other requests' latency while a count reads every message; then
 * BENCH_IDLE_SUBSCRIBERS (1,000) subscribers connect and the service's RSS is read. Start-up on an empty database is measured alongside for comparison.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { onCleanup } from '../lib/cleanup.ts';
import { fmt, median, percentile, positiveInt, printAligned } from '../lib/figures.ts';
import { graphqlData } from '../lib/graphql-client.ts';
import { atMost, info, type BenchRow } from '../lib/report.ts';
import { seededDatabase } from '../lib/seed-history.ts';
import { startServiceProcess } from '../lib/service-process.ts';
import { startSink } from '../lib/sink.ts';
import { startSubscribers } from '../lib/subscribers.ts';

const env = process.env;
const settings = {
  messages: positiveInt('BENCH_HISTORY_MESSAGES', env['BENCH_HISTORY_MESSAGES'], 1_000_000),
  runs: positiveInt('BENCH_QUERY_RUNS', env['BENCH_QUERY_RUNS'], 100),
  subscribers: positiveInt('BENCH_IDLE_SUBSCRIBERS', env['BENCH_IDLE_SUBSCRIBERS'], 1_000),
  startups: positiveInt('BENCH_STARTUPS', env['BENCH_STARTUPS'], 3),
};

const PAGE = `query ($filter: MessageFilter) {
  messages(filter: $filter, first: 50) {
    edges { cursor node { id recipient subject status attempts createdAt lastError { code } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const PAGE_WITH_COUNT = PAGE.replace('pageInfo {', 'totalCount pageInfo {');
const STATS = `query ($since: String) {
  deliveryStats(since: $since) {
    queued sent abandoned cancelled retryScheduled retried attempts failedAttempts
    failuresByCode { code count } failuresByDomain { domain count }
    attemptsPerMessage { attempts messages } timeToSent { count p50Ms p95Ms p99Ms }
    queueDepth processing oldestQueuedAgeMs
  }
}`;
const MESSAGE = `query ($id: ID!) {
  message(id: $id) {
    id recipient subject status attempts messageId createdAt
    lastError { code message responseCode enhancedStatus hint }
    dispatches { attempt succeeded at durationMs response error { code responseCode hint } }
  }
}`;

/** Runs `fn` 20 times untimed (JIT, page cache), then `runs` times timed; sorted latencies, ms. */
async function time(fn: (i: number) => Promise<unknown>, runs: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn(i);
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn(i);
    latencies.push(performance.now() - started);
  }
  return latencies.sort((a, b) => a - b);
}

async function startupMs(
  databasePath: string | undefined,
  env: Record<string, string>,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < settings.startups; i++) {
    const service = await startServiceProcess({
      ...(databasePath ? { databasePath } : {}),
      env,
    });
    try {
      times.push(await service.untilReadyz());
    } finally {
      await service.stop();
    }
  }
  return times;
}

/**
 * What everyone else waits while a dashboard counts a filter that reads every message (a word in
 * every subject): one client asks for such a page with its totalCount, BENCH_STALL_COUNTS (5)
 * times in a row, while another sends `{ __typename }` one after another; the latter's
 * latencies, sorted.
 */
async function requestsWhileCounting(
  url: string,
): Promise<{ latencies: number[]; counts: number; ms: number }> {
  const counts = positiveInt('BENCH_STALL_COUNTS', env['BENCH_STALL_COUNTS'], 5);
  const filter = { subjectContains: 'has shipped' };
  const latencies: number[] = [];
  let counting = true;
  const started = performance.now();
  const dashboard = (async () => {
    try {
      for (let i = 0; i < counts; i++) await graphqlData(url, PAGE_WITH_COUNT, { filter });
    } finally {
      counting = false;
    }
  })();
  while (counting) {
    const sent = performance.now();
    await graphqlData(url, '{ __typename }', {});
    latencies.push(performance.now() - sent);
  }
  await dashboard;
  return { latencies: latencies.sort((a, b) => a - b), counts, ms: performance.now() - started };
}

export async function runHistory(): Promise<BenchRow[]> {
  const n = settings.messages;
  console.log(`history: ${fmt(n)} messages`);
  const seeded = seededDatabase(n);
  console.log(
    seeded.built
      ? `  built ${seeded.path} in ${fmt(seeded.seconds)} s`
      : `  using the cached ${seeded.path}`,
  );
  const sizeMiB = statSync(seeded.path).size / 2 ** 20;
  const dir = mkdtempSync(join(os.tmpdir(), 'mailscope-history-'));
  const removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'mailscope.db');
  copyFileSync(seeded.path, path);
  // /readyz is 503 while no SMTP server is configured. The history's queued messages are due
  // tomorrow, so nothing is sent to this one.
  const { sink, close: closeSink } = await startSink('inline');
  const smtpEnv = {
    SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
  };

  const rows: BenchRow[] = [
    info('database size per 1M messages', `${fmt((sizeMiB * 1e6) / n)} MiB`),
  ];
  try {
    const emptyStart = await startupMs(undefined, smtpEnv);
    const fullStart = await startupMs(path, smtpEnv);
    console.log(
      `  ready after start: empty database ${emptyStart.map((ms) => fmt(ms)).join(' / ')} ms, ` +
        `${fmt(n)} messages ${fullStart.map((ms) => fmt(ms)).join(' / ')} ms`,
    );
    const readyRow = atMost(
      `ready (/readyz 200) on ${fmt(n)} messages`,
      median(fullStart),
      1_500,
      'ms',
      0,
    );
    readyRow.measured += ` (empty database: ${fmt(median(emptyStart))} ms)`;
    rows.push(readyRow);

    const service = await startServiceProcess({
      databasePath: path,
      // Every bench subscriber is the same anonymous caller.
      env: { ...smtpEnv, WS_MAX_OPERATIONS_PER_TOKEN: String(settings.subscribers + 100) },
    });
    try {
      const url = service.url;
      const newest = await graphqlData(url, PAGE, {});
      const sample = newest['messages'].edges[10].node;
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const filters: [string, Record<string, unknown> | null][] = [
        ['none', null],
        ['status SENT', { status: ['SENT'] }],
        ['status QUEUED', { status: ['QUEUED'] }],
        ['status ABANDONED', { status: ['ABANDONED'] }],
        ['recipient', { recipient: sample.recipient.toUpperCase() }],
        ['errorCode RECIPIENT_REJECTED', { errorCode: ['RECIPIENT_REJECTED'] }],
        ['errorCode TIMEOUT', { errorCode: ['TIMEOUT'] }],
        ['everFailed true', { everFailed: true }],
        ['createdAfter 1 h ago', { createdAfter: hourAgo }],
        [
          'createdBefore 15 days ago',
          { createdBefore: new Date(Date.now() - 15 * 86_400_000).toISOString() },
        ],
        ['subjectContains', { subjectContains: 'order 12345' }],
        ['subjectContains, every message', { subjectContains: 'has shipped' }],
        ['smtpConfigVersion 1', { smtpConfigVersion: 1 }],
        [
          'status ABANDONED + errorCode',
          { status: ['ABANDONED'], errorCode: ['RECIPIENT_REJECTED'] },
        ],
      ];
      const table: string[][] = [
        ['messages first page, filter', 'p50 ms', 'p95 ms', 'with totalCount p95 ms'],
      ];
      let worstP95 = 0;
      let worstName = '';
      let worstCountP95 = 0;
      for (const [name, filter] of filters) {
        const plain = await time(() => graphqlData(url, PAGE, { filter }), settings.runs);
        const counted = await time(() => graphqlData(url, PAGE_WITH_COUNT, { filter }), 20);
        const p95 = percentile(plain, 95);
        if (p95 > worstP95) {
          worstP95 = p95;
          worstName = name;
        }
        worstCountP95 = Math.max(worstCountP95, percentile(counted, 95));
        table.push([
          name,
          fmt(percentile(plain, 50), 2),
          fmt(p95, 2),
          fmt(percentile(counted, 95), 1),
        ]);
      }
      printAligned(table);
      const pageRow = atMost('messages first page, worst filter p95', worstP95, 10, 'ms', 2);
      pageRow.measured += ` (${worstName}; ${filters.length} filters)`;
      rows.push(pageRow);
      rows.push(
        info('messages first page with totalCount, worst p95', `${fmt(worstCountP95, 1)} ms`),
      );

      const stalls = await requestsWhileCounting(url);
      console.log(
        `  { __typename } while totalCount reads every message (${fmt(stalls.counts)} counts, ` +
          `${fmt(stalls.ms)} ms): p50 ${fmt(percentile(stalls.latencies, 50), 2)} ms, ` +
          `p99 ${fmt(percentile(stalls.latencies, 99), 2)} ms, max ${fmt(stalls.latencies.at(-1)!, 1)} ms`,
      );
      rows.push(
        atMost(
          'other requests while totalCount reads every message, p99',
          percentile(stalls.latencies, 99),
          50,
          'ms',
          2,
        ),
      );

      const day = await time(() => graphqlData(url, STATS, {}), settings.runs);
      const month = await time(
        () =>
          graphqlData(url, STATS, { since: new Date(Date.now() - 30 * 86_400_000).toISOString() }),
        20,
      );
      console.log(
        `  deliveryStats: 24 h p95 ${fmt(percentile(day, 95), 2)} ms, 30 days p95 ${fmt(percentile(month, 95), 2)} ms`,
      );
      rows.push(atMost('deliveryStats (24 h) p95', percentile(day, 95), 50, 'ms', 2));
      rows.push(atMost('deliveryStats (30 days) p95', percentile(month, 95), 50, 'ms', 2));

      const ids = newest['messages'].edges.map((edge: { node: { id: string } }) => edge.node.id);
      const oldId = '12345';
      const single = await time(
        (i) => graphqlData(url, MESSAGE, { id: i % 2 === 0 ? ids[i % ids.length] : oldId }),
        settings.runs,
      );
      console.log(
        `  message(id) with dispatches: p50 ${fmt(percentile(single, 50), 2)} ms, p95 ${fmt(percentile(single, 95), 2)} ms`,
      );
      rows.push(atMost('message(id) with dispatches p95', percentile(single, 95), 5, 'ms', 2));

      const rssBefore = service.rssMiB();
      const subscribers = await startSubscribers({
        url,
        total: settings.subscribers,
        processes: 2,
      });
      const rssWith = service.rssMiB();
      console.log(
        `  RSS: ${fmt(rssBefore)} MiB after the queries, ${fmt(rssWith)} MiB with ` +
          `${fmt(settings.subscribers)} subscribers (peak ${fmt(service.peakRssMiB())} MiB)`,
      );
      rows.push(
        atMost(
          `RSS with ${fmt(n)} messages and ${fmt(settings.subscribers)} subscribers`,
          rssWith,
          250,
          'MiB',
          0,
        ),
      );
      await subscribers.close();
    } finally {
      await service.stop();
    }
  } finally {
    await closeSink();
    await removeDir();
  }
  return rows;
}
