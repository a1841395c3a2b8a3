import {
  GraphQLError,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
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

type SubscribeResult = AsyncGenerator<ExecutionResult, void, void> | ExecutionResult;

/**
 * graphql-js's `subscribe`, whose streams end at the first event a storage failure spoiled
 * instead of sending it. An event whose message could not be read would otherwise go out as
 * `data: null` with an error and the stream go on: a client that resumes after its last cursor,
 * as it is told to, would never get that event. Ended with SERVICE_UNAVAILABLE (what formatError
 * makes of the error), the client's last cursor is the event before, and resuming from it on
 * any instance once the database answers again leaves no gap.
 */
export async function subscribeEndingAtStorageFailure(
  args: ExecutionArgs,
): Promise<SubscribeResult> {
  const result = (await subscribe(args)) as SubscribeResult;
  return Symbol.asyncIterator in result ? endAtStorageFailure(result) : result;
}

/**
 * An iterator rather than an async generator: a generator's return() waits for its pending
 * next(), which waits for an event that may never come, so a client that unsubscribed from a
 * quiet feed would hold its source (and the source's timers) open for good. This return()
 * reaches the source at once, as graphql-js's own mapping of results does.
 */
function endAtStorageFailure(
  results: AsyncGenerator<ExecutionResult, void, void>,
): AsyncGenerator<ExecutionResult, void, void> {
  const iterator: AsyncGenerator<ExecutionResult, void, void> = {
    async next() {
      const step = await results.next();
      const spoiled = step.done
        ? undefined
        : step.value.errors?.find((error) => storageProblem(error.originalError) !== null);
      if (spoiled === undefined) return step;
      await results.return();
      throw spoiled.originalError;
    },
    return: () => results.return(),
    throw: (error: unknown) => results.throw(error),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
