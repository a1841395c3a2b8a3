import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A webhook endpoint for benchmarks: it only counts (no verification, nothing kept). */
export interface CountingReceiver {
  url: string;
  count: number;
  /** performance.now() of the last request. */
  lastAt: number;
  close(): Promise<void>;
}

/** On 127.0.0.1:0; answers 204 to every request, after `delayMs` when given. */
export async function startCountingReceiver(delayMs = 0): Promise<CountingReceiver> {
  const receiver: CountingReceiver = { url: '', count: 0, lastAt: 0, close: async () => {} };
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const answer = () => {
        receiver.count++;
        receiver.lastAt = performance.now();
        response.writeHead(204).end();
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
