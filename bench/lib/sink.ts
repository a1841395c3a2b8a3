import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closedByCaller } from '../../test/helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../test/helpers/smtp-server.ts';
import { onCleanup } from './cleanup.ts';
import { clockOffsetMs } from './clock.ts';

/** What a bench needs of a sink: where it listens and how many messages it has accepted. */
export type Sink = Pick<TestSmtpServer, 'host' | 'port' | 'receivedCount'>;

/**
 * `process` (the default) runs the SMTP sink in its own process, so neither the raw client nor
 * the service's HTTP client shares an event loop with the server it sends to; `inline` keeps it
 * in the bench process.
 */
export async function startSink(
  mode: 'process' | 'inline' = 'process',
): Promise<{ sink: Sink; close: () => Promise<void>; pid: number }> {
  if (mode === 'inline') {
    const sink = await startTestSmtpServer(closedByCaller, {
      keepMessages: false,
      recordCommands: false,
    });
    return { sink, close: onCleanup(() => sink.close()), pid: process.pid };
  }
  const { sink, close, child } = await forkSink([]);
  return { sink, close, pid: child.pid! };
}

/** A sink that also knows each message's Message-ID (counted once however often it came). */
export interface TrackingSink extends Sink {
  /** Distinct Message-IDs accepted (a message without one counts as distinct). */
  readonly distinctCount: number;
}

export interface SinkReport {
  received: number;
  distinct: number;
  /** Messages that carried no Message-ID header. */
  withoutId: number;
  /** Message-IDs accepted more than once, with how many copies arrived. */
  duplicated: [messageId: string, copies: number][];
  /** Message-ID -> first arrival, in this process's clock (clock.ts); only when asked for. */
  times: Map<string, number>;
}

/**
 * The sink in its own process, remembering every Message-ID and when it first arrived: double
 * sends are copies of one Message-ID. Costs the sink a header search per message, so a scenario
 * that compares against raw nodemailer uses it on both sides.
 */
export async function startTrackingSink(): Promise<{
  sink: TrackingSink;
  close: () => Promise<void>;
  pid: number;
  report(options?: { times?: boolean }): Promise<SinkReport>;
}> {
  const { sink, close, child } = await forkSink(['track']);
  const offset = await clockOffsetMs(child);
  return {
    sink,
    close,
    pid: child.pid!,
    report: ({ times = false } = {}) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the sink did not report in 10 s')),
          10_000,
        );
        const onMessage = (message: {
          type: string;
          received: number;
          distinct: number;
          withoutId: number;
          duplicated: [string, number][];
          times: [string, number][];
        }) => {
          if (message.type !== 'report') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({
            received: message.received,
            distinct: message.distinct,
            withoutId: message.withoutId,
            duplicated: message.duplicated,
            times: new Map(message.times.map(([id, at]) => [id, at - offset])),
          });
        };
        child.on('message', onMessage);
        child.send({ type: 'report', times });
      }),
  };
}

async function forkSink(
  args: string[],
): Promise<{ sink: TrackingSink; close: () => Promise<void>; child: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('../sink-process.ts', import.meta.url)), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send({ type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });
  const state = { host: '127.0.0.1', port: 0, receivedCount: 0, distinctCount: 0 };
  let onEarlyExit = (_code: number | null) => {};
  try {
    await new Promise<void>((resolve, reject) => {
      onEarlyExit = (code) => reject(new Error(`sink process exited with ${code}`));
      child.once('error', reject);
      child.once('exit', onEarlyExit);
      child.on(
        'message',
        (message: {
          type: string;
          host?: string;
          port?: number;
          count?: number;
          distinct?: number;
        }) => {
          if (message.type === 'ready') {
            state.host = message.host!;
            state.port = message.port!;
            resolve();
          } else if (message.type === 'count') {
            state.receivedCount = message.count!;
            state.distinctCount = message.distinct!;
          }
        },
      );
    });
  } catch (error) {
    await close();
    throw error;
  }
  child.off('exit', onEarlyExit);
  return { sink: state, close, child };
}
