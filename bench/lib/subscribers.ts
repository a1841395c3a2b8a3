import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.ts';

/** Per event cursor: when it happened, how many subscribers got it, when the last one did. */
export type Deliveries = Map<
  string,
  { atMs: number; received: number; lastMs: number; recipient: string }
>;

/** Adds `more` (one collect) to `into`: receivers counted, the latest receive time kept. */
export function mergeDeliveries(into: Deliveries, more: Deliveries): Deliveries {
  for (const [cursor, entry] of more) {
    const known = into.get(cursor);
    if (known) {
      known.received += entry.received;
      known.lastMs = Math.max(known.lastMs, entry.lastMs);
    } else {
      into.set(cursor, { ...entry });
    }
  }
  return into;
}

export interface Subscribers {
  /** Every subscriber's events since the previous call, merged over the processes. */
  collect(): Promise<Deliveries>;
  close(): Promise<void>;
}

/**
 * `total` graphql-ws subscribers of messageEvents spread over `processes` child processes
 * (bench/subscriber-process.ts); resolves once every connection is acknowledged.
 */
export async function startSubscribers(options: {
  url: string;
  total: number;
  processes: number;
  /** Subscriber i filters on recipients[i % length]; null for no filter. */
  recipients?: string[] | null;
}): Promise<Subscribers> {
  const children: ChildProcess[] = [];
  const close = onCleanup(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.send({ type: 'close' });
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
  });
  const perProcess = Math.ceil(options.total / options.processes);
  for (let p = 0; p < options.processes; p++) {
    const count = Math.min(perProcess, options.total - p * perProcess);
    if (count <= 0) break;
    // Each process gets its own slice of the recipients so that filters stay one per subscriber.
    const recipients = options.recipients
      ? options.recipients.slice(p * perProcess, p * perProcess + count)
      : null;
    const child = fork(
      fileURLToPath(new URL('../subscriber-process.ts', import.meta.url)),
      [JSON.stringify({ url: options.url, count, recipients })],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    children.push(child);
  }
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`subscriber process exited with ${code}`)));
          const onMessage = (message: { type: string }) => {
            if (message.type !== 'ready') return;
            child.off('message', onMessage);
            child.removeAllListeners('exit');
            resolve();
          };
          child.on('message', onMessage);
        }),
    ),
  );
  return {
    async collect() {
      const merged: Deliveries = new Map();
      const reports = await Promise.all(
        children.map(
          (child) =>
            new Promise<[string, [number, number, number, string]][]>((resolve) => {
              const onMessage = (message: {
                type: string;
                events?: [string, [number, number, number, string]][];
              }) => {
                if (message.type !== 'report') return;
                child.off('message', onMessage);
                resolve(message.events!);
              };
              child.on('message', onMessage);
              child.send({ type: 'report' });
            }),
        ),
      );
      for (const events of reports) {
        mergeDeliveries(
          merged,
          new Map(
            events.map(([cursor, [atMs, received, lastMs, recipient]]) => [
              cursor,
              { atMs, received, lastMs, recipient },
            ]),
          ),
        );
      }
      return merged;
    },
    close,
  };
}
