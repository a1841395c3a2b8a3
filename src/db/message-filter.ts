import type { DeliveryErrorCode } from '../domain/delivery-error.ts';
import { MESSAGE_STATUSES, type MessageStatus } from '../domain/message.ts';
import type { DeliveryOutcome } from '../domain/report.ts';

/** Which messages a list, a count or a bulk action is about; absent fields do not filter. */
export interface MessageListFilter {
  statuses?: readonly MessageStatus[];
  /** The whole address, compared case-insensitively (see `recipientKey`). */
  recipient?: string;
  createdAfterMs?: number;
  createdBeforeMs?: number;
  /** Text in the subject, compared case-insensitively (see `foldForSearch`). */
  subjectContains?: string;
  /** Some attempt failed with one of these codes. */
  errorCodes?: readonly DeliveryErrorCode[];
  /** true: some attempt failed; false: none did. */
  everFailed?: boolean;
  /** Some attempt used this configuration version. */
  smtpConfigVersion?: number;
  /** The last failed attempt's code is one of these. */
  lastErrorCodes?: readonly DeliveryErrorCode[];
  /** What reports said after SENT (Message.outcome) is one of these. */
  outcomes?: readonly DeliveryOutcome[];
  /** Changed at or after this time. */
  updatedAfterMs?: number;
}

/**
 * What "case-insensitively" means for a recipient, everywhere: the stored key, the SQL filter
 * of either dialect and the live feed's filter all compare this.
 */
export function recipientKey(address: string): string {
  return address.toLowerCase();
}

/**
 * What "contains, case-insensitively" means for subjects, everywhere: a subject matches when
 * its folded form contains the folded term. The SQL of both dialects compares text folded by
 * this function (never the database's own lower(), which folds ASCII only on SQLite and by
 * locale on PostgreSQL), and the live feed calls it too.
 */
export function foldForSearch(text: string): string {
  return text.toLowerCase();
}

/** The subject condition, as the live feed applies it (and the reference for both SQLs). */
export function subjectMatches(subject: string, term: string): boolean {
  return term === '' || foldForSearch(subject).includes(foldForSearch(term));
}

/** The fields a filter sets (a field present with `undefined` does not filter). */
export function askedFields(filter: MessageListFilter): (keyof MessageListFilter)[] {
  return (Object.keys(filter) as (keyof MessageListFilter)[]).filter(
    (field) => filter[field] !== undefined,
  );
}

/**
 * The statuses a filter that asks for nothing else matches (every status when it names none),
 * or null when it also asks for something else: such a count is a sum of the counts by status.
 */
export function statusesOnly(filter: MessageListFilter): readonly MessageStatus[] | null {
  if (askedFields(filter).some((field) => field !== 'statuses')) return null;
  const statuses = filter.statuses ?? [];
  return statuses.length === 0 ? MESSAGE_STATUSES : [...new Set(statuses)];
}
