import type { MessageListFilter } from '../db/port.ts';
import type { MessageFilter } from './generated/types.ts';
import { LIMITS } from '../delivery/input-rules.ts';
import { BadUserInputError, type InputFieldProblem } from './errors.ts';
import { parseIsoTime } from './scalars.ts';

/**
 * GraphQL's MessageFilter -> the repository's filter; bad times are BAD_USER_INPUT, and so are
 * values no message could match. A 10 MB list of statuses or a 5 MB subject search held the
 * main thread for seconds and then failed inside the database: lists are read once per value
 * (an enum has few), and a needle longer than any subject or address is refused up front.
 */
export function toListFilter(filter: MessageFilter | null | undefined, field: string) {
  const result: MessageListFilter = {};
  if (!filter) return result;
  const tooLong: InputFieldProblem[] = [];
  if (filter.recipient != null && filter.recipient.length > LIMITS.addressLength) {
    tooLong.push({
      field: `${field}.recipient`,
      problem: `must be at most ${LIMITS.addressLength} characters (no address is longer)`,
    });
  }
  if (filter.subjectContains != null && filter.subjectContains.length > LIMITS.subjectLength) {
    tooLong.push({
      field: `${field}.subjectContains`,
      problem: `must be at most ${LIMITS.subjectLength} characters (no subject is longer)`,
    });
  }
  if (tooLong.length > 0) throw new BadUserInputError(tooLong);
  if (filter.status) result.statuses = [...new Set(filter.status)];
  if (filter.recipient != null) result.recipient = filter.recipient;
  if (filter.createdAfter != null) {
    result.createdAfterMs = parseIsoTime(filter.createdAfter, `${field}.createdAfter`);
  }
  if (filter.createdBefore != null) {
    result.createdBeforeMs = parseIsoTime(filter.createdBefore, `${field}.createdBefore`);
  }
  if (filter.subjectContains != null) result.subjectContains = filter.subjectContains;
  if (filter.errorCode != null) result.errorCodes = [...new Set(filter.errorCode)];
  if (filter.everFailed != null) result.everFailed = filter.everFailed;
  if (filter.smtpConfigVersion != null) result.smtpConfigVersion = filter.smtpConfigVersion;
  if (filter.outcome != null) result.outcomes = [...new Set(filter.outcome)];
  return result;
}
