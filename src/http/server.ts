import { describeListenError } from '../listen-error.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import {
  GraphQLError,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal.ts';
import {
  operationContext,
  type GraphQLContext,
  type GraphQLServices,
  type ResultChannel,
} from '../graphql/context.ts';
import { DEFAULT_LIMITS, limitRules, type DocumentLimits } from '../graphql/limits.ts';
import type { ErrorCode } from '../graphql/errors.ts';
import { answeredCode, maskError, withRequestErrorCode } from '../graphql/mask.ts';
import { operationLimitsPlugin } from '../graphql/operation-limits-plugin.ts';
import { subscriptionsOverWebSocketPlugin } from '../graphql/subscriptions-over-websocket.ts';
import { createPacer } from '../graphql/pacer.ts';
import { stringifyPaced } from '../graphql/paced-json.ts';
import { createResponseBudget, ResponseTooLargeError } from '../graphql/response-budget.ts';
import { createSharedSubscriptions } from '../graphql/shared-subscriptions.ts';
import { countListening, type ListeningCounter } from '../graphql/listening-subscriptions.ts';
import { createResultChannels } from './ws-result-channels.ts';
import { createSubscribeCheck, type SubscriptionCaps } from './ws-subscribe.ts';
import { acceptsJson } from './accepts-json.ts';
import { anonymousRefusal } from './anonymous-access.ts';
import { createConnectionRegistry, originAllowed } from './ws-guard.ts';
import type { Logger } from '../logger.ts';
import type { ProbeRoutes } from './probes.ts';
import type { WebhookRoutes } from './webhooks.ts';
import { storageProblem } from '../db/storage-errors.ts';
import {
  reportStorageFailure,
  subscribeEndingAtStorageFailure,
} from '../graphql/storage-failure.ts';
import { createStaticHandler } from './static.ts';

export interface HttpServerOptions {
  host: string;
  port: number;
  schema: GraphQLSchema;
  /** Shared by every request; the caller (`principal`) is added per request/connection. */
  context: GraphQLServices;
  production: boolean;
  /** Browser origins allowed to open WebSockets besides the service's own. @default null (none) */
  allowedOrigins?: readonly string[] | null;
  /** @default DEFAULT_LIMITS */
  limits?: DocumentLimits;
  /** @default { perConnection: 20, perToken: 1000 } */
  subscriptionCaps?: SubscriptionCaps;
  /** Told of each subscriber that starts and stops listening (for /metrics). */
  countSubscribers?: ListeningCounter;
  /** Told of each error answered, by its `extensions.code` (for /metrics). */
  countError?: (code: string) => void;
  /** /readyz and /metrics (probes.ts). */
  probes?: ProbeRoutes;
  /** POST /webhooks/<provider> (webhooks.ts). */
  webhooks?: WebhookRoutes;
  log?: Logger;
}

