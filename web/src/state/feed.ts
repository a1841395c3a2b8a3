import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { COUNT_QUERY, FEED_QUERY, EVENTS_SUBSCRIPTION, MORE_QUERY } from '../api/documents.ts';
import { graphql, GraphQLRequestError, isTransient, problemText } from '../api/http.ts';
import { connection, follow } from '../api/live.ts';
import type { MessageEvent, MessagePage, MessageRow } from '../api/types.ts';
import { admits, toEventFilter, toMessageFilter, type Filters } from './filters.ts';

export const PAGE_SIZE = 50;
const FLUSH_MS = 50;
const FIRST_RELOAD_MS = 500;
/** Events beyond the loaded rows make the count be asked again, at most this often. */
const RECOUNT_MS = 500;
const MAX_RELOAD_MS = 5_000;

export interface Feed {
  rows: MessageRow[];
  totalCount: number;
  hasNextPage: boolean;
  loading: boolean;
  /** False until the first page arrived: until then the rows and the count mean nothing. */
  loaded: boolean;
  error: string | null;
  /** Ids of rows that arrived live (for their entrance animation). */
  arrived: ReadonlySet<string>;
  /** The messages the last batch of events was about: the open detail panel refreshes on it. */
  lastBatch: ReadonlySet<string> | null;
  loadMore(): void;
}

