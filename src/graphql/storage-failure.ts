import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { describeStorageProblem, storageProblem } from '../db/storage-errors.ts';
import type { ApiErrorCode } from './errors.ts';

/**
 * Any operation whose database write was refused (locked past busy_timeout, disk full) answers
 * SERVICE_UNAVAILABLE saying why, instead of an internal error: the transaction rolled back, so
 * nothing changed and trying again later is the remedy. It covers every operation without any
 * resolver knowing about storage.
 */
export function reportStorageFailure(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  const problem = storageProblem(original);
  if (problem === null) return formatted;
  const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
  return {
    ...formatted,
    message: describeStorageProblem(problem),
    extensions: {
      ...extensions,
      code: 'SERVICE_UNAVAILABLE' satisfies ApiErrorCode,
      reason: `DATABASE_${problem.toUpperCase()}`,
      retryable: true,
    },
  };
}
