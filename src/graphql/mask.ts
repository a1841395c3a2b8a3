import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { API_ERROR_CODES } from './errors.ts';

/** Ours (errors.ts) and Apollo's request errors; everything else is unexpected. */
const EXPECTED_CODES = new Set<string>([
  ...API_ERROR_CODES,
  ...Object.values(ApolloServerErrorCode).filter(
    (code) => code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR,
  ),
]);

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
    return { ...formatted, extensions };
  }
  if (!production) return formatted;
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
