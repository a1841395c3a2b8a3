import type { DeliveryStatsReport } from '../../delivery/delivery-stats.ts';
import { streamEvents, type StreamItem } from '../../delivery/event-stream.ts';
import { streamQueueStats } from '../../delivery/stats-stream.ts';
import { BadUserInputError, CursorExpiredError } from '../errors.ts';
import { recipientKey, subjectMatches } from '../../db/message-filter.ts';
import { comparePositions, LOG_START } from '../../domain/event-position.ts';
import type { MessageEvent } from '../../domain/message.ts';
import { toListFilter } from '../filters.ts';
import type { SubscriptionResolvers } from '../generated/types.ts';
import type { GraphQLContext } from '../context.ts';
import { decodeEventCursor, encodeEventCursor, logEnds } from './cursors.ts';

export const Subscription: SubscriptionResolvers = {
  messageEvents: {
    async subscribe(_parent, { filter, after }, { events, bus, messages }) {
      const list = toListFilter(filter, 'filter');
      // These ask about a message's whole attempt history, which an event does not carry: refused
      // rather than ignored (a subscriber asking for AUTH failures got every event).
      const historyOnly = [
        ['errorCode', list.errorCodes],
        ['everFailed', list.everFailed],
        ['smtpConfigVersion', list.smtpConfigVersion],
      ].filter(([, value]) => value !== undefined);
      if (historyOnly.length > 0) {
        throw new BadUserInputError(
          historyOnly.map(([field]) => ({
            field: `filter.${String(field)}`,
            problem:
              'is not available on messageEvents (it is about all of a message’s attempts, which one event does not carry): query messages with it, or follow the feed by status, recipient, subject, time or outcome',
          })),
        );
      }
      const from = after == null ? null : decodeEventCursor(after, 'after');
      if (from !== null && comparePositions(from, LOG_START) > 0) {
        const { pruned, newest } = await logEnds(events);
        // "0" always means "from the oldest retained event"; a later cursor must not skip any.
        if (comparePositions(from, pruned) < 0) throw new CursorExpiredError('after');
        // A cursor this log never reached (another database, or one restored from an older
        // backup) would swallow every live event until the log caught up with it.
        if (comparePositions(from, newest) > 0) {
          throw new BadUserInputError([
            {
              field: 'after',
              problem: `is ahead of this event log (its newest cursor is ${encodeEventCursor(newest)}): it comes from another database, or from before a restore of an older backup; read the current state (messages) and subscribe after eventCursor`,
            },
          ]);
        }
      }
      // Conditions on the message's creation time or subject need the message itself.
      const needsMessage =
        list.createdAfterMs !== undefined ||
        list.createdBeforeMs !== undefined ||
        (list.subjectContains !== undefined && list.subjectContains !== '');
      // On the feed, an outcome filter picks the events that record a report of that outcome.
      const outcomes = list.outcomes && list.outcomes.length > 0 ? new Set(list.outcomes) : null;
      const onMessage = needsMessage
        ? async (event: MessageEvent) => {
            const message = await messages.find(event.messageId);
            if (!message) return false;
            if (list.createdAfterMs !== undefined && message.createdAtMs < list.createdAfterMs)
              return false;
            if (list.createdBeforeMs !== undefined && message.createdAtMs >= list.createdBeforeMs)
              return false;
            return subjectMatches(message.subject, list.subjectContains ?? '');
          }
        : undefined;
      const matches =
        outcomes === null
          ? onMessage
          : (event: MessageEvent) =>
              event.outcome !== null &&
              outcomes.has(event.outcome) &&
              (onMessage ? onMessage(event) : true);
      const stream = streamEvents({
        events,
        bus,
        after: from,
        filter: {
          ...(list.statuses ? { statuses: list.statuses } : {}),
          ...(list.recipient !== undefined ? { recipientKey: recipientKey(list.recipient) } : {}),
        },
        ...(matches ? { matches } : {}),
        prunedThrough: () => events.prunedThrough(),
      });
      return stream as AsyncIterable<never>;
    },
    resolve: (item: StreamItem, _args: unknown, { responseBudget }: GraphQLContext) => {
      // Retention pruned events this reader had not replayed yet: the same answer as for an
      // expired cursor at the start, as the stream's last message.
      if ('cursorExpired' in item) throw new CursorExpiredError('after');
      // Each event's result is a response of its own, with its own size limit.
      responseBudget.reset();
      return item;
    },
  },

  queueStats: {
    subscribe(_parent, { windowSeconds, intervalMs }, { bus, deliveryStats }) {
      const window = windowSeconds ?? 3_600;
      if (!Number.isInteger(window) || window < 1 || window > 30 * 86_400) {
        throw new BadUserInputError([
          { field: 'windowSeconds', problem: 'must be between 1 and 2592000 (30 days)' },
        ]);
      }
      return streamQueueStats({
        bus,
        stats: deliveryStats,
        windowMs: window * 1_000,
        // A dashboard needs a few updates a second at most; more would only burn CPU.
        intervalMs: Math.max(MIN_STATS_INTERVAL_MS, intervalMs ?? 1_000),
      }) as AsyncIterable<never>;
    },
    resolve: (report: DeliveryStatsReport) => report,
  },
};

const MIN_STATS_INTERVAL_MS = 250;
