import { callersIdempotencyKey } from '../../delivery/idempotency-scope.ts';
import { paced } from '../context.ts';
import type {
  DispatchResolvers,
  MessageConnectionResolvers,
  MessageEdgeResolvers,
  MessageEventResolvers,
  MessageResolvers,
  SmtpConfigResolvers,
} from '../generated/types.ts';
import { isoTime, isoTimeOrNull } from '../scalars.ts';
import { encodeEventCursor } from './cursors.ts';

export const Message: MessageResolvers = {
  id: (message) => String(message.id),
  // Stored under the caller's token (delivery/idempotency-scope.ts); shown as it was given.
  idempotencyKey: (message) => callersIdempotencyKey(message.idempotencyKey),
  createdAt: (message) => isoTime(message.createdAtMs),
  updatedAt: (message) => isoTime(message.updatedAtMs),
  nextAttemptAt: (message) =>
    message.status === 'QUEUED' ? isoTimeOrNull(message.nextAttemptAtMs) : null,
  // A database read per message: paced, so 500 of them give the event loop back in between.
  dispatches: (message, _args, context) =>
    paced(context, () => context.dispatches.listForMessage(message.id)),
  events: (message, _args, context) =>
    paced(context, () => context.events.listForMessage(message.id)),
  // The reports are the events that recorded them, in the order received.
  reports: (message, _args, context) =>
    paced(context, async () =>
      message.outcome === null
        ? []
        : (await context.events.listForMessage(message.id)).filter(
            (event) => event.outcome !== null,
          ),
    ),
  // Up to 5 MB each: counted against the response size limit.
  text: (message, _args, { responseBudget }) => responseBudget.charge(message.text),
  html: (message, _args, { responseBudget }) => responseBudget.charge(message.html),
  submittedOverSmtp: (message) => message.submittedOverSmtp,
  submittedBy: (message) => message.submittedBy,
};

export const MessageEdge: MessageEdgeResolvers = {
  // Every message of a page is a step, whatever is selected of it.
  node: (edge, _args, context) => paced(context, () => edge.node),
};

export const MessageConnection: MessageConnectionResolvers = {
  totalCount: (connection, _args, { messages }) => messages.countMatching(connection.filter),
};

export const Dispatch: DispatchResolvers = {
  at: (dispatch) => isoTime(dispatch.atMs),
  transcript: (dispatch, _args, { responseBudget }) => responseBudget.charge(dispatch.transcript),
};

export const MessageEvent: MessageEventResolvers = {
  cursor: (event) => encodeEventCursor(event),
  at: (event) => isoTime(event.atMs),
  message: (event, _args, context) =>
    paced(context, async () => {
      const message = await context.eventMessages.of(event);
      // Messages are never deleted while their events exist (foreign key): this cannot happen.
      if (!message) throw new Error(`message ${event.messageId} of event ${event.seq} is missing`);
      return message;
    }),
};

export const SmtpConfig: SmtpConfigResolvers = {
  createdAt: (config) => isoTimeOrNull(config.createdAtMs),
};
