import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfigFromEnv } from '../../src/load-config.ts';
import { baseEnv, closeWith, killOnExit, type Scope } from './scope.ts';
import { createTestDatabase } from './storage.ts';
import { waitFor } from './wait-for.ts';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

/** A scratch directory for a test's SQLite files, removed when `scope` ends (or by `remove`). */
export function tempDir(scope: Scope): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'mailscope-test-'));
  const remove = () => rmSync(path, { recursive: true, force: true });
  closeWith(scope, remove);
  return { path, remove };
}

/** Tests can set any variable of the contract; these keep them fast and isolated by default. */
const TEST_DEFAULTS: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  EMBEDDED_SMTP_PORT: '0',
  DELIVERY_RETRY_BASE_MS: '50',
  DELIVERY_LEASE_MS: '5000',
  SMTP_TIMEOUT_MS: '30000',
};

export function configFor(env: Record<string, string>) {
  const loaded = loadConfigFromEnv({ ...TEST_DEFAULTS, ...env });
  if (!loaded.ok) throw new Error(`bad test config: ${loaded.problems.join('; ')}`);
  return loaded.config;
}

export interface TestService {
  app: RunningApp;
  url: string;
  /** The service's SQLite file (unused on PostgreSQL). */
  databasePath: string;
  /** The service's PostgreSQL database, or null on SQLite. */
  databaseUrl: string | null;
  gql: <T = any>(query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<T>>;
  /** Stops it now (a restart); it is closed when its scope ends anyway. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Boots the whole service in this process on an ephemeral port, on a database of its own: a
 * fresh SQLite file, or a fresh PostgreSQL database when the suite runs on PostgreSQL
 * (MAILSCOPE_TEST_DB, storage.ts), unless `env` names one. It is closed when `scope` ends.
 */
export async function startService(
  scope: Scope,
  env: Record<string, string> = {},
  /** startApp's options, e.g. a test CA trusted for outgoing HTTPS. */
  appOptions: Parameters<typeof startApp>[1] = {},
): Promise<TestService> {
  const database = env['DATABASE_PATH'] || env['DATABASE_URL'] ? null : await createTestDatabase();
  if (database) closeWith(scope, () => database.remove());
  // In-process services share the test runner's stdout: keep it to errors unless asked.
  const config = configFor({
    ...database?.env,
    LOG_LEVEL: 'error',
    ...env,
  });
  const app = await startApp(config, appOptions);
  closeWith(scope, () => app.close());
  return {
    app,
    url: app.url,
    databasePath: config.storage.databasePath,
    databaseUrl: config.storage.databaseUrl,
    gql: (query, variables) =>
      graphqlRequest(`${app.url}/graphql`, query, variables, env['API_TOKEN']),
    close: () => app.close(),
  };
}

export async function graphqlRequest<T = any>(
  endpoint: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

export interface Subscription<T> {
  /** Every `next` payload's data so far, in order. */
  received: T[];
  errors: unknown[];
  closed: boolean;
  unsubscribe(): void;
}

/** A graphql-ws client over a real WebSocket, disposed of when `scope` ends. */
export function wsClient(scope: Scope, httpUrl: string, token?: string): Client {
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
  });
  closeWith(scope, () => client.dispose());
  return client;
}

export interface RawSocket {
  socket: WebSocket;
  /** Every frame received, as text. */
  messages: string[];
  /** Set once the handshake succeeded. */
  readonly opened: boolean;
  /** The close code once closed, else null. */
  readonly closeCode: number | null;
  /** The HTTP status when the upgrade was refused, else null. */
  readonly refusedWith: number | null;
}

/**
 * A WebSocket to `${httpUrl}/graphql` spoken by hand (so a test sees close codes and refusals
 * itself), terminated when `scope` ends. Wait on its state with `waitFor`.
 */
export function rawSocket(
  scope: Scope,
  httpUrl: string,
  { protocol = 'graphql-transport-ws', origin }: { protocol?: string; origin?: string } = {},
): RawSocket {
  const socket = new WebSocket(
    `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    protocol,
    origin === undefined ? {} : { origin },
  );
  closeWith(scope, () => socket.terminate());
  const state = {
    opened: false,
    closeCode: null as number | null,
    refusedWith: null as number | null,
  };
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(String(data)));
  socket.on('open', () => (state.opened = true));
  socket.on('close', (code) => (state.closeCode = code));
  socket.on('unexpected-response', (_request, response) => {
    state.refusedWith = response.statusCode ?? 0;
    response.resume();
    socket.terminate();
  });
  socket.on('error', () => {}); // a refused upgrade or a reset: the state says which
  return {
    socket,
    messages,
    get opened() {
      return state.opened;
    },
    get closeCode() {
      return state.closeCode;
    },
    get refusedWith() {
      return state.refusedWith;
    },
  };
}

/** Whether `subscription` got an error with this `extensions.code`. */
export function failedWith(subscription: Subscription<unknown>, code: string): boolean {
  return subscription.errors
    .flat()
    .some((e) => (e as { extensions?: { code?: string } }).extensions?.code === code);
}

export function subscribe<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const subscription: Subscription<T> = {
    received: [],
    errors: [],
    closed: false,
    unsubscribe: () => {},
  };
  subscription.unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) subscription.errors.push(...value.errors);
        if (value.data) subscription.received.push(value.data as T);
      },
      error: (error) => {
        subscription.errors.push(error);
        subscription.closed = true;
      },
      complete: () => {
        subscription.closed = true;
      },
    },
  );
  return subscription;
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /**
   * SIGTERM and wait for the exit; returns the exit code. The service gives up on a stuck
   * shutdown after 15 s; a process still alive STOP_TIMEOUT_MS after the signal is killed and
   * this throws.
   */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash the queue must survive. */
  kill(): Promise<void>;
}

/** Longer than the service's own 15 s limit on a shutdown (src/main.ts). */
const STOP_TIMEOUT_MS = 20_000;

/**
 * Runs `npm start`'s command as a real child process, for restarts and crashes. It is stopped
 * when `scope` ends if it still runs (and killed if this test process exits first).
 */
export async function startServiceProcess(
  scope: Scope,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...baseEnv(), ...TEST_DEFAULTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve((exitCode = code))),
  );
  async function kill() {
    if (exitCode === undefined) child.kill('SIGKILL');
    await exited;
  }
  async function stop() {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    try {
      await waitFor(() => exitCode !== undefined, {
        timeoutMs: STOP_TIMEOUT_MS,
        description: 'the service to exit after SIGTERM',
      });
    } catch (error) {
      await kill();
      throw new Error(`${(error as Error).message} (killed it):\n${output}`);
    }
    return exitCode ?? null;
  }
  closeWith(scope, stop);
  // An exit ends the wait at once (a start-up failure is an answer, not something to wait out).
  const started = await waitFor(
    () => {
      if (exitCode !== undefined) return { url: null };
      const match = /GraphQL at (http:\/\/[^\s]+)\/graphql/.exec(output);
      return match ? { url: match[1]! } : null;
    },
    { timeoutMs: 20_000, description: 'the service to start' },
  ).catch(async (error: Error) => {
    await kill();
    throw new Error(`${error.message}\n${output}`);
  });
  if (started.url === null) throw new Error(`service exited early (code ${exitCode}):\n${output}`);
  const url = started.url;
  return { url, child, output: () => output, stop, kill };
}
