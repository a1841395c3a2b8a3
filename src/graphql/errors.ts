import { GraphQLError } from 'graphql';

// Errors the API means to return, each with a stable `extensions.code` clients can branch on.
// Anything else that escapes a resolver is a bug and is masked in production (see mask.ts).

export interface FieldProblem {
  field: string;
  problem: string;
}

export class BadUserInputError extends GraphQLError {
  constructor(problems: readonly FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.problem}`).join('; '), {
      extensions: { code: 'BAD_USER_INPUT', problems, field: problems[0]?.field },
    });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(what: string, id: string) {
    super(`${what} ${id} does not exist`, { extensions: { code: 'NOT_FOUND', id } });
  }
}

export class ConflictError extends GraphQLError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code: 'CONFLICT', ...extra } });
  }
}

/** The service cannot do it right now (e.g. the database is locked or full); nothing changed. */
export class ServiceUnavailableError extends GraphQLError {
  constructor(message: string, reason: string) {
    super(message, { extensions: { code: 'SERVICE_UNAVAILABLE', reason, retryable: true } });
  }
}
