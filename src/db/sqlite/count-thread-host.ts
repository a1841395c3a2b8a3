import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../thread-entry.ts';
import type { MessageListFilter } from '../message-filter.ts';
import type { CountReply, CountRequest, CountThreadData } from './count-thread.ts';

export interface CountThread {
  /** How many messages match `filter`, counted on the thread's own read-only connection. */
  count(filter: MessageListFilter): Promise<number>;
  /** Whether a thread is running now (it ends when idle, and starts at the next count). */
  running(): boolean;
  /** Ends the thread (waiting counts fail). */
  close(): Promise<void>;
}

export interface CountThreadOptions {
  /**
   * A thread with nothing to count for this long ends, and gives back its memory (its heap and
   * page cache, about 30 MiB); the next count starts another. @default 60_000
   */
  idleMs?: number;
}

type Waiting = Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>;

/**
 * The count thread of the database file at `path` (count-thread.ts), started at the first count,
 * again after it failed, and after it ended for idleness. A count sees every transaction
 * committed before it was asked (WAL: each read starts from the last commit). The thread keeps
 * no process alive.
 */
export function createCountThread(path: string, options: CountThreadOptions = {}): CountThread {
  const idleMs = options.idleMs ?? 60_000;
  let current: { worker: Worker; waiting: Waiting } | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let nextId = 1;

  const stopIdleTimer = () => {
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = null;
  };

  function start(): { worker: Worker; waiting: Waiting } {
    const entry = threadEntry(import.meta.url, 'count-thread');
    const data: CountThreadData = { path };
    const worker = new Worker(entry.code, { eval: entry.eval, workerData: data });
    worker.unref();
    // Each thread answers only what was asked of it: one that failed takes its own counts with
    // it, not those of the thread started after it.
    const started = { worker, waiting: new Map() as Waiting };
    worker.on('message', (reply: CountReply) => {
      const request = started.waiting.get(reply.id);
      if (request === undefined) return;
      started.waiting.delete(reply.id);
      if ('count' in reply) request.resolve(reply.count);
      else {
        request.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      }
      if (started.waiting.size === 0 && current === started) {
        stopIdleTimer();
        idleTimer = setTimeout(() => {
          idleTimer = null;
          if (current !== started || started.waiting.size > 0) return;
          current = null;
          void worker.terminate();
        }, idleMs).unref();
      }
    });
    const ended = (error: Error) => {
      if (current === started) current = null;
      for (const { reject } of started.waiting.values()) reject(error);
      started.waiting.clear();
    };
    worker.on('error', ended);
    worker.on('exit', (code) => ended(new Error(`the count thread exited (code ${code})`)));
    return started;
  }

  return {
    count(filter) {
      stopIdleTimer();
      current ??= start();
      const { worker, waiting } = current;
      return new Promise<number>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        const request: CountRequest = { id, filter };
        worker.postMessage(request);
      });
    },
    running: () => current !== null,
    async close() {
      stopIdleTimer();
      const running = current;
      current = null;
      if (running !== null) await running.worker.terminate();
    },
  };
}
