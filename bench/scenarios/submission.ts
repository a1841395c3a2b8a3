/**
 * Submission: messages/s an application submits to mailscope over SMTP (nodemailer, pooled, 8
 * connections, AUTH with a SEND token), against the same client sending straight to the sink,
 * in one run. A submission's 250 comes only once the message is stored, so this is the rate at
 * which mail is durably accepted; the worker delivers to the sink meanwhile, competing for the
 * CPU as it would in production. Knobs: BENCH_SUBMIT_MESSAGES (5,000),
 * BENCH_SUBMIT_IN_FLIGHT (64 sendMail calls in flight over the 8 connections), BENCH_CPU_PROF=<dir>
 * (profile the service).
 */
import { createServer } from 'node:net';
import nodemailer from 'nodemailer';
import { fmt, percentile, positiveInt, rate, waitUntil } from '../lib/figures.ts';
import { runConcurrently, type LoadResult } from '../lib/load.ts';
import type { BenchRow } from '../lib/report.ts';
import { startServiceProcess } from '../lib/service-process.ts';
import { startSink } from '../lib/sink.ts';

const env = process.env;
const settings = {
  messages: positiveInt('BENCH_SUBMIT_MESSAGES', env['BENCH_SUBMIT_MESSAGES'], 5_000),
  inFlight: positiveInt('BENCH_SUBMIT_IN_FLIGHT', env['BENCH_SUBMIT_IN_FLIGHT'], 64),
};
const CONNECTIONS = 8;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const mail = (i: number) => ({
  from: 'app@example.com',
  to: `rcpt${i % 5_000}@example.com`,
  subject: `Submission ${i}`,
  text: `Message ${i} of the submission benchmark.\n`,
});

function pooled(port: number, auth: { user: string; pass: string } | null) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    pool: true,
    maxConnections: CONNECTIONS,
    maxMessages: Infinity,
    // Loopback: cleartext, as an application beside mailscope would (AUTH is allowed there).
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
  });
}

async function sendAll(transport: ReturnType<typeof pooled>, count: number, tag: string) {
  const result = await runConcurrently(count, settings.inFlight, async (i) => {
    await transport.sendMail(mail(i));
  });
  console.log(
    `${tag}: ${fmt(result.ok)} messages in ${fmt(result.wallMs)} ms = ` +
      `${fmt(rate(result.ok, result.wallMs))} msgs/s; sendMail p50 ` +
      `${fmt(percentile(result.latencies, 50), 1)} ms, p95 ${fmt(percentile(result.latencies, 95), 1)} ms` +
      (result.failed > 0 ? `; ${result.failed} failed, first: ${result.firstError}` : ''),
  );
  return result;
}

export async function runSubmission(): Promise<BenchRow[]> {
  const { sink, close } = await startSink();
  const submissionPort = await freePort();
  const service = await startServiceProcess({
    env: {
      SMTP_CONNECTION_URI: `smtp://127.0.0.1:${sink.port}/?disable_starttls=true`,
      SUBMISSION_PORT: String(submissionPort),
    },
    cpuProfDir: env['BENCH_CPU_PROF'] || null,
  });
  const transports: ReturnType<typeof pooled>[] = [];
  try {
    // No token exists yet, so a loopback caller may create the first one.
    const created = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { createApiToken(name: "bench", scope: SEND) { token } }',
      }),
    });
    const body = (await created.json()) as { data?: { createApiToken: { token: string } } };
    const token = body.data?.createApiToken.token;
    if (!token) throw new Error(`could not create a SEND token: ${JSON.stringify(body)}`);

    const direct = pooled(sink.port, null);
    const submitted = pooled(submissionPort, { user: 'bench', pass: token });
    transports.push(direct, submitted);
    // Warm-up: connections, JIT, SQLite pages.
    await sendAll(direct, 500, 'warm-up direct');
    await sendAll(submitted, 500, 'warm-up submission');

    const straight: LoadResult = await sendAll(direct, settings.messages, 'straight to the sink');
    const viaMailscope = await sendAll(submitted, settings.messages, 'submitted to mailscope');
    // Delivery catches up: every submitted message reaches the sink.
    const expected = 500 + straight.ok + 500 + viaMailscope.ok;
    const delivered = await waitUntil(() => sink.receivedCount >= expected, 120_000, 20);
    console.log(
      delivered
        ? `every submitted message reached the sink (${fmt(sink.receivedCount)} in all)`
        : `only ${fmt(sink.receivedCount)} of ${fmt(expected)} reached the sink within 120 s`,
    );
    const directRate = rate(straight.ok, straight.wallMs);
    const submittedRate = rate(viaMailscope.ok, viaMailscope.wallMs);
    const ratio = submittedRate / directRate;
    return [
      {
        figure: `SMTP submission, ${CONNECTIONS} pooled connections (vs same client to the sink)`,
        target: '>= 0.50 x direct',
        measured: `${fmt(submittedRate)} vs ${fmt(directRate)} msgs/s = ${fmt(ratio, 2)} x`,
        ratio: viaMailscope.failed > 0 || !delivered ? Number.NaN : ratio / 0.5,
      },
    ];
  } finally {
    for (const transport of transports) transport.close();
    await service.stop();
    await close();
  }
}
