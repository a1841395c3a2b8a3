import { useState } from 'preact/hooks';
import type { Suppression } from '../api/types.ts';
import { count, dateTime, suppressionReasonLabel } from '../state/format.ts';
import { followLink } from '../state/route.ts';
import type { SuppressionList } from '../state/suppressions.ts';

interface RowProps {
  suppression: Suppression;
  canWrite: boolean;
  onRemove(address: string): Promise<string | null>;
}

function SuppressionRow({ suppression, canWrite, onRemove }: RowProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    const problem = await onRemove(suppression.address);
    // On success the row is gone; only a failure is left to show.
    if (problem) {
      setError(problem);
      setBusy(false);
    }
  };
  const message = suppression.message;
  return (
    <tr data-address={suppression.address} data-reason={suppression.reason}>
      <td class="col-address mono">{suppression.address}</td>
      <td>
        <span class={`reason reason-${suppression.reason.toLowerCase()}`}>
          {suppressionReasonLabel(suppression.reason)}
        </span>
      </td>
      <td class="col-when">
        <time dateTime={suppression.createdAt}>{dateTime(suppression.createdAt)}</time>
      </td>
      <td class="col-cause">
        {message && (
          <a href={`/?message=${message.id}`} onClick={followLink} data-message-link={message.id}>
            Message {message.id}
          </a>
        )}
        {suppression.detail && (
          <div class="muted small" data-suppression-detail>
            {suppression.detail}
          </div>
        )}
        {error && (
          <p class="error small" role="alert">
            {error}
          </p>
        )}
      </td>
      {canWrite && (
        <td class="col-actions">
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={remove}
            aria-label={`Remove ${suppression.address} from the suppression list`}
          >
            {busy ? 'Removing…' : 'Remove'}
          </button>
        </td>
      )}
    </tr>
  );
}

/** The suppression list, newest first, page by page. */
export function SuppressionTable({
  list,
  canWrite,
  filtered,
}: {
  list: SuppressionList;
  canWrite: boolean;
  filtered: boolean;
}) {
  return (
    <>
      {list.error && (
        <p class="error banner" role="alert">
          {list.error}
        </p>
      )}
      <div class="table-wrap">
        <table class="suppression-table">
          <caption class="visually-hidden">Suppressed addresses, newest first.</caption>
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">Reason</th>
              <th scope="col">Since</th>
              <th scope="col">Cause</th>
              {canWrite && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {list.rows.map((suppression) => (
              <SuppressionRow
                key={suppression.address}
                suppression={suppression}
                canWrite={canWrite}
                onRemove={list.remove}
              />
            ))}
          </tbody>
        </table>
        {!list.loading && list.rows.length === 0 && (
          <p class="empty">
            {filtered
              ? 'This address is not on the suppression list.'
              : 'No address is suppressed. Hard bounces and complaints will add them here.'}
          </p>
        )}
      </div>
      <div class="table-foot">
        <span class="muted" data-suppression-total={list.totalCount}>
          Showing {count(list.rows.length)} of {count(list.totalCount)}
        </span>
        {list.hasNextPage && (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </>
  );
}
