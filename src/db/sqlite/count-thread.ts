// The count thread's entry (count-thread-host.ts starts it): counts that read a large part of
// the history run here, on a read-only connection of their own, so that the main thread's event
// loop (every request, the feed, the enqueue commits) does not stop for them.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessageListFilter } from '../message-filter.ts';
import { openReadOnlyDatabase } from './client.ts';
import { createFilterCount } from './filter-count.ts';

export interface CountRequest {
  id: number;
  filter: MessageListFilter;
}

export type CountReply =
  { id: number; count: number } | { id: number; error: { message: string; code?: string } };

export interface CountThreadData {
  path: string;
}

const { path } = workerData as CountThreadData;
const countMatching = createFilterCount(openReadOnlyDatabase(path).db);

parentPort!.on('message', ({ id, filter }: CountRequest) => {
  let reply: CountReply;
  try {
    reply = { id, count: countMatching(filter) };
  } catch (error) {
    const { message, code } = error as { message: string; code?: string };
    reply = { id, error: { message, code } };
  }
  parentPort!.postMessage(reply);
});
