import { getTableColumns } from 'drizzle-orm';
import { messages } from './schema.ts';

/**
 * A message as reads see it. The submitted bytes live in `submissions` (up to
 * SUBMISSION_MAX_BYTES each, stored once per submission): only a claim loads them.
 */
export const messageReadColumns = getTableColumns(messages);
