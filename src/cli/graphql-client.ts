import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { stringOption, type CliIo, type Command, type ParsedArgs } from './command.ts';

/** Options every command that talks to the running service accepts. */
export const serviceOptions: Command['options'] = {
  url: { type: 'string' },
  token: { type: 'string' },
};

export const SERVICE_USAGE = '[--url <http://host:port>] [--token <token>]';

/** Printed under the usage of every command that talks to the service. */
export const SERVICE_HELP =
  '--url defaults to $MAILSCOPE_URL or http://127.0.0.1:$PORT; --token to $MAILSCOPE_TOKEN or $API_TOKEN.';

export interface ServiceTarget {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  token: string | null;
}

export function serviceTarget(args: ParsedArgs, io: CliIo): ServiceTarget {
  const url =
    stringOption(args, 'url') ??
    io.env['MAILSCOPE_URL'] ??
    `http://127.0.0.1:${io.env['PORT'] || '4000'}`;
  const token =
    stringOption(args, 'token') || io.env['MAILSCOPE_TOKEN'] || io.env['API_TOKEN'] || null;
  return { url: url.replace(/\/+$/, '').replace(/\/graphql$/, ''), token };
}

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string };
}

/** A GraphQL error answer, printed as "CODE: message". */
export class ServiceError extends Error {
  constructor(readonly errors: readonly GraphQLErrorBody[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n'));
  }
}

/** One query or mutation over HTTP; throws ServiceError when the answer carries errors. */
export async function request<T>(
  target: ServiceTarget,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    throw new Error(`cannot reach mailscope at ${target.url}${cause ? `: ${cause}` : ''}`);
  }
  const body = (await response.json()) as { data?: T; errors?: GraphQLErrorBody[] };
  if (body.errors && body.errors.length > 0) throw new ServiceError(body.errors);
  if (body.data === undefined) throw new Error(`unexpected answer (HTTP ${response.status})`);
  return body.data;
}

/** A graphql-ws client for subscriptions. */
export function subscriptionClient(target: ServiceTarget, onConnected?: () => void): Client {
  return createClient({
    url: `${target.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    ...(onConnected ? { on: { connected: onConnected } } : {}),
    ...(target.token ? { connectionParams: { authorization: `Bearer ${target.token}` } } : {}),
  });
}
