import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from '../graphql/context.ts';
import { maskError } from '../graphql/mask.ts';
import { isAuthorized } from './auth.ts';
import { createStaticHandler } from './static.ts';

export interface HttpServerOptions {
  host: string;
  port: number;
  schema: GraphQLSchema;
  context: GraphQLContext;
  /** Bearer token every request must carry, or null for none. */
  apiToken: string | null;
  production: boolean;
}

export interface HttpServerHandle {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  /** Stops accepting, closes WebSocket subscriptions, waits for HTTP requests in flight. */
  close(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';
/** sendEmail bodies may be 5 MB each for text and html; JSON escaping adds a little. */
const MAX_BODY_BYTES = 12 * 1024 * 1024;

class PayloadTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * One node:http server for everything: Apollo over plain HTTP (executeHTTPGraphQLRequest, about
 * twice the throughput of the Express integration here), graphql-ws on the same path, /healthz.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { schema, context, apiToken, production } = options;
  const formatError = (formatted: GraphQLFormattedError) => maskError(formatted, production);

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: !production,
    includeStacktraceInErrorResponses: !production,
    formatError,
    // main.ts owns signal handling and stops everything in order; Apollo's own handler would
    // race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  async function handleGraphQL(request: IncomingMessage, response: ServerResponse) {
    if (!isAuthorized(request.headers.authorization, apiToken)) {
      sendJson(response, 401, errorBody('missing or wrong API token', 'UNAUTHENTICATED'));
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (request.method === 'POST') {
      const raw = await readBody(request);
      const isJson = headers.get('content-type')?.includes('application/json') ?? false;
      try {
        body = isJson && raw.length > 0 ? JSON.parse(raw) : raw;
      } catch {
        sendJson(response, 400, errorBody('request body is not valid JSON', 'BAD_REQUEST'));
        return;
      }
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method ?? 'GET',
      headers,
      search: url.search,
      body,
    };
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => context,
    });
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  const serveDashboard = createStaticHandler();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok\n');
      return;
    }
    if (path !== GRAPHQL_PATH) {
      if (serveDashboard(request, response)) return;
      sendJson(
        response,
        404,
        errorBody(`nothing here: GraphQL is at ${GRAPHQL_PATH}`, 'NOT_FOUND'),
      );
      return;
    }
    handleGraphQL(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof PayloadTooLargeError) {
        sendJson(response, 413, errorBody('request body is too large', 'BAD_REQUEST'));
        return;
      }
      console.error('http: request failed', error);
      sendJson(response, 500, errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
    });
  });
  // Keep-alive sockets of idle clients must not hold up shutdown.
  server.keepAliveTimeout = 5_000;

  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const subscriptions = useServer<Record<string, unknown>>(
    {
      schema,
      context: () => context,
      // graphql-ws closes the socket with 4403 Forbidden when this returns false.
      onConnect: (ctx) => {
        const authorization = ctx.connectionParams?.['authorization'];
        return isAuthorized(
          typeof authorization === 'string' ? authorization : undefined,
          apiToken,
        );
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON())) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON())),
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await subscriptions.dispose();
      for (const client of wsServer.clients) client.terminate();
      wsServer.close();
      server.closeIdleConnections();
      await closed;
      await apollo.stop();
    },
  };
}
