import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.ts';
import { waitUntil } from './figures.ts';
import type { Sink } from './sink.ts';

/** What bench/raw-process.ts is told to send. */
export interface RawJob {
  host: string;
  port: number;
  n: number;
  warmup: number;
  connections: number;
  from: string;
  body: string;
}

export interface RawRun {
  /** Wall time of the timed part, measured in the sender. */
  ms: number;
  failed: number;
  firstError: string | null;
  /** The sink's count when the timed part began (the warm-up delivered). */
  before: number;
}

/**
 * Runs raw pooled nodemailer in a fresh process (bench/raw-process.ts) against `sink`: its
 * warm-up first, then, once the sink has counted the warm-up, the timed `n` messages. `atGo`
 * and `atDone` run with the sender's pid just before the timed part starts and as soon as it
 * reports the end (the process exits right after), for callers that read its counters.
 */
export async function runRawSender(
  sink: Sink,
  job: RawJob,
  hooks: {
    atGo?: (pid: number) => void;
    atDone?: (pid: number) => void;
    /** Stop the sender and fail after this long. @default no limit */
    timeoutMs?: number;
  } = {},
): Promise<RawRun> {
  const child = fork(
    fileURLToPath(new URL('../raw-process.ts', import.meta.url)),
    [JSON.stringify(job)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const stop = onCleanup(() => {
    if (child.exitCode === null) child.kill();
  });
  try {
    return await new Promise<RawRun>((resolve, reject) => {
      if (hooks.timeoutMs !== undefined) {
        setTimeout(
          () => reject(new Error(`raw nodemailer did not finish within ${hooks.timeoutMs} ms`)),
          hooks.timeoutMs,
        ).unref();
      }
      let before = 0;
      child.once('exit', (code) => reject(new Error(`raw sender exited with ${code}`)));
      child.on(
        'message',
        (message: { type: string; ms?: number; failed?: number; firstError?: string | null }) => {
          if (message.type === 'warm') {
            // Start timing only once the warm-up has been counted, so it can't leak in.
            void waitUntil(() => sink.receivedCount >= job.warmup).then(() => {
              before = sink.receivedCount;
              hooks.atGo?.(child.pid!);
              child.send({ type: 'go' });
            });
          } else if (message.type === 'done') {
            hooks.atDone?.(child.pid!);
            resolve({
              ms: message.ms!,
              failed: message.failed!,
              firstError: message.firstError ?? null,
              before,
            });
          }
        },
      );
    });
  } finally {
    await stop();
  }
}
