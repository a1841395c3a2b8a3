import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closedByCaller } from '../../test/helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../test/helpers/smtp-server.ts';
import { onCleanup } from './cleanup.ts';

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
  const child = fork(fileURLToPath(new URL('../sink-process.ts', import.meta.url)), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const state = { host: '127.0.0.1', port: 0, receivedCount: 0 };
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sink process exited with ${code}`)));
    child.on(
      'message',
      (message: { type: string; host?: string; port?: number; count?: number }) => {
        if (message.type === 'ready') {
          state.host = message.host!;
          state.port = message.port!;
          resolve();
        } else if (message.type === 'count') {
          state.receivedCount = message.count!;
        }
      },
    );
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    sink: state,
    close: onCleanup(async () => {
      child.send({ type: 'close' });
      await exited;
    }),
    pid: child.pid!,
  };
}