interface FeedState {
  rows: MessageRow[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | null;
  arrived: Set<string>;
  lastBatch: ReadonlySet<string> | null;
}

const INITIAL: FeedState = {
  rows: [],
  totalCount: 0,
  hasNextPage: false,
  endCursor: null,
  loading: true,
  loaded: false,
  error: null,
  arrived: new Set(),
  lastBatch: null,
};

const byNewest = (a: MessageRow, b: MessageRow) => Number(b.id) - Number(a.id);

/**
 * Whether an event is about a message older than the rows loaded (on a page not fetched yet):
 * it may enter the filter or leave it, which the event alone cannot tell (it has the new status,
 * not the old), so only the server's count is right after it.
 */
function beyondLoadedRows(state: FeedState, event: MessageEvent): boolean {
  // Rows are newest first: an id below the last one is on no row loaded.
  const oldest = state.rows.at(-1);
  return state.hasNextPage && oldest !== undefined && Number(event.message.id) < Number(oldest.id);
}

/** Applies one event: the row changes in place, or a new row takes its place by age. */
function applyEvent(state: FeedState, event: MessageEvent, filters: Filters): FeedState {
  const message = event.message;
  const index = state.rows.findIndex((row) => row.id === message.id);
  if (index >= 0) {
    const current = state.rows[index]!;
    // Events may be replayed after a reconnect; an older copy must not undo a newer one.
    if (Date.parse(current.updatedAt) > Date.parse(message.updatedAt)) return state;
    const rows = state.rows.slice();
    rows[index] = message;
    return { ...state, rows };
  }
  if (!admits(filters, message, event.error)) return state;
  // A message older than the last row loaded belongs to a page not fetched yet.
  const oldest = state.rows.at(-1);
  if (state.hasNextPage && oldest && Number(message.id) < Number(oldest.id)) {
    return state;
  }
  const rows = [...state.rows, message].sort(byNewest);
  const arrived = new Set(state.arrived).add(message.id);
  return { ...state, rows, arrived, totalCount: state.totalCount + 1 };
}

/**
 * The message table's data: the newest page for `filters`, then every change from the event
 * feed, resumed from the last cursor after a reconnect or a server restart.
 */
export function useFeed(filters: Filters, filterKey: string, authEpoch: number): Feed {
  const [state, setState] = useState<FeedState>(INITIAL);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const queryFilter = useRef<Record<string, unknown>>({});
  // Bumped when retention pruned the events after our cursor: the page is read again.
  const [resync, setResync] = useState(0);

  useEffect(() => {
    let cancelled = false;
    let stop: (() => void) | null = null;
    let stopRecount: (() => void) | null = null;
    let reloadTimer: ReturnType<typeof setTimeout> | null = null;
    let stopWaitingForConnection: (() => void) | null = null;
    let reloadMs = FIRST_RELOAD_MS;
    setState({ ...INITIAL, arrived: new Set() });
    const filter = toMessageFilter(filtersRef.current, Date.now());
    queryFilter.current = filter;

    const stopRetrying = () => {
      if (reloadTimer) clearTimeout(reloadTimer);
      reloadTimer = null;
      stopWaitingForConnection?.();
      stopWaitingForConnection = null;
    };
    // A page that failed to load is asked for again, backing off, and at once when the live
    // connection comes back: without it the table would stay empty for good.
    const retryLater = () => {
      reloadTimer = setTimeout(load, reloadMs);
      reloadMs = Math.min(reloadMs * 2, MAX_RELOAD_MS);
      stopWaitingForConnection = connection.subscribe((state) => {
        if (state === 'live') load();
      });
    };

    const load = () => {
      stopRetrying();
      if (cancelled) return;
      graphql<{ eventCursor: string; messages: MessagePage }>(FEED_QUERY, {
        filter,
        first: PAGE_SIZE,
      }).then(onPage, (error: unknown) => {
        if (cancelled) return;
        const transient = isTransient(error);
        const problem = problemText(error);
        setState({
          ...INITIAL,
          arrived: new Set(),
          loading: transient,
          error:
            problem === null
              ? null
              : error instanceof GraphQLRequestError && error.code === 'FORBIDDEN'
                ? 'This token may not read messages: the dashboard needs a READ or ADMIN token.'
                : `The messages could not be loaded: ${problem.replace(/\.$/, '')}.${
                    transient ? ' Trying again…' : ''
                  }`,
        });
        if (transient) retryLater();
      });
    };

    const onPage = ({ eventCursor, messages }: { eventCursor: string; messages: MessagePage }) => {
      if (cancelled) return;
      setState({
        ...INITIAL,
        arrived: new Set(),
        rows: messages.edges.map((edge) => edge.node),
        totalCount: messages.totalCount,
        hasNextPage: messages.pageInfo.hasNextPage,
        endCursor: messages.pageInfo.endCursor,
        loading: false,
        loaded: true,
      });
      let cursor = eventCursor;
      // Events are applied in batches: a replay after a long disconnect or a burst of mail
      // re-renders the table a few times a second, not once per event.
      let pending: MessageEvent[] = [];
      let flushTimer: ReturnType<typeof setTimeout> | null = null;
      let recountTimer: ReturnType<typeof setTimeout> | null = null;
      const recount = () => {
        recountTimer = null;
        if (cancelled) return;
        graphql<{ messages: { totalCount: number } }>(COUNT_QUERY, { filter }).then(
          ({ messages: counted }) => {
            if (!cancelled) setState((current) => ({ ...current, totalCount: counted.totalCount }));
          },
          // The count stays as it was; the next event beyond the rows asks again.
          () => {},
        );
      };
      stopRecount = () => {
        if (recountTimer) clearTimeout(recountTimer);
      };
      const flush = () => {
        flushTimer = null;
        const batch = pending;
        pending = [];
        if (cancelled) return;
        const ids = new Set(batch.map((event) => event.message.id));
        setState((current) => {
          if (batch.some((event) => beyondLoadedRows(current, event))) {
            recountTimer ??= setTimeout(recount, RECOUNT_MS);
          }
          return {
            ...batch.reduce(
              (state, event) => applyEvent(state, event, filtersRef.current),
              current,
            ),
            lastBatch: ids,
          };
        });
      };
      const eventFilter = toEventFilter(filter);
      stop = follow<{ messageEvents: MessageEvent }>(
        EVENTS_SUBSCRIPTION,
        () => ({ filter: eventFilter, after: cursor }),
        {
          next: ({ messageEvents: event }) => {
            cursor = event.cursor;
            pending.push(event);
            flushTimer ??= setTimeout(flush, FLUSH_MS);
          },
          error: (message, code) => {
            if (code === 'CURSOR_EXPIRED') {
              stop?.();
              setResync((count) => count + 1);
              return;
            }
            setState((current) => ({ ...current, error: message }));
          },
        },
      );
    };

    load();
    return () => {
      cancelled = true;
      stopRetrying();
      stopRecount?.();
      stop?.();
    };
  }, [filterKey, authEpoch, resync]);

  const loadMore = useCallback(() => {
    setState((current) => {
      if (!current.hasNextPage || current.loading) return current;
      graphql<{ messages: Omit<MessagePage, 'totalCount'> }>(MORE_QUERY, {
        filter: queryFilter.current,
        first: PAGE_SIZE,
        after: current.endCursor,
      }).then(
        ({ messages }) =>
          setState((latest) => {
            const known = new Set(latest.rows.map((row) => row.id));
            const older = messages.edges.map((edge) => edge.node).filter((m) => !known.has(m.id));
            return {
              ...latest,
              rows: [...latest.rows, ...older],
              hasNextPage: messages.pageInfo.hasNextPage,
              endCursor: messages.pageInfo.endCursor,
              loading: false,
            };
          }),
        (error: unknown) =>
          setState((latest) => ({
            ...latest,
            loading: false,
            error: error instanceof Error ? error.message : String(error),
          })),
      );
      return { ...current, loading: true };
    });
  }, []);

  return {
    rows: state.rows,
    totalCount: state.totalCount,
    hasNextPage: state.hasNextPage,
    loading: state.loading,
    loaded: state.loaded,
    error: state.error,
    arrived: state.arrived,
    lastBatch: state.lastBatch,
    loadMore,
  };
}
