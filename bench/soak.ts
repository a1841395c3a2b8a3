/**
 * Memory soak: `npm run bench:soak` (needs `npm run build:server` first). Whether a service that
 * runs for a long time holds its memory, descriptors and subscriptions steady under everything
 * at once, as a deployment sees it:
 *
 *  - mail at a steady rate through `sendEmail`; the SMTP sink (in this process) refuses 3 % of
 *    the recipients with 550 (they end ABANDONED) and defers another 3 % with 451 half the time
 *    (they are retried, DELIVERY_RETRY_BASE_MS=2000);
 *  - graphql-ws subscribers that keep connecting and disconnecting, a new socket each:
 *    `messageEvents` unfiltered, `messageEvents` filtered on a recipient, `queueStats`;
 *  - history queries (`messages` with filters, `deliveryStats`) five times a second;
 *  - an outgoing webhook endpoint (a receiver in this process) for MESSAGE_SENT and
 *    MESSAGE_ABANDONED;
 *  - retention pruning to RETENTION_MAX_MESSAGES every 15 s, so the database stops growing.
 *
 * Every 10 s it prints one line from its own counters and the service's /metrics; at the end a
 * summary: RSS and both threads' heaps in the second minute against the last one (medians of
 * the samples) with the growth per 100,000 messages between them, open descriptors at the start
 * against after the subscribers are gone and 20 s idle, and the counts. Figures only: it never
 * fails on a figure, only when something does not run (the service does not start, /metrics
 * does not answer).
 *
 * Knobs (environment variables):
 *   BENCH_SOAK_MINUTES        how long the load runs, whole minutes (10); the growth figure
 *                             needs at least 3 (the second and the last minute apart)
 *   BENCH_SOAK_RATE           messages per second (150)
 *   BENCH_SOAK_SUBSCRIBERS    subscribers connected at once (40); 10 % replaced each second
 *   BENCH_SOAK_MAX_MESSAGES   the service's RETENTION_MAX_MESSAGES (30000)
 *   BENCH_SOAK_DATABASE       `sqlite` (a fresh file, the default) or `postgres` (a fresh
 *                             database on PG_BENCH_URL, dropped at the end or on Ctrl-C)
 *   BENCH_SERVICE_FLAGS       Node's flags for the service, e.g. `--trace-gc` (service-process.ts)
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { closedByCaller } from '../test/helpers/scope.ts';
import { startTestSmtpServer, type SmtpReply } from '../test/helpers/smtp-server.ts';
import { cleanupAll, onCleanup, wasInterrupted } from './lib/cleanup.ts';
import { fmt, median, positiveInt, printAligned } from './lib/figures.ts';
import { createLoadClient } from './lib/graphql-client.ts';
import { createBenchDatabase, withAdmin } from './lib/postgres-database.ts';
import { startServiceProcess } from './lib/service-process.ts';
import { startCountingReceiver } from './lib/webhook-receiver.ts';

const env = process.env;
const minutes = positiveInt('BENCH_SOAK_MINUTES', env['BENCH_SOAK_MINUTES'], 10);
const messagesPerSecond = positiveInt('BENCH_SOAK_RATE', env['BENCH_SOAK_RATE'], 150);
const subscriberCount = positiveInt('BENCH_SOAK_SUBSCRIBERS', env['BENCH_SOAK_SUBSCRIBERS'], 40, 0);
const retentionMaxMessages = positiveInt(
  'BENCH_SOAK_MAX_MESSAGES',
  env['BENCH_SOAK_MAX_MESSAGES'],
  30_000,
);
const databaseKind = env['BENCH_SOAK_DATABASE'] || 'sqlite';
if (databaseKind !== 'sqlite' && databaseKind !== 'postgres') {
  console.error(`bench: BENCH_SOAK_DATABASE must be sqlite or postgres, got "${databaseKind}"`);
  process.exit(2);
}

const SAMPLE_EVERY_MS = 10_000;
const SAMPLES_PER_MINUTE = 60_000 / SAMPLE_EVERY_MS;
const loadSamples = minutes * SAMPLES_PER_MINUTE;
/** After the load: subscribers gone, nothing sent; long enough for keep-alive sockets to close. */
const IDLE_MS = 20_000;
/** Beyond it the schedule waits for answers (and drops what falls more than a second late). */
const MAX_SENDS_IN_FLIGHT = 32;
/** Kept-alive sockets the sends and the queries share. */
const HTTP_CONNECTIONS = 8;
const QUERY_PAUSE_MS = 200;
/** Recipients of the ordinary mail: filtered subscribers pick one of them. */
const MAILBOXES = 5_000;
const MiB = 2 ** 20;

