import { streamEvents } from '../../delivery/event-stream.ts';
import type { MessageEvent } from '../../domain/message.ts';
import { toListFilter } from '../filters.ts';
import type { SubscriptionResolvers } from '../generated/types.ts';
import { decodeEventCursor } from './cursors.ts';

export const Subscription: SubscriptionResolvers = {
  messageEvents: {
    subscribe(_parent, { filter, after }, { events, bus, messages }) {
      const list = toListFilter(filter, 'filter');
      const afterSeq = after == null ? null : decodeEventCursor(after, 'after');
      // Conditions on the message's creation time or subject need the message itself.
      const needsMessage =
        list.createdAfterMs !== undefined ||
        list.createdBeforeMs !== undefined ||
        (list.subjectContains !== undefined && list.subjectContains !== '');
      const subject = list.subjectContains?.toLowerCase();
      const matches = needsMessage
        ? (event: MessageEvent) => {
            const message = messages.find(event.messageId);
            if (!message) return false;
            if (list.createdAfterMs !== undefined && message.createdAtMs < list.createdAfterMs)
              return false;
            if (list.createdBeforeMs !== undefined && message.createdAtMs >= list.createdBeforeMs)
              return false;
            return subject === undefined || message.subject.toLowerCase().includes(subject);
          }
        : undefined;
      const stream = streamEvents({
        events,
        bus,
        afterSeq,
        filter: {
          ...(list.statuses ? { statuses: list.statuses } : {}),
          ...(list.recipient !== undefined ? { recipientKey: list.recipient.toLowerCase() } : {}),
        },
        ...(matches ? { matches } : {}),
      });
      return stream as AsyncIterable<never>;
    },
    resolve: (event: MessageEvent) => event,
  },
};
