import type { DispatchStore } from '../port.ts';
import { toDispatch, type DispatchRow } from '../rows.ts';
import type { PostgresClient } from './client.ts';
import { dispatchColumns } from './columns.ts';

const FOR_MESSAGE = {
  name: 'mailscope-dispatches-for-message',
  text: `SELECT ${dispatchColumns()} FROM dispatches WHERE message_id = $1 ORDER BY attempt, id`,
};

export function createPostgresDispatches(client: PostgresClient): DispatchStore {
  return {
    async listForMessage(messageId) {
      const { rows } = await client.query<DispatchRow>({ ...FOR_MESSAGE, values: [messageId] });
      return rows.map(toDispatch);
    },
  };
}
