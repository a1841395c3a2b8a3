import type { MessageListFilter } from '../db/port.ts';
import type { MessageFilter } from './generated/types.ts';
import { parseIsoTime } from './scalars.ts';

/** GraphQL's MessageFilter -> the repository's filter; bad times are BAD_USER_INPUT. */
export function toListFilter(filter: MessageFilter | null | undefined, field: string) {
  const result: MessageListFilter = {};
  if (!filter) return result;
  if (filter.status) result.statuses = filter.status;
  if (filter.recipient != null) result.recipient = filter.recipient;
  if (filter.createdAfter != null) {
    result.createdAfterMs = parseIsoTime(filter.createdAfter, `${field}.createdAfter`);
  }
  if (filter.createdBefore != null) {
    result.createdBeforeMs = parseIsoTime(filter.createdBefore, `${field}.createdBefore`);
  }
  if (filter.subjectContains != null) result.subjectContains = filter.subjectContains;
  if (filter.errorCode != null) result.errorCodes = filter.errorCode;
  if (filter.everFailed != null) result.everFailed = filter.everFailed;
  if (filter.smtpConfigVersion != null) result.smtpConfigVersion = filter.smtpConfigVersion;
  if (filter.outcome != null) result.outcomes = filter.outcome;
  return result;
}
