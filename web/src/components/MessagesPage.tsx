import { useCallback, useEffect, useState } from 'preact/hooks';
import { useFeed } from '../state/feed.ts';
import { filtersFromSearch, searchFor, type Filters } from '../state/filters.ts';
import { DetailPanel } from './DetailPanel.tsx';
import { FilterBar } from './FilterBar.tsx';
import { MessageTable } from './MessageTable.tsx';
import { SmtpPanel } from './SmtpPanel.tsx';
import { StatsPanel } from './StatsPanel.tsx';

function selectedFromSearch(search: string): string | null {
  const id = new URLSearchParams(search).get('message');
  return id && /^\d+$/.test(id) ? id : null;
}

/** Ticks once a second so ages stay current without a re-fetch. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

interface Props {
  epoch: number;
  canWrite: boolean;
}

/** The overview, the filters, the live message table and the detail panel. */
export function MessagesPage({ epoch, canWrite }: Props) {
  const [filters, setFilters] = useState<Filters>(() => filtersFromSearch(location.search));
  const [selected, setSelected] = useState<string | null>(() =>
    selectedFromSearch(location.search),
  );
  const now = useNow();
  const filterKey = searchFor(filters, null);
  const feed = useFeed(filters, filterKey, epoch);

  // The view lives in the URL: sharing or reloading it shows the same thing.
  useEffect(() => {
    const search = searchFor(filters, selected);
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }, [filters, selected]);
  useEffect(() => {
    const onPop = () => {
      setFilters(filtersFromSearch(location.search));
      setSelected(selectedFromSearch(location.search));
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const close = useCallback(() => {
    const id = selected;
    setSelected(null);
    // Keyboard users land back on the row they opened.
    if (id) requestAnimationFrame(() => document.getElementById(`row-${id}`)?.focus());
  }, [selected]);

  return (
    <div class={selected ? 'with-detail' : undefined}>
      <main id="main">
        <section class="overview" aria-label="Delivery overview">
          <StatsPanel epoch={epoch} />
          <SmtpPanel epoch={epoch} canWrite={canWrite} onOpen={setSelected} />
        </section>
        <FilterBar
          filters={filters}
          onChange={setFilters}
          totalCount={feed.loaded ? feed.totalCount : null}
        />
        <MessageTable
          feed={feed}
          now={now}
          selected={selected}
          onOpen={setSelected}
          filtered={filterKey !== ''}
        />
      </main>
      {selected && (
        <DetailPanel
          id={selected}
          now={now}
          lastBatch={feed.lastBatch}
          canWrite={canWrite}
          onClose={close}
        />
      )}
    </div>
  );
}
