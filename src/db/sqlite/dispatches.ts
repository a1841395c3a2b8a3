import { asc, eq, sql } from 'drizzle-orm';
import type { Dispatch } from '../../domain/message.ts';
import type { Db } from './client.ts';
import { toDispatch } from '../rows.ts';
import { dispatches } from './schema.ts';

export function createDispatchRepository(db: Db) {
  const forMessage = db
    .select()
    .from(dispatches)
    .where(eq(dispatches.messageId, sql.placeholder('id')))
    .orderBy(asc(dispatches.attempt), asc(dispatches.id))
    .prepare();

  return {
    /** One per attempt, oldest first. */
    listForMessage(messageId: number): Dispatch[] {
      return forMessage.all({ id: messageId }).map(toDispatch);
    },
  };
}

export type DispatchRepository = ReturnType<typeof createDispatchRepository>;
