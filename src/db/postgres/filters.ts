import { foldForSearch, recipientKey, type MessageListFilter } from '../message-filter.ts';

/** A WHERE clause over `messages m` and its parameters, numbered from `firstParam`. */
export interface Condition {
  sql: string;
  values: unknown[];
}

/** LIKE's own characters in a user's text match themselves (the escape is a backslash). */
function likeContaining(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The filter as SQL, with the meaning message-filter.ts gives it: recipients by their stored key,
 * subjects by their stored fold (searched through the trigram index), never the server's lower().
 */
export function filterCondition(filter: MessageListFilter, firstParam = 1): Condition {
  const parts: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${firstParam + values.length - 1}`;
  };
  if (filter.statuses && filter.statuses.length > 0) {
    parts.push(`m.status = ANY(${param([...filter.statuses])}::text[])`);
  }
  if (filter.recipient !== undefined) {
    parts.push(`m.recipient_key = ${param(recipientKey(filter.recipient))}`);
  }
  if (filter.outcomes && filter.outcomes.length > 0) {
    parts.push(`m.outcome = ANY(${param([...filter.outcomes])}::text[])`);
  }
  if (filter.createdAfterMs !== undefined) {
    parts.push(`m.created_at >= ${param(filter.createdAfterMs)}::bigint`);
  }
  if (filter.createdBeforeMs !== undefined) {
    parts.push(`m.created_at < ${param(filter.createdBeforeMs)}::bigint`);
  }
  if (filter.subjectContains !== undefined && filter.subjectContains !== '') {
    parts.push(
      `m.subject_folded LIKE ${param(likeContaining(foldForSearch(filter.subjectContains)))}`,
    );
  }
  if (filter.everFailed !== undefined) {
    // A literal, not a parameter: a generic plan could not use the partial index.
    parts.push(filter.everFailed ? 'm.ever_failed' : 'NOT m.ever_failed');
  }
  if (filter.errorCodes && filter.errorCodes.length > 0) {
    parts.push(
      `EXISTS (SELECT 1 FROM dispatches d WHERE d.message_id = m.id AND d.error_code = ANY(${param([...filter.errorCodes])}::text[]))`,
    );
  }
  if (filter.smtpConfigVersion !== undefined) {
    parts.push(
      `EXISTS (SELECT 1 FROM dispatches d WHERE d.message_id = m.id AND d.smtp_config_version = ${param(filter.smtpConfigVersion)}::int)`,
    );
  }
  if (filter.lastErrorCodes && filter.lastErrorCodes.length > 0) {
    parts.push(`(m.last_error ->> 'code') = ANY(${param([...filter.lastErrorCodes])}::text[])`);
  }
  if (filter.updatedAfterMs !== undefined) {
    parts.push(`m.updated_at >= ${param(filter.updatedAfterMs)}::bigint`);
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'true', values };
}
