import { useEffect, useRef } from 'preact/hooks';
import type { MessageRow } from '../api/types.ts';
import type { Feed } from '../state/feed.ts';
import { count, dateTime, errorLabel, shortAge } from '../state/format.ts';
import { OutcomeChip } from './OutcomeChip.tsx';
import { StatusChip } from './StatusChip.tsx';

interface Props {
  feed: Feed;
  now: number;
  selected: string | null;
  onOpen(id: string): void;
  filtered: boolean;
}

function moveFocus(from: HTMLElement, direction: 1 | -1) {
  const target = direction === 1 ? from.nextElementSibling : from.previousElementSibling;
  if (target instanceof HTMLElement) target.focus();
}

function LastError({ message }: { message: MessageRow }) {
  const error = message.lastError;
  if (!error) return <span class="muted">—</span>;
  const reply = [error.responseCode, error.enhancedStatus].filter(Boolean).join(' ');
  return (
    // A delivered message keeps the error of an earlier attempt: shown, but not as a problem.
    <span
      class={`error-code${message.status === 'SENT' ? ' earlier' : ''}`}
      data-error-code={error.code}
      title={message.status === 'SENT' ? 'an earlier attempt failed' : undefined}
    >
      {errorLabel(error.code)}
      {reply && <span class="reply"> {reply}</span>}
    </span>
  );
}

const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

interface RowProps {
  message: MessageRow;
  now: number;
  selected: boolean;
  arrived: boolean;
  onOpen(id: string): void;
  onKeyDown(event: KeyboardEvent, id: string): void;
}

function Row({ message, now, selected, arrived, onOpen, onKeyDown }: RowProps) {
  const row = useRef<HTMLTableRowElement>(null);
  const shown = useRef(`${message.status} ${message.outcome}`);
  // A change of status or outcome flashes the row once (the chips also pop in: they are keyed).
  useEffect(() => {
    const now = `${message.status} ${message.outcome}`;
    if (shown.current === now) return;
    shown.current = now;
    if (!reducedMotion()) {
      row.current?.animate([{ backgroundColor: '#fff1b8' }, { backgroundColor: 'transparent' }], {
        duration: 1_200,
        easing: 'ease-out',
      });
    }
  }, [message.status, message.outcome]);

  return (
    <tr
      ref={row}
      id={`row-${message.id}`}
      data-id={message.id}
      data-status={message.status}
      data-outcome={message.outcome ?? undefined}
      tabIndex={0}
      aria-current={selected ? 'true' : undefined}
      aria-label={`${message.recipient}, ${message.subject || '(no subject)'}, ${message.status.toLowerCase()}${
        message.outcome ? `, ${message.outcome.toLowerCase()}` : ''
      }`}
      class={arrived ? 'arrived' : undefined}
      onClick={() => onOpen(message.id)}
      onKeyDown={(event) => onKeyDown(event, message.id)}
    >
      <td class="col-status">
        <StatusChip key={message.status} status={message.status} />
      </td>
      <td class="col-outcome">
        {message.outcome ? (
          <OutcomeChip key={message.outcome} outcome={message.outcome} />
        ) : (
          <span class="muted" title="no delivery report yet">
            —
          </span>
        )}
      </td>
      <td class="col-recipient">{message.recipient}</td>
      <td class="col-subject">
        {message.subject === '' ? <span class="muted">(no subject)</span> : message.subject}
      </td>
      <td class="num col-attempts">
        {message.attempts}
        <span class="muted">/{message.maxAttempts}</span>
      </td>
      <td class="col-error">
        <LastError message={message} />
      </td>
      <td class="num col-age">
        <time dateTime={message.createdAt} title={dateTime(message.createdAt)}>
          {shortAge(message.createdAt, now)}
        </time>
      </td>
    </tr>
  );
}

export function MessageTable({ feed, now, selected, onOpen, filtered }: Props) {
  const onKeyDown = (event: KeyboardEvent, id: string) => {
    const row = event.currentTarget as HTMLElement;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(id);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      moveFocus(row, event.key === 'ArrowDown' ? 1 : -1);
    }
  };

  return (
    <section class="card messages" aria-labelledby="messages-title" id="messages">
      <h2 id="messages-title" class="card-title">
        Messages <span class="muted">newest first · updates live</span>
      </h2>
      {feed.error && (
        <p class="error banner" role="alert">
          {feed.error}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">
            Messages, newest first. Press Enter on a row to see its delivery details.
          </caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col" title="What delivery reports said after SENT">
                Outcome
              </th>
              <th scope="col">Recipient</th>
              <th scope="col" class="col-subject">
                Subject
              </th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col">Last error</th>
              <th scope="col" class="num">
                Age
              </th>
            </tr>
          </thead>
          <tbody>
            {feed.rows.map((message) => (
              <Row
                key={message.id}
                message={message}
                now={now}
                selected={selected === message.id}
                arrived={feed.arrived.has(message.id)}
                onOpen={onOpen}
                onKeyDown={onKeyDown}
              />
            ))}
          </tbody>
        </table>
        {/* Before the first page arrives (or while it cannot), there is nothing to call empty. */}
        {feed.loaded && feed.rows.length === 0 && (
          <p class="empty">
            {filtered
              ? 'No message matches these filters.'
              : 'No messages yet. Send one with the sendEmail mutation; it appears here at once.'}
          </p>
        )}
      </div>
      <div class="table-foot">
        <span class="muted">
          {feed.loaded
            ? `Showing ${count(feed.rows.length)} of ${count(feed.totalCount)}`
            : feed.error
              ? 'Not loaded'
              : 'Loading…'}
        </span>
        {feed.hasNextPage && (
          <button type="button" onClick={feed.loadMore} disabled={feed.loading}>
            {feed.loading ? 'Loading…' : 'Load older messages'}
          </button>
        )}
      </div>
    </section>
  );
}