const SEND_EMAIL = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;
const HISTORY_QUERIES = [
  `{ messages(first: 20, filter: { status: [SENT], subjectContains: "soak 1" }) {
      totalCount edges { node { id dispatches { response } } } } }`,
  `{ deliveryStats { sent abandoned failuresByCode { code count } timeToSent { p99Ms } } }`,
  `{ messages(first: 5, filter: { everFailed: true }) {
      edges { node { id lastError { code } events { status } } } } }`,
];

/** What this process saw; the service's side comes from /metrics. */
const counts = {
  acknowledged: 0,
  /** Sends skipped because the service was more than a second behind the rate. */
  notSent: 0,
  requestErrors: 0,
  queries: 0,
  subscriptionsOpened: 0,
  /** Subscriptions that ended with an error this process did not cause by closing them. */
  subscriptionErrors: 0,
  events: 0,
};
/** Error message -> how often, to print the distinct ones at the end. */
const errorMessages = new Map<string, number>();

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  // graphql-ws reports a closed socket as its CloseEvent.
  const close = error as { code?: unknown; reason?: unknown } | null;
  if (typeof close?.code === 'number') {
    return `socket closed: ${close.code} ${String(close.reason)}`;
  }
  return JSON.stringify(error)?.slice(0, 300) ?? String(error);
}

