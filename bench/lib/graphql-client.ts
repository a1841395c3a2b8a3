import http from 'node:http';
import { createLeanHttpClient } from './lean-http-client.ts';

// node:http with keep-alive rather than fetch: undici's per-request CPU in the bench process
// would otherwise be counted against the service (the client shares the machine's two cores).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** No bench request may take longer: a service that stopped answering fails the phase. */
const REQUEST_TIMEOUT_MS = 120_000;

export function postJson(
  url: string,
  payload: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.on('timeout', () =>
      request.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS} ms`)),
    );
    request.end(payload);
  });
}

/** POSTs one GraphQL operation to `${url}/graphql`; HTTP errors become GraphQL errors. */
export async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLBody> {
  const { status, text } = await postJson(`${url}/graphql`, JSON.stringify({ query, variables }));
  const body = JSON.parse(text) as GraphQLBody;
  if (status !== 200 && !body.errors) body.errors = [{ message: `HTTP ${status}` }];
  return body;
}

/** graphql() that throws on errors and returns `data`. */
export async function graphqlData(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, any>> {
  const body = await graphql(url, query, variables);
  if (body.errors) throw new Error(`GraphQL error: ${body.errors[0]!.message}`);
  return body.data!;
}

/** The status of a GET, or 0 when it fails or takes more than `timeoutMs`. */
export function getStatus(url: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => request.destroy());
  });
}

/**
 * The client a scenario loads the service with: the lean client (lean-http-client.ts) over
 * `connections` kept-alive sockets, or node:http with BENCH_CLIENT=node-http, for comparison.
 */
export function createLoadClient(
  url: string,
  connections: number,
): {
  graphql(query: string, variables?: Record<string, unknown>): Promise<GraphQLBody>;
  close(): void;
} {
  if (process.env['BENCH_CLIENT'] === 'node-http') {
    return { graphql: (query, variables) => graphql(url, query, variables), close() {} };
  }
  const client = createLeanHttpClient(url, connections);
  return {
    async graphql(query, variables = {}) {
      const { status, text } = await client.post('/graphql', JSON.stringify({ query, variables }));
      const body = JSON.parse(text) as GraphQLBody;
      if (status !== 200 && !body.errors) body.errors = [{ message: `HTTP ${status}` }];
      return body;
    },
    close: () => client.close(),
  };
}
