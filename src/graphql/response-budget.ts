import { GraphQLError } from 'graphql';
import type { ApiErrorCode } from './errors.ts';

/** The response would exceed `maxResponseBytes`: refused rather than built and sent. */
export class ResponseTooLargeError extends GraphQLError {
  constructor(maxBytes: number) {
    super(
      `the response would be larger than ${formatBytes(maxBytes)} (the limit): the html, text and transcripts selected add up to more. Ask for fewer messages (first) or leave out html and text.`,
      {
        extensions: {
          code: 'RESPONSE_TOO_LARGE' satisfies ApiErrorCode,
          limit: 'responseBytes',
          maxResponseBytes: maxBytes,
        },
      },
    );
  }
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes.toLocaleString('en-US')} bytes`;
}

/**
 * The bytes one response may carry in the fields that can be megabytes each (html and text up to
 * 5 MB, transcripts a few KB); everything else is bounded by the cost limit. Charged as those
 * fields resolve, so an oversized answer is refused before it is built, serialised and sent:
 * with 15 aliases of 500 messages the review's query built a 90 MB response and took RSS to
 * 2.7 GB. Once over, every later charge fails too, and the HTTP layer answers with the one error
 * instead of a partial result.
 */
export function createResponseBudget(maxBytes: number) {
  let used = 0;
  let exceeded = false;
  return {
    /** Returns `value` if it still fits; throws ResponseTooLargeError otherwise. */
    charge<T extends string | null | undefined>(value: T): T {
      if (value === null || value === undefined) return value;
      used += Buffer.byteLength(value, 'utf8');
      if (exceeded || used > maxBytes) {
        exceeded = true;
        throw new ResponseTooLargeError(maxBytes);
      }
      return value;
    },
    /** True once a charge failed. */
    get exceeded(): boolean {
      return exceeded;
    },
    /** A subscription starts over for each event: each is a response of its own. */
    reset(): void {
      used = 0;
      exceeded = false;
    },
    maxBytes,
  };
}

export type ResponseBudget = ReturnType<typeof createResponseBudget>;
