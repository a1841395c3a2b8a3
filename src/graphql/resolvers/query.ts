import { toView } from '../../delivery/smtp-settings.ts';
import { BadUserInputError } from '../errors.ts';
import { toListFilter } from '../filters.ts';
import type { QueryResolvers } from '../generated/types.ts';
import { parseMessageId } from '../scalars.ts';
import { decodeMessageCursor, encodeMessageCursor } from './cursors.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

export const Query: QueryResolvers = {
  smtpConfig(_parent, _args, { settings }) {
    const active = settings.current();
    return active ? toView(active) : null;
  },

  smtpConfigHistory(_parent, _args, { settings }) {
    return settings.history();
  },

  message(_parent, { id }, { messages }) {
    const rowId = parseMessageId(id);
    return rowId === null ? null : messages.find(rowId);
  },

  async messages(_parent, { filter, first, after }, { messages }) {
    const pageSize = first ?? DEFAULT_PAGE;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE) {
      throw new BadUserInputError([
        { field: 'first', problem: `must be between 0 and ${MAX_PAGE}` },
      ]);
    }
    const afterId = after == null ? null : decodeMessageCursor(after, 'after');
    const listFilter = toListFilter(filter, 'filter');
    const page = await messages.list(listFilter, pageSize, afterId);
    const edges = page.messages.map((node) => ({ cursor: encodeMessageCursor(node.id), node }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      filter: listFilter,
    };
  },
};
