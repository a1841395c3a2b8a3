// The raw baseline in a fresh process of its own, started anew each round like the service, so
// that neither side runs with a JIT warmed by earlier rounds. Sends `warmup` untimed messages,
// then `n` timed ones, with a pooled nodemailer transport; reports the wall time over IPC.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTransport } from 'nodemailer';
import type { RawJob } from './lib/raw-sender.ts';

const job = JSON.parse(process.argv[2]!) as RawJob;
const transport = createTransport({
  host: job.host,
  port: job.port,
  secure: false,
  ignoreTLS: true,
  pool: true,
  maxConnections: job.connections,
  maxMessages: Infinity,
});

let failed = 0;
let firstError: string | null = null;
const send = (i: number, tag: string) =>
  transport
    .sendMail({
      from: job.from,
      messageId: `<${randomUUID()}@mailscope.localhost>`,
      to: `rcpt${i}@example.com`,
      subject: `Bench ${tag} message ${i}`,
      text: job.body,
    })
    .catch((error: unknown) => {
      failed++;
      firstError ??= error instanceof Error ? error.message : String(error);
    });

await Promise.all(Array.from({ length: job.warmup }, (_, i) => send(i, 'warm-up')));
failed = 0;
firstError = null;
process.send!({ type: 'warm' });
await new Promise<void>((resolve) => process.once('message', () => resolve()));
const t0 = performance.now();
await Promise.all(Array.from({ length: job.n }, (_, i) => send(i, 'raw')));
const ms = performance.now() - t0;
transport.close();
process.send!({ type: 'done', ms, failed, firstError }, () => process.exit(0));
