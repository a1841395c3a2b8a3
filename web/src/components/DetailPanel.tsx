import { useEffect, useRef, useState } from 'preact/hooks';
import { CANCEL_MESSAGE, DETAIL_QUERY, RETRY_MESSAGE } from '../api/documents.ts';
import { graphql, problemText } from '../api/http.ts';
import { authEpoch } from '../api/token.ts';
import type { DeliveryError, MessageDetail } from '../api/types.ts';
import {
  dateTime,
  duration,
  errorLabel,
  outcomeLabel,
  shortAge,
  statusLabel,
} from '../state/format.ts';
import { followLink } from '../state/route.ts';
import { useStore } from '../state/store.ts';
import { ErrorDetails } from './ErrorDetails.tsx';
import { OutcomeChip } from './OutcomeChip.tsx';
import { StatusChip } from './StatusChip.tsx';
import { Timeline } from './Timeline.tsx';

interface Props {
  id: string;
  now: number;
  /** Messages that just changed: when this one is among them, the panel reloads. */
  lastBatch: ReadonlySet<string> | null;
  canWrite: boolean;
  onClose(): void;
}

export function DetailPanel({ id, now, lastBatch, canWrite, onClose }: Props) {
  const [message, setMessage] = useState<MessageDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const panel = useRef<HTMLElement>(null);
  // A panel opened from a shared link before the token was given loads again once it is.
  const epoch = useStore(authEpoch);

  const load = () =>
    graphql<{ message: MessageDetail | null }>(DETAIL_QUERY, { id }).then(
      (data) => {
        setMessage(data.message);
        setMissing(data.message === null);
        setLoadError(data.message ? null : `There is no message ${id}.`);
      },
      (error: unknown) => setLoadError(problemText(error)),
    );

  useEffect(() => {
    setMessage(null);
    setMissing(false);
    setLoadError(null);
    setActionError(null);
    void load();
    panel.current?.focus();
  }, [id, epoch]);

  // Every change of this message refreshes the panel: its timeline grows live.
  useEffect(() => {
    if (lastBatch?.has(id)) void load();
  }, [lastBatch]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !document.querySelector('dialog[open]')) onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  const act = async (mutation: string) => {
    setBusy(true);
    setActionError(null);
    try {
      await graphql(mutation, { id });
      await load();
    } catch (error) {
      setActionError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const lastError: DeliveryError | null = message?.lastError ?? null;
  return (
    <aside
      class="detail"
      ref={panel}
      tabIndex={-1}
      aria-labelledby="detail-title"
      data-message-id={id}
    >
      <div class="detail-head">
        <div>
          <p class="eyebrow">Message {id}</p>
          <h2 id="detail-title">
            {message
              ? (message.subject && <bdi>{message.subject}</bdi>) || (
                  <span class="muted">(no subject)</span>
                )
              : missing
                ? 'No such message'
                : loadError
                  ? 'Not loaded'
                  : 'Loading…'}
          </h2>
          {message && (
            <p class="detail-to">
              to <bdi>{message.recipient}</bdi>
            </p>
          )}
        </div>
        <button type="button" class="icon" onClick={onClose} aria-label="Close details (Esc)">
          ✕
        </button>
      </div>
      {loadError && (
        <p class="error banner" role="alert">
          {loadError}
        </p>
      )}
      {message && (
        <div class="detail-body">
          <div class="detail-status">
            <StatusChip key={message.status} status={message.status} />
            {message.outcome && <OutcomeChip key={message.outcome} outcome={message.outcome} />}
            <span>
              {message.attempts} of {message.maxAttempts} attempts
              {message.status === 'QUEUED' && message.nextAttemptAt
                ? ` · next ${Date.parse(message.nextAttemptAt) <= now ? 'now' : `in ${duration(Date.parse(message.nextAttemptAt) - now)}`}`
                : ''}
            </span>
            {canWrite && (
              <span class="detail-actions">
                {/* SUPPRESSED is retried once the address is off the list (CONFLICT before). */}
                {(message.status === 'ABANDONED' ||
                  message.status === 'CANCELLED' ||
                  message.status === 'SUPPRESSED') && (
                  <button
                    type="button"
                    class="primary"
                    disabled={busy}
                    onClick={() => act(RETRY_MESSAGE)}
                  >
                    Retry
                  </button>
                )}
                {message.status === 'QUEUED' && (
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    onClick={() => act(CANCEL_MESSAGE)}
                  >
                    Cancel
                  </button>
                )}
              </span>
            )}
          </div>
          {actionError && (
            <p class="error banner" role="alert">
              {actionError}
            </p>
          )}
          {message.status === 'SUPPRESSED' && (
            <p class="hint" data-suppressed-note>
              <bdi>{message.recipient}</bdi> is on the suppression list, so nothing was sent.{' '}
              <a
                href={`/suppressions?address=${encodeURIComponent(message.recipient)}`}
                onClick={followLink}
              >
                See why on the suppression list
              </a>
              ; once it is removed, Retry sends it.
            </p>
          )}
          {lastError && (
            <section aria-labelledby="last-error-title">
              <h3 id="last-error-title">
                {message.status === 'SENT' ? 'Earlier error' : 'Why it was not delivered'}
              </h3>
              <ErrorDetails error={lastError} />
            </section>
          )}
          <section aria-labelledby="timeline-title">
            <h3 id="timeline-title">Timeline</h3>
            <Timeline message={message} />
          </section>
          <section aria-labelledby="facts-title">
            <h3 id="facts-title">Message</h3>
            <dl class="facts">
              <dt>Status</dt>
              <dd>{statusLabel(message.status)}</dd>
              <dt>Outcome</dt>
              <dd data-detail-outcome>
                {message.outcome
                  ? `${outcomeLabel(message.outcome)} (${message.reports.length} ${
                      message.reports.length === 1 ? 'report' : 'reports'
                    })`
                  : message.status === 'SENT'
                    ? 'no delivery report yet'
                    : '—'}
              </dd>
              <dt>Created</dt>
              <dd>
                {dateTime(message.createdAt)} ({shortAge(message.createdAt, now)} ago)
              </dd>
              <dt>Last change</dt>
              <dd>{dateTime(message.updatedAt)}</dd>
              <dt>Message-ID</dt>
              <dd class="mono">{message.messageId}</dd>
              <dt>Sent through</dt>
              <dd>
                {message.submittedOverSmtp ? 'submitted over SMTP' : 'the API'}
                {message.submittedBy && (
                  <>
                    {' '}
                    with the token <span data-field="submitted-by">{message.submittedBy}</span>
                  </>
                )}
              </dd>
              {message.idempotencyKey && (
                <>
                  <dt>Idempotency key</dt>
                  <dd class="mono">{message.idempotencyKey}</dd>
                </>
              )}
              {message.lastError && (
                <>
                  <dt>Last error</dt>
                  <dd>{errorLabel(message.lastError.code)}</dd>
                </>
              )}
            </dl>
          </section>
          <section aria-labelledby="headers-title">
            <h3 id="headers-title">Headers</h3>
            {message.headers.length === 0 ? (
              <p class="muted">No custom headers.</p>
            ) : (
              <table class="headers">
                <tbody>
                  {message.headers.map((header, index) => (
                    <tr key={index}>
                      <th scope="row">{header.name}</th>
                      <td class="mono">{header.value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
      )}
    </aside>
  );
}
