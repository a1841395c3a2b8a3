import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookHandler } from '../bounces/providers/webhook.ts';
import type { Logger } from '../logger.ts';

/** Provider event webhooks by path; an unset one (key or topics not configured) answers 404. */
export interface WebhookRouteOptions {
  handlers: Partial<Record<'sendgrid' | 'mailgun' | 'postmark' | 'ses', WebhookHandler>>;
  /** The largest body read; larger ones are answered 413, the rest dropped unread. @default 4 MiB */
  maxBodyBytes?: number;
  log?: Logger;
}

const PREFIX = '/webhooks/';
const PROVIDERS = new Set(['sendgrid', 'mailgun', 'postmark', 'ses']);

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

/**
 * POST /webhooks/<provider>: the raw body is read (up to the cap) and handed, with the headers,
 * to that provider's handler, which verifies it before anything is stored. Returns false for
 * any other path, which the server then handles.
 */
export function createWebhookRoutes(options: WebhookRouteOptions) {
  const maxBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (!path.startsWith(PREFIX)) return false;
    const provider = path.slice(PREFIX.length);
    const handler = PROVIDERS.has(provider)
      ? options.handlers[provider as keyof WebhookRouteOptions['handlers']]
      : undefined;
    if (handler === undefined) {
      send(response, 404, { error: `no webhook is configured at ${path}` });
      return true;
    }
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return true;
    }
    readBody(request, maxBytes)
      .then((body) => handler({ headers: request.headers, body }))
      .then(
        (answer) => {
          if (answer.status >= 400) {
            options.log?.info(
              { provider, status: answer.status },
              `webhook refused: ${String(answer.body['error'])}`,
            );
          }
          send(response, answer.status, answer.body);
        },
        (error: unknown) => {
          if (error instanceof BodyTooLarge) {
            // Not `Connection: close`: closing with the rest of the body unread resets the
            // connection, and a client still sending never reads the answer. node:http reads
            // and drops what is left once this is written.
            send(response, 413, { error: `the body is larger than ${maxBytes} bytes` });
            return;
          }
          options.log?.error({ err: error, provider }, 'webhook: could not store the events');
          // 5xx: the provider sends the events again later.
          send(response, 503, { error: 'the events could not be stored; try again later' });
        },
      );
    return true;
  };
}

export type WebhookRoutes = ReturnType<typeof createWebhookRoutes>;
