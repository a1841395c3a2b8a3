import type { WebhookAttemptRecord, WebhookStore } from '../db/port.ts';

type Recorded = Awaited<ReturnType<WebhookStore['recordAttempts']>>[number];

/**
 * Attempts finished while a write is under way are written together by the next one: one
 * transaction (one fsync on SQLite) for many requests, which is what keeps webhooks from taking
 * the write lock from mail delivery.
 */
export function createAttemptRecorder(store: Pick<WebhookStore, 'recordAttempts'>) {
  let pending: {
    record: WebhookAttemptRecord;
    resolve: (result: Recorded) => void;
    reject: (error: unknown) => void;
  }[] = [];
  let writing = false;
  let scheduled = false;

  /** After the answers that are in now are read: a SQLite write blocks the thread for its fsync. */
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush(): Promise<void> {
    if (writing || pending.length === 0) return;
    writing = true;
    const batch = pending;
    pending = [];
    try {
      const results = await store.recordAttempts(batch.map((entry) => entry.record));
      batch.forEach((entry, index) => entry.resolve(results[index] ?? null));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      writing = false;
      if (pending.length > 0) schedule();
    }
  }

  return {
    record(record: WebhookAttemptRecord): Promise<Recorded> {
      return new Promise((resolve, reject) => {
        pending.push({ record, resolve, reject });
        schedule();
      });
    },
  };
}
