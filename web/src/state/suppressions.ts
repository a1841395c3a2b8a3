import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  ADD_SUPPRESSION,
  LIST_CHANGES_SUBSCRIPTION,
  REMOVE_SUPPRESSION,
  SUPPRESSIONS_QUERY,
  UNMATCHED_REPORTS_QUERY,
} from '../api/documents.ts';
import { graphql, problemText } from '../api/http.ts';
import { follow } from '../api/live.ts';
import type { Suppression, SuppressionPage, UnmatchedReport } from '../api/types.ts';

export const SUPPRESSION_PAGE_SIZE = 50;
/** The API's largest page: a reload keeps at most this many rows loaded. */
const MAX_PAGE = 500;

/**
 * A number that goes up whenever a bounce, a complaint or an unmatched report arrives, so the
 * lists built from them are read again.
 */
export function useListChanges(epoch: number): number {
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    let last: string | null = null;
    return follow<{ queueStats: Record<string, number> }>(LIST_CHANGES_SUBSCRIPTION, () => ({}), {
      next: ({ queueStats }) => {
        const figures = JSON.stringify(queueStats);
        if (last !== null && figures !== last) setChanges((count) => count + 1);
        last = figures;
      },
    });
  }, [epoch]);
  return changes;
}

export interface SuppressionList {
  rows: Suppression[];
  totalCount: number;
  hasNextPage: boolean;
  loading: boolean;
  error: string | null;
  loadMore(): void;
  /** Resolves with an error message for a person, or null when it worked. */
  add(address: string, detail: string): Promise<string | null>;
  remove(address: string): Promise<string | null>;
}

interface ListState {
  rows: Suppression[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
  loading: boolean;
  error: string | null;
}

const EMPTY: ListState = {
  rows: [],
  totalCount: 0,
  hasNextPage: false,
  endCursor: null,
  loading: true,
  error: null,
};

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The suppression list, newest first, narrowed to `address` when one is given. */
export function useSuppressions(address: string, epoch: number, changes: number): SuppressionList {
  const [state, setState] = useState<ListState>(EMPTY);
  const loaded = useRef(0);
  loaded.current = state.rows.length;
  const filter = address.trim() || null;

  const reload = useCallback(
    (keepLoaded: boolean) => {
      const first = keepLoaded
        ? Math.min(MAX_PAGE, Math.max(SUPPRESSION_PAGE_SIZE, loaded.current))
        : SUPPRESSION_PAGE_SIZE;
      return graphql<{ suppressions: SuppressionPage }>(SUPPRESSIONS_QUERY, {
        address: filter,
        first,
      }).then(
        ({ suppressions }) =>
          setState({
            rows: suppressions.edges.map((edge) => edge.node),
            totalCount: suppressions.totalCount,
            hasNextPage: suppressions.pageInfo.hasNextPage,
            endCursor: suppressions.pageInfo.endCursor,
            loading: false,
            error: null,
          }),
        (error: unknown) =>
          setState((current) => ({ ...current, loading: false, error: problemText(error) })),
      );
    },
    [filter],
  );

  useEffect(() => {
    setState(EMPTY);
    void reload(false);
  }, [filter, epoch]);
  useEffect(() => {
    if (changes > 0) void reload(true);
  }, [changes]);

  const loadMore = useCallback(() => {
    setState((current) => {
      if (!current.hasNextPage || current.loading) return current;
      graphql<{ suppressions: SuppressionPage }>(SUPPRESSIONS_QUERY, {
        address: filter,
        first: SUPPRESSION_PAGE_SIZE,
        after: current.endCursor,
      }).then(
        ({ suppressions }) =>
          setState((latest) => {
            const known = new Set(latest.rows.map((row) => row.address.toLowerCase()));
            const older = suppressions.edges
              .map((edge) => edge.node)
              .filter((row) => !known.has(row.address.toLowerCase()));
            return {
              ...latest,
              rows: [...latest.rows, ...older],
              hasNextPage: suppressions.pageInfo.hasNextPage,
              endCursor: suppressions.pageInfo.endCursor,
              loading: false,
            };
          }),
        (error: unknown) =>
          setState((latest) => ({ ...latest, loading: false, error: problemText(error) })),
      );
      return { ...current, loading: true };
    });
  }, [filter]);

  const add = async (newAddress: string, detail: string) => {
    try {
      await graphql(ADD_SUPPRESSION, { address: newAddress.trim(), detail: detail.trim() || null });
      await reload(true);
      return null;
    } catch (error) {
      return problemText(error) ?? 'an API token is needed';
    }
  };

  const remove = async (removed: string) => {
    try {
      const data = await graphql<{ removeSuppression: boolean }>(REMOVE_SUPPRESSION, {
        address: removed,
      });
      setState((current) => ({
        ...current,
        rows: current.rows.filter((row) => !sameAddress(row.address, removed)),
        totalCount: Math.max(0, current.totalCount - (data.removeSuppression ? 1 : 0)),
      }));
      return null;
    } catch (error) {
      return problemText(error) ?? 'an API token is needed';
    }
  };

  return {
    rows: state.rows,
    totalCount: state.totalCount,
    hasNextPage: state.hasNextPage,
    loading: state.loading,
    error: state.error,
    loadMore,
    add,
    remove,
  };
}

export interface UnmatchedList {
  rows: UnmatchedReport[] | null;
  error: string | null;
  reload(): void;
}

/** The newest reports that matched no message. */
export function useUnmatchedReports(epoch: number, changes: number): UnmatchedList {
  const [rows, setRows] = useState<UnmatchedReport[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    graphql<{ unmatchedReports: UnmatchedReport[] }>(UNMATCHED_REPORTS_QUERY, { first: 50 }).then(
      (data) => {
        setRows(data.unmatchedReports);
        setError(null);
      },
      (reason: unknown) => setError(problemText(reason)),
    );
  }, []);
  useEffect(reload, [epoch, changes]);
  return { rows, error, reload };
}
