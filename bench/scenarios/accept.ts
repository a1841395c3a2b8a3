/**
 * Accept: how fast the service acknowledges mail, i.e. stores it QUEUED and answers. sendEmail
 * one message per request (BENCH_ACCEPT_CONCURRENCY = 64 in flight), then sendEmails with
 * BENCH_BATCH (1,000) messages per request (4 in flight). The worker delivers to a local sink
 * meanwhile, as it would in production, so acceptance competes with delivery for the CPU.
 * Knobs: BENCH_ACCEPT_MESSAGES (10,000 single), BENCH_BATCH_MESSAGES (100,000 batched),
 * BENCH_CPU_PROF=<dir> (profile the service), BENCH_CLIENT=node-http (node:http instead of the lean
 * client, see lib/lean-http-client.ts).
 */
import { fmt, percentile, positiveInt, rate } from '../lib/figures.ts';
import { createLoadClient, type GraphQLBody } from '../lib/graphql-client.ts';
import { runConcurrently, type LoadResult } from '../lib/load.ts';
import { atLeast, type BenchRow } from '../lib/report.ts';
import { startServiceProcess } from '../lib/service-process.ts';
import { startSink } from '../lib/sink.ts';

const env = process.env;
const settings = {
  single: positiveInt('BENCH_ACCEPT_MESSAGES', env['BENCH_ACCEPT_MESSAGES'], 10_000),
  concurrency: positiveInt('BENCH_ACCEPT_CONCURRENCY', env['BENCH_ACCEPT_CONCURRENCY'], 64),
  batched: positiveInt('BENCH_BATCH_MESSAGES', env['BENCH_BATCH_MESSAGES'], 100_000),
  batchSize: positiveInt('BENCH_BATCH', env['BENCH_BATCH'], 1_000),
};

const SEND_ONE = 'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }';
const SEND_MANY = 'mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }';

const mail = (i: number, tag: string) => ({
  to: `rcpt${i % 5_000}@example.com`,
  subject: `Accept ${tag} ${i}`,
  text: `Message ${i} of the accept benchmark.`,
});

type LoadClient = ReturnType<typeof createLoadClient>;

async function check(client: LoadClient, query: string, variables: Record<string, unknown>) {
  const body: GraphQLBody = await client.graphql(query, variables);
  if (body.errors) throw new Error(body.errors[0]!.message);
}

function describe(label: string, messages: number, result: LoadResult): void {
  console.log(
    `${label}: ${fmt(messages)} messages in ${fmt(result.wallMs)} ms = ` +
      `${fmt(rate(messages, result.wallMs))} msgs/s; request p50 ` +
      `${fmt(percentile(result.latencies, 50), 1)} ms, p95 ${fmt(percentile(result.latencies, 95), 1)} ms` +
      (result.failed > 0 ? `; ${result.failed} failed, first: ${result.firstError}` : ''),
  );
}

export async function runAccept(): Promise<BenchRow[]> {
  const { sink, close } = await startSink();
  const service = await startServiceProcess({
    env: { SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true` },
    cpuProfDir: env['BENCH_CPU_PROF'] || null,
  });
  // As many sockets as requests in flight (lean-http-client.ts).
  const client = createLoadClient(service.url, settings.concurrency);
  try {
    // Warm-up: JIT and SQLite pages, both mutations.
    await runConcurrently(1_000, settings.concurrency, (i) =>
      check(client, SEND_ONE, { input: mail(i, 'warm-up') }),
    );
    await check(client, SEND_MANY, {
      inputs: Array.from({ length: settings.batchSize }, (_, i) => mail(i, 'warm-up batch')),
    });

    const single = await runConcurrently(settings.single, settings.concurrency, (i) =>
      check(client, SEND_ONE, { input: mail(i, 'single') }),
    );
    describe('sendEmail', single.ok, single);

    const batches = Math.ceil(settings.batched / settings.batchSize);
    const payloads = Array.from({ length: batches }, (_, b) => ({
      inputs: Array.from({ length: settings.batchSize }, (_, i) =>
        mail(b * settings.batchSize + i, 'batch'),
      ),
    }));
    const batched = await runConcurrently(batches, 4, (b) =>
      check(client, SEND_MANY, payloads[b]!),
    );
    describe('sendEmails', batched.ok * settings.batchSize, batched);

    return [
      atLeast(
        'sendEmail acknowledged (64 in flight)',
        rate(single.ok, single.wallMs),
        3_000,
        'msgs/s',
      ),
      atLeast(
        `sendEmails acknowledged (${settings.batchSize} per call)`,
        rate(batched.ok * settings.batchSize, batched.wallMs),
        20_000,
        'msgs/s',
      ),
    ];
  } finally {
    client.close();
    await service.stop();
    await close();
  }
}
