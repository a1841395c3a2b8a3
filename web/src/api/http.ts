import { authorizationHeader, tokenRefused } from './token.ts';

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Thrown when the server wants a token; the token dialog is already on its way. */
export class AuthRequiredError extends GraphQLRequestError {}

/** A message for a person, or null when the token dialog already says what is wrong. */
export function problemText(error: unknown): string | null {
  if (error instanceof AuthRequiredError) return null;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Error codes that may go away if the same thing is asked again later: the database did not
 * answer, the server failed inside, it asked us to slow down. Any other code refuses the
 * operation itself (FORBIDDEN, BAD_USER_INPUT…): asking again gets the same answer.
 */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
  'RATE_LIMITED',
  'SUBSCRIBER_TOO_SLOW',
]);

/** Whether asking again later may succeed. A refused token is not: the token dialog asks. */
export function isTransient(error: unknown): boolean {
  if (error instanceof AuthRequiredError) return false;
  if (error instanceof GraphQLRequestError) {
    return error.code === null ? error.status >= 500 : TRANSIENT_CODES.has(error.code);
  }
  return true; // fetch's TypeError: the server could not be reached
}

/** One GraphQL request over HTTP; the first error's message and code become the thrown error. */
export async function graphql<T>(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const authorization = authorizationHeader();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    tokenRefused();
    throw new AuthRequiredError('an API token is needed', 'UNAUTHENTICATED', 401);
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError(`the server answered ${response.status}`, null, response.status);
  }
  const first = body.errors?.[0];
  if (first) {
    throw new GraphQLRequestError(first.message, first.extensions?.code ?? null, response.status);
  }
  if (body.data === undefined) {
    throw new GraphQLRequestError('the server answered without data', null, response.status);
  }
  return body.data;
}
