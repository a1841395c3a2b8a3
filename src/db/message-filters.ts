import { and, eq, exists, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { DeliveryErrorCode } from '../domain/delivery-error.ts';
import type { MessageStatus } from '../domain/message.ts';
import type { Db } from './client.ts';
import { dispatches, messages } from './schema.ts';

export interface MessageListFilter {
  statuses?: readonly MessageStatus[];
  recipient?: string;
  createdAfterMs?: number;
  createdBeforeMs?: number;
  subjectContains?: string;
  /** Some attempt failed with one of these codes. */
  errorCodes?: readonly DeliveryErrorCode[];
  /** true: some attempt failed; false: none did. */
  everFailed?: boolean;
  /** Some attempt used this configuration version. */
  smtpConfigVersion?: number;
  /** The last failed attempt's code is one of these. */
  lastErrorCodes?: readonly DeliveryErrorCode[];
  /** Changed at or after this time. */
  updatedAfterMs?: number;
}

export function filterConditions(db: Db, filter: MessageListFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(inArray(messages.status, [...filter.statuses]));
  }
  if (filter.recipient !== undefined) {
    conditions.push(eq(messages.recipientKey, filter.recipient.toLowerCase()));
  }
  if (filter.createdAfterMs !== undefined) {
    conditions.push(gte(messages.createdAt, filter.createdAfterMs));
  }
  if (filter.createdBeforeMs !== undefined) {
    conditions.push(lt(messages.createdAt, filter.createdBeforeMs));
  }
  if (filter.subjectContains !== undefined && filter.subjectContains !== '') {
    // instr on lower() avoids LIKE's wildcard characters in user input.
    conditions.push(
      sql`instr(lower(${messages.subject}), ${filter.subjectContains.toLowerCase()}) > 0`,
    );
  }
  if (filter.everFailed !== undefined) {
    conditions.push(eq(messages.everFailed, filter.everFailed));
  }
  // "Some attempt …" conditions: an index lookup in dispatches per candidate message.
  const someDispatch = (condition: SQL) =>
    exists(
      db
        .select({ one: sql`1` })
        .from(dispatches)
        .where(and(condition, eq(dispatches.messageId, messages.id))),
    );
  if (filter.errorCodes && filter.errorCodes.length > 0) {
    conditions.push(someDispatch(inArray(dispatches.errorCode, [...filter.errorCodes])));
  }
  if (filter.smtpConfigVersion !== undefined) {
    conditions.push(someDispatch(eq(dispatches.smtpConfigVersion, filter.smtpConfigVersion)));
  }
  if (filter.lastErrorCodes && filter.lastErrorCodes.length > 0) {
    conditions.push(
      inArray(sql`json_extract(${messages.lastError}, '$.code')`, [...filter.lastErrorCodes]),
    );
  }
  if (filter.updatedAfterMs !== undefined) {
    conditions.push(gte(messages.updatedAt, filter.updatedAfterMs));
  }
  return conditions;
}

export function whereOf(db: Db, filter: MessageListFilter): SQL | undefined {
  const conditions = filterConditions(db, filter);
  return conditions.length > 0 ? and(...conditions) : undefined;
}
