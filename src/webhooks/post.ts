import http from 'node:http';
import https from 'node:https';
import { guardedLookup, literalAddressProblem } from './url-guard.ts';

/** What an endpoint answered, or why it did not. */
export interface PostResult {
  statusCode: number | null;
  /** The start of the response body, up to `RESPONSE_BODY_MAX_BYTES`. */
  responseBody: string | null;
  /** Retry-After as sent, when the endpoint sent it. */
  retryAfter: string | undefined;
  error: string | null;
  durationMs: number;
}

/** How much of a response body is kept (CONTRACT.md). */
export const RESPONSE_BODY_MAX_BYTES = 4_096;

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole request, connecting included. */
  timeoutMs: number;
  allowPrivate: boolean;
  /** Keep-alive connections of this endpoint. */
  agent?: http.Agent;
}

/**
 * One POST, redirects not followed (a 3xx is an answer like any other non-2xx), the address
 * checked on every connection (url-guard.ts). Never throws.
 */
export function postWebhook(options: PostOptions): Promise<PostResult> {
  const url = new URL(options.url);
  const literal = literalAddressProblem(url.hostname, options.allowPrivate);
  if (literal !== null) {
    return Promise.resolve({
      statusCode: null,
      responseBody: null,
      retryAfter: undefined,
      error: literal,
      durationMs: 0,
    });
  }
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const failed = (error: string) =>
      finish({ statusCode: null, responseBody: null, retryAfter: undefined, error });
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(options.body),
        'user-agent': 'mailscope-webhooks',
        ...options.headers,
      },
      lookup: guardedLookup(options.allowPrivate) as never,
      ...(options.agent ? { agent: options.agent } : {}),
    });
    timer = setTimeout(() => {
      request.destroy();
      failed(`no answer within ${options.timeoutMs} ms`);
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      failed(error.code ? `${error.code}: ${error.message}` : error.message),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () =>
        finish({
          statusCode: response.statusCode ?? null,
          // Cut at the byte limit: a character the cut went through is left out, not mangled.
          responseBody: new TextDecoder().decode(Buffer.concat(chunks), { stream: true }),
          retryAfter: response.headers['retry-after'],
          error: null,
        });
      response.on('data', (chunk: Buffer) => {
        if (kept >= RESPONSE_BODY_MAX_BYTES) return;
        const part = chunk.subarray(0, RESPONSE_BODY_MAX_BYTES - kept);
        chunks.push(part);
        kept += part.length;
        // Enough is kept: the rest is not waited for (the connection is given up).
        if (kept >= RESPONSE_BODY_MAX_BYTES) {
          done();
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', () => done());
      response.on('aborted', () => done());
    });
    request.end(options.body);
  });
}
