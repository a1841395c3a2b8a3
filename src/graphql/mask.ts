import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { API_ERROR_CODES } from './errors.ts';

/** Ours (errors.ts) and Apollo's request errors; everything else is unexpected. */
const EXPECTED_CODES = new Set<string>([
  ...API_ERROR_CODES,
  ...Object.values(ApolloServerErrorCode).filter(
    (code) => code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR,
  ),
]);

/**
 * graphql-js's own request errors (variables that do not coerce: a missing required one, a
 * value of the wrong type, an unknown input field) come with no code. Apollo gives them
 * BAD_USER_INPUT over HTTP; over graphql-ws they were taken for bugs (INTERNAL_SERVER_ERROR).
 * They are told apart from bugs by having no path (an error of execution, a resolver that threw
 * or a null for a non-null field, has one) and no cause but a GraphQL error of their own.
 */
export function withRequestErrorCode(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  if (formatted.extensions?.['code'] !== undefined) return formatted;
  if (!(error instanceof GraphQLError) || error.path) return formatted;
  // A scalar that refused a variable's value says why in an error of its own.
  if (error.originalError && !(error.originalError instanceof GraphQLError)) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
}

/**
 * The code an answer's error counts under: its own when the API means it, INTERNAL_SERVER_ERROR
 * for anything unexpected (what production shows for it).
 */
export function answeredCode(formatted: GraphQLFormattedError): string {
  const code = formatted.extensions?.['code'];
  return typeof code === 'string' && EXPECTED_CODES.has(code) ? code : 'INTERNAL_SERVER_ERROR';
}

/**
 * In production an unexpected error says only that something went wrong: its message may carry
 * SQL, file paths or worse. Expected errors pass through unchanged.
 */
export function maskError(
  formatted: GraphQLFormattedError,
  production: boolean,
): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && EXPECTED_CODES.has(code)) {
    if (!production) return formatted;
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    // graphql-js suggests names in its messages ('Did you mean "recipient"?'): the schema's
    // details, which production keeps from strangers (Apollo strips them from validation
    // errors only, not from variables that do not coerce).
    const message = formatted.message.replace(/ ?Did you mean [^?]*\?/g, '');
    return { ...formatted, message, extensions };
  }
  if (!production) return formatted;
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