export interface HttpServerHandle {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  /** Stops accepting, closes WebSocket subscriptions, waits for HTTP requests in flight. */
  close(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';
/** graphql-ws messages are operations and their variables; sendEmail belongs on HTTP. */
const MAX_WS_PAYLOAD_BYTES = 1024 * 1024;
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

function errorBody(message: string, code: ErrorCode) {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * One node:http server for everything: Apollo over plain HTTP (executeHTTPGraphQLRequest, about
 * twice the throughput of the Express integration here), graphql-ws on the same path, /healthz.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { schema, context: services, production } = options;
  const { apiTokens } = services;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const countError = options.countError ?? (() => {});
  const formatError = (formatted: GraphQLFormattedError, error?: unknown) => {
    const reported = withRequestErrorCode(reportStorageFailure(formatted, error), error);
    const code = answeredCode(reported);
    countError(code);
    if (code === 'INTERNAL_SERVER_ERROR') {
      // A bug: the client is told nothing (in production), so the operator is told here.
      const cause = error instanceof GraphQLError ? (error.originalError ?? error) : error;
      options.log?.error(
        { err: cause ?? reported, path: reported.path },
        'graphql: unexpected error answered as INTERNAL_SERVER_ERROR',
      );
    }
    return maskError(reported, production);
  };
  /** An answer made here rather than by Apollo, counted as Apollo's are. */
  const refuse = (response: ServerResponse, status: number, message: string, code: ErrorCode) => {
    countError(code);
    sendJson(response, status, errorBody(message, code));
  };
  /** A fresh context per HTTP request and per graphql-ws operation. */
  const contextFor = (
    principal: Principal,
    { paced = true, results }: { paced?: boolean; results?: ResultChannel } = {},
  ): GraphQLContext =>
    operationContext(services, {
      principal,
      pacer: paced ? createPacer() : undefined,
      responseBudget: createResponseBudget(limits.maxResponseBytes),
      results,
    });

  /** The caller, or why it is refused: a missing or wrong token, or an anonymous stranger. */
  async function authenticate(
    request: IncomingMessage,
    authorization: unknown,
  ): Promise<{ principal: Principal } | { refused: string }> {
    const principal = await apiTokens.authenticate(
      typeof authorization === 'string' ? authorization : undefined,
    );
    if (principal === null) return { refused: 'missing or wrong API token' };
    const refusal = principal.kind === 'anonymous' ? anonymousRefusal(request) : null;
    return refusal === null ? { principal } : { refused: refusal };
  }

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: !production,
    includeStacktraceInErrorResponses: !production,
    // No "did you mean" field suggestions for strangers in production.
    hideSchemaDetailsFromClientErrors: production,
    // The default, said out loud: a GraphQL request must be JSON or carry a custom header, so a
    // plain HTML form or <img> on another site cannot make one.
    csrfPrevention: true,
    parseOptions: { maxTokens: limits.maxTokens },
    // Apollo adds its own introspection rule when introspection is off.
    validationRules: limitRules(limits, false),
    formatError,
    // main.ts owns signal handling and stops everything in order; Apollo's own handler would
    // race it.
    stopOnTerminationSignals: false,
    // No type or field carries a cache hint, and the plugin otherwise wraps every resolver to
    // compute a policy nobody reads, a cost on every sendEmail (bench/README.md has the figure).
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      subscriptionsOverWebSocketPlugin(GRAPHQL_PATH),
      operationLimitsPlugin(limits, countError),
    ],
    // A big answer is serialised in slices, the event loop served in between (paced-json.ts);
    // the trailing newline is Apollo's own.
    stringifyResult: async (result) => `${await stringifyPaced(result)}\n`,
  });
  await apollo.start();

  async function handleGraphQL(request: IncomingMessage, response: ServerResponse) {
    const caller = await authenticate(request, request.headers.authorization);
    if ('refused' in caller) {
      refuse(response, 401, caller.refused, 'UNAUTHENTICATED');
      return;
    }
    const { principal } = caller;
    if (!acceptsJson(request.headers.accept)) {
      refuse(
        response,
        406,
        "the 'accept' header admits neither application/json nor application/graphql-response+json; nothing was run",
        'BAD_REQUEST',
      );
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
        refuse(response, 400, 'request body is not valid JSON', 'BAD_REQUEST');
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
      context: async () => contextFor(principal),
    });
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      // The budget counts the big fields as they resolve; this holds the limit for the rest.
      if (Buffer.byteLength(result.body.string) > limits.maxResponseBytes) {
        const error = new ResponseTooLargeError(limits.maxResponseBytes);
        countError('RESPONSE_TOO_LARGE');
        sendJson(response, 200, {
          errors: [{ message: error.message, extensions: error.extensions }],
        });
        return;
      }
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  // Set by close(): a keep-alive client would otherwise go on sending requests over its open
  // connection and hold up shutdown for as long as it keeps busy.
  let draining = false;
  const serveDashboard = createStaticHandler();
  const server = createServer((request, response) => {
    if (draining) response.shouldKeepAlive = false;
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok\n');
      return;
    }
    if (options.probes?.(request, response)) return;
    if (options.webhooks?.(request, response)) return;
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
        refuse(response, 413, 'request body is too large', 'BAD_REQUEST');
        return;
      }
      // Authentication reads the database before Apollo runs: when it cannot be reached, the
      // answer is the SERVICE_UNAVAILABLE every operation gives then (HTTP 200), not a 500.
      const unavailable = reportStorageFailure({ message: 'Internal server error' }, error);
      if (unavailable.extensions?.['code'] === 'SERVICE_UNAVAILABLE') {
        countError('SERVICE_UNAVAILABLE');
        sendJson(response, 200, { errors: [unavailable] });
        return;
      }
      options.log?.error({ err: error }, 'http: request failed');
      refuse(response, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
    });
  });
  // Keep-alive sockets of idle clients must not hold up shutdown.
  server.keepAliveTimeout = 5_000;

  // Upgrades are handed over here rather than with `server`: a WebSocketServer bound to the
  // HTTP server re-emits its errors, and graphql-ws prints a listen failure (a port in use) as
  // an "internal error" with a stack, before start-up can say which setting to change.
  const wsServer = new WebSocketServer({
    noServer: true,
    path: GRAPHQL_PATH,
    maxPayload: MAX_WS_PAYLOAD_BYTES,
    verifyClient: (
      { req }: { req: IncomingMessage },
      done: (ok: boolean, status?: number, message?: string) => void,
    ) => {
      if (originAllowed(req, options.allowedOrigins ?? null)) done(true);
      else done(false, 403, 'Origin not allowed');
    },
  });
  server.on('upgrade', (request, socket, head) =>
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request)),
  );
  const connections = createConnectionRegistry();
  const stopRevoked = apiTokens.onRevoked((tokenId) =>
    connections.closeAll(`token:${tokenId}`, 'Forbidden: token revoked'),
  );
  const stopAnonymous = apiTokens.onAuthRequired(() =>
    connections.closeAll('anonymous', 'Forbidden: a token is required now'),
  );
  const formatResult = (result: ExecutionResult) =>
    result.errors
      ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) }
      : result;
  const subscribeCheck = createSubscribeCheck({
    schema,
    limits,
    production,
    apiTokens,
    connections,
    caps: options.subscriptionCaps ?? { perConnection: 20, perToken: 1_000 },
    contextFor,
    resultChannels: createResultChannels(formatResult),
  });
  const subscriptions = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      // Live-only subscribers of the same operation share one execution per event; each one
      // is counted all the same.
      subscribe: countListening(
        createSharedSubscriptions({
          fields: ['messageEvents'],
          run: subscribeEndingAtStorageFailure,
        }),
        options.countSubscribers ?? (() => {}),
      ),
      // graphql-ws closes the socket with 4403 Forbidden when this returns false.
      onConnect: async (ctx) => {
        let caller: Awaited<ReturnType<typeof authenticate>>;
        try {
          caller = await authenticate(ctx.extra.request, ctx.connectionParams?.['authorization']);
        } catch (error) {
          if (storageProblem(error) === null) throw error;
          // The database is unreachable: 1013 "try again later", which clients retry, rather
          // than graphql-ws's 4500, which they take as final.
          countError('SERVICE_UNAVAILABLE');
          ctx.extra.socket.close(1013, 'Try Again Later: the database is unavailable');
          return false;
        }
        if ('refused' in caller) {
          countError('UNAUTHENTICATED');
          return false;
        }
        const { principal } = caller;
        ctx.extra.principal = principal;
        const socket = ctx.extra.socket;
        const remove = connections.add(principal, {
          close: (code, reason) => socket.close(code, reason),
          subscriptions: () => Object.keys(ctx.subscriptions).length,
        });
        socket.once('close', remove);
        return true;
      },
      // Auth again, caps, parse and validate with the same limits as HTTP (graphql-ws runs no
      // validation of its own once this returns execution arguments).
      onSubscribe: subscribeCheck,
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? formatResult(result) : undefined,
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON(), error)),
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown) =>
      reject(describeListenError(error, 'PORT', `${options.host}:${options.port}`));
    server.once('error', failed);
    // Dashboards all reconnect at once after a restart or a network blip: with node's default
    // backlog of 511, 10,000 subscribers connecting together overflowed the accept queue and
    // some were reset. The kernel caps this at net.core.somaxconn.
    server.listen({ port: options.port, host: options.host, backlog: 4096 }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    async close() {
      draining = true;
      stopRevoked();
      stopAnonymous();
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
