import { spawn, type ChildProcess } from 'node:child_process';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfigFromEnv, startApp, type RunningApp } from '../../src/app.ts';
import { createTestDatabase } from './storage.ts';
import { waitFor } from './wait-for.ts';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

export { tempDir } from './temp-dir.ts';

/** Tests can set any variable of the contract; these keep them fast and isolated by default. */
const TEST_DEFAULTS: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  EMBEDDED_SMTP_PORT: '0',
  DELIVERY_RETRY_BASE_MS: '50',
  DELIVERY_LEASE_MS: '5000',
  SMTP_TIMEOUT_MS: '2000',
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
  close(): Promise<void>;
}

/**
 * Boots the whole service in this process on an ephemeral port, on a database of its own: a
 * fresh SQLite file, or a fresh PostgreSQL database when the suite runs on PostgreSQL
 * (MAILSCOPE_TEST_DB, storage.ts), unless `env` names one.
 */
export async function startService(env: Record<string, string> = {}): Promise<TestService> {
  const database = env['DATABASE_PATH'] || env['DATABASE_URL'] ? null : await createTestDatabase();
  // In-process services share the test runner's stdout: keep it to errors unless asked.
  const config = configFor({
    ...database?.env,
    LOG_LEVEL: 'error',
    ...env,
  });
  let app: RunningApp;
  try {
    app = await startApp(config);
  } catch (error) {
    await database?.remove();
    throw error;
  }
  return {
    app,
    url: app.url,
    databasePath: config.databasePath,
    databaseUrl: config.databaseUrl,
    gql: (query, variables) =>
      graphqlRequest(`${app.url}/graphql`, query, variables, env['API_TOKEN']),
    async close() {
      await app.close();
      await database?.remove();
    },
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

/** A graphql-ws client over a real WebSocket. */
export function wsClient(httpUrl: string, token?: string): Client {
  return createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
  });
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
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash the queue must survive. */
  kill(): Promise<void>;
}

/** Runs `npm start`'s command as a real child process, for restarts and crashes. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...TEST_DEFAULTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`service exited early:\n${output}`);
      return /GraphQL at (http:\/\/[^\s]+)\/graphql/.exec(output)?.[1];
    },
    { timeoutMs: 20_000, description: 'the service to start' },
  ).catch((error: unknown) => {
    // Nobody else holds the child yet: left running, it would keep the test file alive.
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
