import type { Principal } from '../../auth/principal.ts';
import type { SuppressionActor } from '../../db/port.ts';
import { addressProblem } from '../../delivery/input-rules.ts';
import { BadUserInputError } from '../errors.ts';
import type {
  DeliveryReportResolvers,
  MutationResolvers,
  QueryResolvers,
  SuppressionConnectionResolvers,
  SuppressionEdgeResolvers,
  SuppressionResolvers,
  UnmatchedReportResolvers,
} from '../generated/types.ts';
import { isoTime } from '../scalars.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const DETAIL_MAX = 1_000;
const CURSOR_PREFIX = 'suppression:';

function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE) {
    throw new BadUserInputError([{ field: 'first', problem: `must be between 0 and ${MAX_PAGE}` }]);
  }
  return size;
}

function encodeCursor(id: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  const id = decoded.startsWith(CURSOR_PREFIX)
    ? Number(decoded.slice(CURSOR_PREFIX.length))
    : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new BadUserInputError([{ field: 'after', problem: 'is not a cursor this API returned' }]);
  }
  return id;
}

/** The address as given, checked by the same rules as sendEmail's `to`. */
function validAddress(address: string): string {
  const trimmed = address.trim();
  const problem = addressProblem(trimmed);
  if (problem) throw new BadUserInputError([{ field: 'address', problem }]);
  return trimmed;
}

/** Who changes the list, recorded with the change (never the token itself). */
function actorOf(principal: Principal): SuppressionActor {
  if (principal.kind === 'token') return { kind: 'token', tokenId: principal.tokenId };
  return { kind: principal.kind === 'bootstrap' ? 'api_token' : 'anonymous', tokenId: null };
}

export const SuppressionQuery: Pick<QueryResolvers, 'suppressions' | 'unmatchedReports'> = {
  async suppressions(_parent, { address, first, after }, { suppressions }) {
    const size = pageSize(first);
    const afterId = after == null ? null : decodeCursor(after);
    return suppressions.list(address == null ? null : address.trim(), size, afterId);
  },

  unmatchedReports(_parent, { first }, { reports }) {
    return reports.listUnmatched(pageSize(first));
  },
};

export const SuppressionMutation: Pick<MutationResolvers, 'addSuppression' | 'removeSuppression'> =
  {
    async addSuppression(_parent, { address, detail }, { suppressions, principal }) {
      const valid = validAddress(address);
      if (detail != null && detail.length > DETAIL_MAX) {
        throw new BadUserInputError([
          { field: 'detail', problem: `must be at most ${DETAIL_MAX} characters` },
        ]);
      }
      const { suppression } = await suppressions.add(
        { address: valid, reason: 'MANUAL', detail: detail ?? null },
        actorOf(principal),
        Date.now(),
      );
      return suppression;
    },

    removeSuppression(_parent, { address }, { suppressions, principal }) {
      return suppressions.remove(validAddress(address), actorOf(principal), Date.now());
    },
  };

export const Suppression: SuppressionResolvers = {
  createdAt: (entry) => isoTime(entry.createdAtMs),
  message: (entry, _args, { messages }) =>
    entry.messageId === null ? null : messages.find(entry.messageId),
};

export const SuppressionConnection: SuppressionConnectionResolvers = {
  edges: (page) => page.suppressions,
  pageInfo: (page) => ({
    hasNextPage: page.hasNextPage,
    endCursor: page.suppressions.length === 0 ? null : encodeCursor(page.suppressions.at(-1)!.id),
  }),
  totalCount: (page) => page.totalCount,
};

export const SuppressionEdge: SuppressionEdgeResolvers = {
  cursor: (entry) => encodeCursor(entry.id),
  node: (entry) => entry,
};

export const UnmatchedReport: UnmatchedReportResolvers = {
  at: (report) => isoTime(report.atMs),
};

/** A report is the event that recorded it. */
export const DeliveryReport: DeliveryReportResolvers = {
  at: (event) => isoTime(event.atMs),
  outcome: (event) => event.outcome!,
  source: (event) => event.report!.source,
  bounceType: (event) => event.report?.bounceType ?? null,
  enhancedStatus: (event) => event.report?.enhancedStatus ?? null,
  diagnostic: (event) => event.report?.diagnostic ?? null,
  remoteMta: (event) => event.report?.remoteMta ?? null,
  hint: (event) => event.report?.hint ?? null,
};
