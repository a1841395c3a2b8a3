import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../thread-entry.ts';
import type { MessageListFilter } from '../message-filter.ts';
import type { CountReply, CountRequest, CountThreadData } from './count-thread.ts';

export interface CountThread {
  /** How many messages match `filter`, counted on the thread's own read-only connection. */
  count(filter: MessageListFilter): Promise<number>;
  /** Ends the thread (waiting counts fail). */
  close(): Promise<void>;
}

/**
 * The count thread of the database file at `path` (count-thread.ts), started at the first count
 * and again after it failed. A count sees every transaction committed before it was asked (WAL:
 * each read starts from the last commit). The thread keeps no process alive.
 */
export function createCountThread(path: string): CountThread {
  let thread: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();

  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };

  const started = (): Worker => {
    if (thread !== null) return thread;
    const entry = threadEntry(import.meta.url, 'count-thread');
    const data: CountThreadData = { path };
    const spawned = new Worker(entry.code, { eval: entry.eval, workerData: data });
    spawned.unref();
    spawned.on('message', (reply: CountReply) => {
      const request = waiting.get(reply.id);
      if (request === undefined) return;
      waiting.delete(reply.id);
      if ('count' in reply) request.resolve(reply.count);
      else
        request.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    // A thread that failed (it could not open the file, say) is started again by the next count.
    const ended = (error: Error) => {
      if (thread === spawned) thread = null;
      failAll(error);
    };
    spawned.on('error', ended);
    spawned.on('exit', (code) => ended(new Error(`the count thread exited (code ${code})`)));
    thread = spawned;
    return spawned;
  };

  return {
    count(filter) {
      return new Promise<number>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        const request: CountRequest = { id, filter };
        started().postMessage(request);
      });
    },
    async close() {
      const running = thread;
      thread = null;
      if (running !== null) await running.terminate();
      failAll(new Error('the storage is closed'));
    },
  };
}
