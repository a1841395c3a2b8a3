import { useEffect, useState } from 'preact/hooks';
import { useListChanges, useSuppressions } from '../state/suppressions.ts';
import { AddSuppressionForm } from './AddSuppressionForm.tsx';
import { SuppressionTable } from './SuppressionTable.tsx';
import { UnmatchedReports } from './UnmatchedReports.tsx';

const TYPING_DELAY_MS = 300;

function addressFromSearch(): string {
  return new URLSearchParams(location.search).get('address') ?? '';
}

/** The suppression list (nothing is sent to these addresses) and the reports that matched nothing. */
export function SuppressionsPage({ epoch, canWrite }: { epoch: number; canWrite: boolean }) {
  const [draft, setDraft] = useState(addressFromSearch);
  const [address, setAddress] = useState(draft);
  const changes = useListChanges(epoch);
  const list = useSuppressions(address, epoch, changes);

  useEffect(() => {
    const timer = setTimeout(() => setAddress(draft.trim()), TYPING_DELAY_MS);
    return () => clearTimeout(timer);
  }, [draft]);
  // The address looked up lives in the URL, like the message filters.
  useEffect(() => {
    const search = address ? `?address=${encodeURIComponent(address).replace(/%40/g, '@')}` : '';
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }, [address]);

  return (
    <main id="main" class="suppressions-page">
      <section class="card suppressions" aria-labelledby="suppressions-title">
        <h2 id="suppressions-title" class="card-title">
          Suppression list{' '}
          <span class="muted">
            nothing is sent to these addresses · hard bounces and complaints add them
          </span>
        </h2>
        <div class="suppression-tools">
          <div class="field">
            <label for="suppression-search">Look up an address</label>
            <input
              id="suppression-search"
              type="search"
              inputMode="email"
              spellcheck={false}
              placeholder="whole address"
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
            />
          </div>
          {canWrite ? (
            <AddSuppressionForm onAdd={list.add} />
          ) : (
            <p class="muted small" data-read-only>
              Adding and removing addresses needs an ADMIN token.
            </p>
          )}
        </div>
        <SuppressionTable list={list} canWrite={canWrite} filtered={address !== ''} />
      </section>
      <UnmatchedReports epoch={epoch} changes={changes} />
    </main>
  );
}