function noteError(kind: 'requestErrors' | 'subscriptionErrors', error: unknown): void {
  counts[kind]++;
  const message = `${kind === 'requestErrors' ? 'request' : 'subscription'}: ${describe(error)}`;
  errorMessages.set(message, (errorMessages.get(message) ?? 0) + 1);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The service's neighbours: an SMTP sink and a webhook receiver, both in this process (the load
// is modest, and both count what they got where the lines can read it).

/** `nobody…` is refused for good; `later…` is deferred every other attempt, so most get through. */
function refusal(address: string): SmtpReply | null {
  if (address.startsWith('nobody')) {
    return { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` };
  }
  if (address.startsWith('later') && Math.random() < 0.5) {
    return { code: 451, message: `4.2.0 <${address}>: Try again later` };
  }
  return null;
}

async function startSoakSink() {
  const sink = await startTestSmtpServer(closedByCaller, {
    keepMessages: false,
    recordCommands: false,
    rejectRecipients: refusal,
  });
  return { sink, close: onCleanup(() => sink.close()) };
}

async function startSoakReceiver() {
  const receiver = await startCountingReceiver();
  return { receiver, close: onCleanup(() => receiver.close()) };
}

// ---------------------------------------------------------------------------------------------
// /metrics

interface Sample {
  /** 0 before the load, then k for the sample k × 10 s after it began (idle ones count on). */
  index: number;
  phase: 'start' | 'load' | 'idle';
  acknowledged: number;
  rssMiB: number;
  heapMiB: number;
  deliveryHeapMiB: number;
  externalMiB: number;
  activeSubscriptions: number;
  queueDepth: number;
  storedMessages: number;
  eventLoopLagP99Ms: number;
  deliveryLoopDelayMaxMs: number;
  openFds: number;
  sentEvents: number;
  abandonedEvents: number;
}

/** Series (`name` or `name{labels}`) -> value, from Prometheus's text format. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** One GET of /metrics; a second try after a second, then it fails the soak. */
async function getMetricsText(url: string): Promise<string> {
  try {
    return await getText(`${url}/metrics`);
  } catch {
    await sleep(1_000);
    return getText(`${url}/metrics`);
  }
}

/**
 * A fresh connection for each scrape: a socket kept alive between scrapes 10 s apart outlives the
 * server's 5 s idle timeout, and a request written as the server closes it fails (a scrape with
 * fetch did, a minute into a run).
 */
function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        if (response.statusCode === 200) resolve(Buffer.concat(chunks).toString());
        else reject(new Error(`${url} answered ${response.statusCode}`));
      });
    });
    request.on('error', (error) => reject(new Error(`${url}: ${error.message}`)));
    request.on('timeout', () => request.destroy(new Error('no answer within 30 s')));
  });
}

async function scrape(url: string, phase: Sample['phase'], index: number): Promise<Sample> {
  const series = parseMetrics(await getMetricsText(url));
  const value = (name: string) => series.get(name) ?? Number.NaN;
  let storedMessages = 0;
  for (const [name, count] of series) {
    if (name.startsWith('mailscope_messages{')) storedMessages += count;
  }
  return {
    index,
    phase,
    acknowledged: counts.acknowledged,
    rssMiB: value('process_resident_memory_bytes') / MiB,
    heapMiB: value('nodejs_heap_size_used_bytes') / MiB,
    deliveryHeapMiB: value('mailscope_delivery_thread_heap_used_bytes') / MiB,
    externalMiB: value('nodejs_external_memory_bytes') / MiB,
    activeSubscriptions: value('mailscope_active_subscriptions'),
    queueDepth: value('mailscope_queue_depth'),
    storedMessages,
    eventLoopLagP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1_000,
    deliveryLoopDelayMaxMs: value('mailscope_delivery_thread_event_loop_delay_max_seconds') * 1_000,
    openFds: value('process_open_fds'),
    sentEvents: value('mailscope_message_events_total{status="SENT"}'),
    abandonedEvents: value('mailscope_message_events_total{status="ABANDONED"}'),
  };
}

/** What the service's neighbours in this process received so far. */
interface Received {
  mail: number;
  webhooks: number;
}

function printSample(sample: Sample, seconds: number, received: Received): void {
  console.log(
    `${`${seconds}s`.padStart(6)} ${sample.phase.padEnd(4)}  ` +
      `ack ${fmt(counts.acknowledged)}  sink ${fmt(received.mail)}  ` +
      `hooks ${fmt(received.webhooks)}  errors ${fmt(counts.requestErrors)}  ` +
      `subs opened ${fmt(counts.subscriptionsOpened)}  events ${fmt(counts.events)} | ` +
      `rss ${fmt(sample.rssMiB)} MiB  heap ${fmt(sample.heapMiB, 1)}  ` +
      `thread heap ${fmt(sample.deliveryHeapMiB, 1)}  external ${fmt(sample.externalMiB, 1)}  ` +
      `active subs ${fmt(sample.activeSubscriptions)}  queue ${fmt(sample.queueDepth)}  ` +
      `stored ${fmt(sample.storedMessages)}  lag p99 ${fmt(sample.eventLoopLagP99Ms, 1)} ms  ` +
      `thread loop max ${fmt(sample.deliveryLoopDelayMaxMs)} ms  fds ${fmt(sample.openFds)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The load

type GraphQLLoadClient = ReturnType<typeof createLoadClient>;

async function request(
  client: GraphQLLoadClient,
  query: string,
  variables?: Record<string, unknown>,
): Promise<boolean> {
  try {
    const body = await client.graphql(query, variables);
    if (!body.errors) return true;
    noteError('requestErrors', new Error(body.errors[0]!.message));
  } catch (error) {
    noteError('requestErrors', error);
  }
  return false;
}

/** 3 % refused for good, 3 % deferred now and then, the rest to a few thousand mailboxes. */
function recipientOf(i: number): string {
  const draw = Math.random();
  if (draw < 0.03) return `nobody${i}@example.com`;
  if (draw < 0.06) return `later${i}@example.com`;
  return `user${i % MAILBOXES}@example.com`;
}

/**
 * Sends on a schedule (open loop), not one after another: a slow answer does not slow the rate.
 * Sizes vary from message to message so the service's buffers do not settle on one size.
 */
async function sendSteadily(client: GraphQLLoadClient, isOver: () => boolean): Promise<void> {
  const started = performance.now();
  let issued = 0;
  let inFlight = 0;
  while (!isOver()) {
    const due = Math.floor(((performance.now() - started) * messagesPerSecond) / 1_000);
    // More than a second behind: those messages are dropped rather than sent in a burst later.
    if (due - issued > messagesPerSecond) {
      counts.notSent += due - messagesPerSecond - issued;
      issued = due - messagesPerSecond;
    }
    while (issued < due && inFlight < MAX_SENDS_IN_FLIGHT) {
      const i = issued++;
      inFlight++;
      const input = {
        to: recipientOf(i),
        subject: `soak ${i} ${'x'.repeat(i % 200)}`,
        text: 'hello '.repeat(50 + (i % 300)),
      };
      void request(client, SEND_EMAIL, { input }).then((ok) => {
        if (ok) counts.acknowledged++;
        inFlight--;
      });
    }
    await sleep(5);
  }
  while (inFlight > 0) await sleep(5);
}

async function queryHistory(client: GraphQLLoadClient, isOver: () => boolean): Promise<void> {
  while (!isOver()) {
    for (const query of HISTORY_QUERIES) {
      if (await request(client, query)) counts.queries++;
    }
    await sleep(QUERY_PAUSE_MS);
  }
}

interface Subscriber {
  client: Client;
  /** Set before this process closes it, so the error that may follow is not counted. */
  closing: boolean;
  unsubscribe: () => void;
}

/** Half unfiltered `messageEvents`, 30 % filtered on one mailbox, 20 % `queueStats`. */
function subscriptionQuery(): string {
  const draw = Math.random();
  if (draw < 0.5) return `subscription { messageEvents { cursor status } }`;
  if (draw < 0.8) {
    const mailbox = `user${Math.floor(Math.random() * MAILBOXES)}@example.com`;
    return `subscription { messageEvents(filter: { recipient: "${mailbox}" }) { cursor } }`;
  }
  return `subscription { queueStats(intervalMs: 250) { sent queueDepth } }`;
}

function createSubscriberPool(serviceUrl: string) {
  const live: Subscriber[] = [];
  const close = async (subscriber: Subscriber) => {
    subscriber.closing = true;
    subscriber.unsubscribe();
    await subscriber.client.dispose();
  };
  const open = () => {
    // Lazy (the default): the socket opens with the subscription and closes with the client.
    const client = createClient({
      url: `${serviceUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const subscriber: Subscriber = { client, closing: false, unsubscribe: () => {} };
    subscriber.unsubscribe = client.subscribe(
      { query: subscriptionQuery() },
      {
        next: () => void counts.events++,
        error: (error) => {
          if (!subscriber.closing) noteError('subscriptionErrors', error);
        },
        complete: () => {},
      },
    );
    counts.subscriptionsOpened++;
    live.push(subscriber);
  };
  const closeAll = async () => {
    await Promise.all(live.splice(0).map(close));
  };
  return {
    /** Opens the pool, then replaces its oldest tenth every second until the load is over. */
    async churn(isOver: () => boolean) {
      const replacedPerSecond = Math.max(1, Math.round(subscriberCount / 10));
      for (let k = 0; k < subscriberCount; k++) open();
      while (!isOver()) {
        await sleep(1_000);
        if (isOver() || subscriberCount === 0) continue;
        for (const subscriber of live.splice(0, replacedPerSecond)) void close(subscriber);
        for (let k = 0; k < replacedPerSecond; k++) open();
      }
      await closeAll();
    },
    closeAll,
  };
}

// ---------------------------------------------------------------------------------------------
// The summary

function windowOf(samples: readonly Sample[], firstIndex: number, lastIndex: number): Sample[] {
  return samples.filter((s) => s.phase === 'load' && s.index >= firstIndex && s.index <= lastIndex);
}

function printSummary(
  samples: readonly Sample[],
  atStart: Sample,
  afterIdle: Sample,
  webhookRequests: number,
): void {
  // The first minute is left out: caches, JIT and pools are still filling then.
  const early = windowOf(samples, SAMPLES_PER_MINUTE + 1, 2 * SAMPLES_PER_MINUTE);
  const late = windowOf(samples, loadSamples - SAMPLES_PER_MINUTE + 1, loadSamples);
  const acknowledgedBetween =
    median(late.map((s) => s.acknowledged)) - median(early.map((s) => s.acknowledged));
  const memoryRow = (label: string, read: (sample: Sample) => number): string[] => {
    const before = median(early.map(read));
    const after = median(late.map(read));
    const growth =
      acknowledgedBetween > 0 ? ((after - before) / acknowledgedBetween) * 100_000 : Number.NaN;
    return [label, fmt(before, 1), fmt(after, 1), fmt(growth, 2)];
  };
  console.log('');
  printAligned([
    ['memory (medians of the samples), MiB', 'second minute', 'last minute', 'per 100k msgs'],
    memoryRow('RSS', (s) => s.rssMiB),
    memoryRow('main thread heap used', (s) => s.heapMiB),
    memoryRow('delivery thread heap used', (s) => s.deliveryHeapMiB),
  ]);
  if (minutes < 3) {
    console.log(
      `(the second and the last minute are not apart in a ${minutes}-minute run: no growth figure)`,
    );
  } else {
    console.log(`(growth over ${fmt(acknowledgedBetween)} messages between the two medians)`);
  }
  console.log('');
  printAligned([
    ['figure', 'value'],
    [
      'open fds: at the start / after the load and 20 s idle',
      `${fmt(atStart.openFds)} / ${fmt(afterIdle.openFds)}`,
    ],
    ['messages acknowledged', fmt(counts.acknowledged)],
    ['messages delivered (SENT)', fmt(afterIdle.sentEvents)],
    ['messages abandoned', fmt(afterIdle.abandonedEvents)],
    ['messages queued at the end (retries not yet due)', fmt(afterIdle.queueDepth)],
    [
      'messages stored at the end (retention cap)',
      `${fmt(afterIdle.storedMessages)} (${fmt(retentionMaxMessages)})`,
    ],
    ['messages not sent (service over a second behind)', fmt(counts.notSent)],
    ['request errors (should be 0)', fmt(counts.requestErrors)],
    ['subscription errors', fmt(counts.subscriptionErrors)],
    ['history queries', fmt(counts.queries)],
    ['subscriptions opened', fmt(counts.subscriptionsOpened)],
    ['events received', fmt(counts.events)],
    ['webhook requests received', fmt(webhookRequests)],
    [
      'mailscope_active_subscriptions back to 0',
      afterIdle.activeSubscriptions === 0 ? 'yes' : `no (${fmt(afterIdle.activeSubscriptions)})`,
    ],
  ]);
  for (const [message, count] of errorMessages) console.log(`  ${count} × ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const database = databaseKind === 'postgres' ? await createFreshPostgresDatabase() : null;
  try {
    const { sink, close: closeSink } = await startSoakSink();
    const { receiver, close: closeReceiver } = await startSoakReceiver();
    const received = (): Received => ({ mail: sink.receivedCount, webhooks: receiver.count });
    const service = await startServiceProcess({
      env: {
        SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        RETENTION_MAX_MESSAGES: String(retentionMaxMessages),
        RETENTION_INTERVAL_MS: '15000',
        DELIVERY_RETRY_BASE_MS: '2000',
        ...(database ? { DATABASE_URL: database.url } : {}),
      },
    });
    const client = createLoadClient(service.url, HTTP_CONNECTIONS);
    const closeClient = onCleanup(() => client.close());
    const subscribers = createSubscriberPool(service.url);
    const closeSubscribers = onCleanup(() => subscribers.closeAll());
    try {
      await service.untilReadyz();
      const created = await client.graphql(
        `mutation ($url: String!) { createWebhookEndpoint(input: { url: $url,
          events: [MESSAGE_SENT, MESSAGE_ABANDONED] }) { endpoint { id } } }`,
        { url: receiver.url },
      );
      if (created.errors) throw new Error(`createWebhookEndpoint: ${created.errors[0]!.message}`);
      console.log(
        `soak: ${minutes} min on ${databaseKind}${database ? ` (${database.name})` : ''}, ` +
          `${messagesPerSecond} msgs/s, ${subscriberCount} subscribers (10 % replaced each ` +
          `second), RETENTION_MAX_MESSAGES ${retentionMaxMessages}; service pid ${service.pid}`,
      );
      const atStart = await scrape(service.url, 'start', 0);
      printSample(atStart, 0, received());

      const samples: Sample[] = [];
      let loadOver = false;
      const isOver = () => loadOver;
      const started = performance.now();
      // Samples are taken on a fixed grid from the start, so sample k is at k × 10 s whatever
      // the scrapes cost; the last load sample ends the load.
      const sampleLoad = async () => {
        for (let k = 1; k <= loadSamples; k++) {
          await sleep(started + k * SAMPLE_EVERY_MS - performance.now());
          const sample = await scrape(service.url, 'load', k);
          samples.push(sample);
          printSample(sample, (k * SAMPLE_EVERY_MS) / 1_000, received());
        }
        loadOver = true;
      };
      await Promise.all([
        sampleLoad().finally(() => (loadOver = true)),
        sendSteadily(client, isOver),
        queryHistory(client, isOver),
        subscribers.churn(isOver),
      ]);

      const idleFrom = performance.now();
      let afterIdle = atStart;
      for (let k = 1; k <= IDLE_MS / SAMPLE_EVERY_MS; k++) {
        await sleep(idleFrom + k * SAMPLE_EVERY_MS - performance.now());
        afterIdle = await scrape(service.url, 'idle', loadSamples + k);
        printSample(afterIdle, minutes * 60 + (k * SAMPLE_EVERY_MS) / 1_000, received());
      }
      printSummary(samples, atStart, afterIdle, receiver.count);
    } finally {
      await closeSubscribers();
      await closeClient();
      const shutdown = await service.stop();
      if (shutdown && shutdown.code !== 0) {
        console.log(
          `service exited with ${shutdown.code ?? shutdown.signal}: ${shutdown.lastLine}`,
        );
      }
      await closeReceiver();
      await closeSink();
    }
  } finally {
    await database?.drop();
  }
}

/** Fails at once, naming where it looked, when no PostgreSQL answers there. */
async function createFreshPostgresDatabase() {
  await withAdmin((client) => client.query('SELECT 1'));
  return createBenchDatabase();
}

main()
  .catch((error: unknown) => {
    // The helpers' messages say what to do (e.g. run `npm run build:server` when dist/main.js
    // is missing) and carry the service's output when it failed to start: a stack adds nothing.
    if (!wasInterrupted()) {
      console.error(
        `bench: soak failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
