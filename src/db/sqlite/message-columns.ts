import { getTableColumns, sql } from 'drizzle-orm';
import { messages } from './schema.ts';

const { rawMime: _bytes, ...withoutBytes } = getTableColumns(messages);

/**
 * A message as reads see it: whether it was submitted over SMTP, not the submitted bytes (up to
 * SUBMISSION_MAX_BYTES each; a page of them, or the feed's reads, must not carry them). Claims
 * read the whole row.
 */
export const messageReadColumns = {
  ...withoutBytes,
  submittedOverSmtp: sql<number>`${messages.rawMime} is not null`,
};
