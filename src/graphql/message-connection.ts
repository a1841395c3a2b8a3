import type { MessageListFilter } from '../db/port.ts';
import type { Message } from '../domain/message.ts';

/**
 * What the `messages` resolver returns. totalCount is left to its own resolver: counting a
 * filter over a large history costs far more than the page itself, so only callers that ask
 * for it pay for it.
 */
export interface MessageConnectionModel {
  edges: { cursor: string; node: Message }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  filter: MessageListFilter;
}
