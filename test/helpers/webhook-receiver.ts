import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { closeWith, type Scope } from './scope.ts';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body. */
  payload: any;
  /** Whether the `standardwebhooks` library verified it with the receiver's secret. */
  verified: boolean;
}

/** What the receiver answers a request with; `null` never answers (a hung endpoint). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | null;

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** The secret requests are verified with; set once the endpoint is created. */
  secret: string | null;
  /** Decides each answer; 200 unless set. A promise holds the answer until it settles. */
  answer: (request: ReceivedWebhook) => Answer | Promise<Answer>;
  close(): Promise<void>;
}

/**
 * A real HTTP endpoint on 127.0.0.1:0 that verifies every request with the `standardwebhooks`
 * package, as a user's application would; closed when `scope` ends.
 */
export async function startWebhookReceiver(
  scope: Scope,
  { port = 0 }: { port?: number } = {},
): Promise<WebhookReceiver> {
  const hung = new Set<ServerResponse>();
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    secret: null,
    answer: () => ({ status: 200 }),
    close: async () => {},
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      };
      let verified = false;
      try {
        if (receiver.secret !== null) {
          new Webhook(receiver.secret).verify(body, headers);
          verified = true;
        }
      } catch {
        verified = false;
      }
      const entry: ReceivedWebhook = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        payload: JSON.parse(body),
        verified,
      };
      receiver.received.push(entry);
      const reply = (answer: Answer) => {
        if (answer === null) {
          hung.add(response);
          return;
        }
        response.writeHead(answer.status, answer.headers ?? {});
        response.end(answer.body ?? '');
      };
      const answer = receiver.answer(entry);
      if (answer instanceof Promise) void answer.then(reply);
      else reply(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  let closed: Promise<void> | null = null;
  receiver.close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closed;
  };
  closeWith(scope, receiver.close);
  return receiver;
}
