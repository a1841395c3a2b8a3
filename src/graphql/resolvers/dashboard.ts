import type { QueryResolvers } from '../generated/types.ts';
import { encodeEventCursor } from './cursors.ts';

/** What the dashboard needs to follow the feed without a gap and to know what it may show. */
export const DashboardQuery: Pick<QueryResolvers, 'eventCursor' | 'viewer'> = {
  // Resolved before `messages` when selected first in the same request: events after it are
  // replayed by messageEvents(after:), so nothing between the page read and the subscription is
  // lost (a replayed change already in the page is applied twice, which is harmless).
  eventCursor: (_parent, _args, { events }) => encodeEventCursor(events.latestSeq()),

  // One scope exists until named tokens with scopes land: whoever got past the token check may
  // do everything.
  viewer: () => ({ scope: 'ADMIN', tokenName: null }),
};
