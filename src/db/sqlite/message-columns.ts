import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { messages } from './schema.ts';

/**
 * A message as reads see it. The submitted bytes live in `submissions` (up to
 * SUBMISSION_MAX_BYTES each, stored once per submission): only a claim loads them.
 */
export const messageReadColumns = getTableColumns(messages);

/** One message by the placeholder `id`, as reads see it (not yet prepared). */
export const messageByIdQuery = (db: Db) =>
  db
    .select(messageReadColumns)
    .from(messages)
    .where(eq(messages.id, sql.placeholder('id')));
