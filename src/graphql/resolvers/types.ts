import type {
  DispatchResolvers,
  MessageConnectionResolvers,
  MessageEventResolvers,
  MessageResolvers,
  SmtpConfigResolvers,
} from '../generated/types.ts';
import { isoTime, isoTimeOrNull } from '../scalars.ts';
import { encodeEventCursor } from './cursors.ts';

export const Message: MessageResolvers = {
  id: (message) => String(message.id),
  createdAt: (message) => isoTime(message.createdAtMs),
  updatedAt: (message) => isoTime(message.updatedAtMs),
  nextAttemptAt: (message) =>
    message.status === 'QUEUED' ? isoTimeOrNull(message.nextAttemptAtMs) : null,
  dispatches: (message, _args, { dispatches }) => dispatches.listForMessage(message.id),
  events: (message, _args, { events }) => events.listForMessage(message.id),
};

export const MessageConnection: MessageConnectionResolvers = {
  totalCount: (connection, _args, { messages }) => messages.countMatching(connection.filter),
};

export const Dispatch: DispatchResolvers = {
  at: (dispatch) => isoTime(dispatch.atMs),
};

export const MessageEvent: MessageEventResolvers = {
  cursor: (event) => encodeEventCursor(event),
  at: (event) => isoTime(event.atMs),
  message: async (event, _args, { eventMessages }) => {
    const message = await eventMessages.of(event);
    // Messages are never deleted while their events exist (foreign key), so this cannot happen.
    if (!message) throw new Error(`message ${event.messageId} of event ${event.seq} is missing`);
    return message;
  },
};

export const SmtpConfig: SmtpConfigResolvers = {
  createdAt: (config) => isoTimeOrNull(config.createdAtMs),
};
