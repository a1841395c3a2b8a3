import type { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';

// Errors the API means to return, each with a stable `extensions.code` clients can branch on.
// Anything else that escapes a resolver is a bug and is masked in production (see mask.ts).

/**
 * Every `extensions.code` the API means to return (besides Apollo's own request errors). Code
 * that raises one names it through `ApiErrorCode`, so this list is the whole of them.
 */
export const API_ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'CURSOR_EXPIRED',
  'SERVICE_UNAVAILABLE',
  'TOO_MANY_SUBSCRIPTIONS',
  'SUBSCRIBER_TOO_SLOW',
  'RESPONSE_TOO_LARGE',
  'GRAPHQL_VALIDATION_FAILED',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
/** Any code an answer may carry: ours, or one of Apollo's own request errors. */
export type ErrorCode = ApiErrorCode | `${ApolloServerErrorCode}`;

export interface FieldProblem {
  field: string;
  problem: string;
}

/** A problem as the layers below find it: a field within one input, and which input of a list. */
export interface InputFieldProblem extends FieldProblem {
  index?: number;
}

/**
 * Where a problem sits in the request, under the argument that carried the input: "to" in
 * `input` is "input.to", in the fourth of `inputs` "inputs[3].to"; an empty field is the
 * argument itself.
 */
export function placeProblem(argument: string, problem: InputFieldProblem): FieldProblem {
  const at = problem.index === undefined ? argument : `${argument}[${problem.index}]`;
  return { field: problem.field === '' ? at : `${at}.${problem.field}`, problem: problem.problem };
}

export class BadUserInputError extends GraphQLError {
  /** `argument`: the input argument the problems' fields are within; none when they are arguments. */
  constructor(problems: readonly InputFieldProblem[], argument?: string) {
    const placed = problems.map((problem) =>
      argument === undefined
        ? { field: problem.field, problem: problem.problem }
        : placeProblem(argument, problem),
    );
    super(placed.map((p) => `${p.field}: ${p.problem}`).join('; '), {
      extensions: {
        code: 'BAD_USER_INPUT' satisfies ApiErrorCode,
        problems: placed,
        field: placed[0]?.field,
      },
    });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(what: string, id: string) {
    super(`${what} ${id} does not exist`, {
      extensions: { code: 'NOT_FOUND' satisfies ApiErrorCode, id },
    });
  }
}

export class ConflictError extends GraphQLError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code: 'CONFLICT' satisfies ApiErrorCode, ...extra } });
  }
}

/** The caller's token may not do this (a READ token calling a mutation, say). */
export class ForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'FORBIDDEN' satisfies ApiErrorCode } });
  }
}

/**
 * Too many sends for this token; `retryAfterSeconds` says when the next one will be accepted,
 * or is absent when the call could never be (a batch larger than the per-minute limit).
 */
export class RateLimitedError extends GraphQLError {
  constructor(retryAfterMs: number | null, message?: string) {
    const retryAfterSeconds =
      retryAfterMs === null ? null : Math.max(1, Math.ceil(retryAfterMs / 1_000));
    super(message ?? `too many messages sent with this token; retry in ${retryAfterSeconds} s`, {
      extensions: {
        code: 'RATE_LIMITED' satisfies ApiErrorCode,
        ...(retryAfterMs === null ? {} : { retryAfterSeconds, retryAfterMs }),
      },
    });
  }
}

/** An event cursor older than what retention kept: the events after it are partly gone. */
export class CursorExpiredError extends GraphQLError {
  constructor(field: string) {
    super(
      `${field}: events after this cursor were pruned by retention. Resync: read the current state with the messages query, then subscribe to messageEvents without a cursor (live only) or with after: "0" (from the oldest retained event).`,
      { extensions: { code: 'CURSOR_EXPIRED' satisfies ApiErrorCode, field } },
    );
  }
}
