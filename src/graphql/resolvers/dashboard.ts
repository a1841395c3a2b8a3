import type { QueryResolvers } from '../generated/types.ts';
import { encodeEventCursor, logEnds } from './cursors.ts';

/** What the dashboard needs to follow the feed without a gap. */
export const DashboardQuery: Pick<QueryResolvers, 'eventCursor'> = {
  // Resolved before `messages` when selected first in the same request: events after it are
  // replayed by messageEvents(after:), so nothing between the page read and the subscription is
  // lost (a replayed change already in the page is applied twice, which is harmless).
  //
  // Not below what retention pruned: a pruned message may have had the newest events of all (a
  // late retry or report), and a cursor below them would be expired as soon as it is used.
  eventCursor: async (_parent, _args, { events }) =>
    encodeEventCursor((await logEnds(events)).newest),
};
