import type { DeliveryReport, Dispatch, MessageDetail, TimelineEvent } from '../api/types.ts';
import { dateTime, duration, statusLabel } from '../state/format.ts';
import { ErrorDetails } from './ErrorDetails.tsx';
import { ReportDetails } from './ReportDetails.tsx';
import { StatusChip } from './StatusChip.tsx';

type Entry =
  | { kind: 'event'; atMs: number; event: TimelineEvent }
  | { kind: 'dispatch'; atMs: number; dispatch: Dispatch }
  | { kind: 'report'; atMs: number; report: DeliveryReport; index: number };

const REASONS: Record<string, string> = {
  queued: 'queued',
  claimed: 'picked up by the worker',
  sent: 'accepted by the SMTP server',
  retry_scheduled: 'failed; another attempt is scheduled',
  lease_expired: 'claimed again after a lease ran out',
  released_on_shutdown: 'put back on shutdown',
  failed_permanently: 'refused for good',
  attempts_exhausted: 'every attempt failed',
  cancelled: 'cancelled',
  retried: 'retried by hand',
  suppressed: 'the recipient is on the suppression list: nothing was sent',
};

function reasonText(reason: string): string {
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

function DispatchItem({ dispatch, last }: { dispatch: Dispatch; last: boolean }) {
  return (
    <div class="dispatch">
      <p>
        <strong>Attempt {dispatch.attempt}</strong>{' '}
        <span class={dispatch.succeeded ? 'ok' : 'bad'}>
          {dispatch.succeeded ? 'delivered' : 'failed'}
        </span>{' '}
        <span class="muted">in {duration(dispatch.durationMs)}</span>
        {dispatch.smtpConfigVersion !== null && (
          <span class="muted"> · config v{dispatch.smtpConfigVersion}</span>
        )}
      </p>
      {dispatch.response && <code class="reply-text">{dispatch.response}</code>}
      {dispatch.error && <ErrorDetails error={dispatch.error} compact={last} />}
      {dispatch.transcript && (
        <details class="transcript">
          <summary>SMTP transcript</summary>
          <pre>{dispatch.transcript}</pre>
        </details>
      )}
    </div>
  );
}

/** Status changes and delivery attempts in time order, with the time between them. */
export function Timeline({ message }: { message: MessageDetail }) {
  const entries: Entry[] = [
    // Each report is an event too (status stays SENT); the report itself says more.
    ...message.events
      .filter((event) => event.outcome === null)
      .map((event): Entry => ({ kind: 'event', atMs: Date.parse(event.at), event })),
    ...message.dispatches.map((dispatch): Entry => ({
      kind: 'dispatch',
      atMs: Date.parse(dispatch.at),
      dispatch,
    })),
    ...message.reports.map((report, index): Entry => ({
      kind: 'report',
      atMs: Date.parse(report.at),
      report,
      index,
    })),
  ];
  // A dispatch starts when its PROCESSING event happens: list it right after that event.
  // Reports keep the order they were received in.
  const rank = { event: 0, dispatch: 1, report: 2 } as const;
  entries.sort(
    (a, b) =>
      a.atMs - b.atMs ||
      rank[a.kind] - rank[b.kind] ||
      (a.kind === 'report' && b.kind === 'report' ? a.index - b.index : 0),
  );
  const startMs = entries[0]?.atMs ?? 0;
  let previousMs = startMs;
  return (
    <ol class="timeline">
      {entries.map((entry, index) => {
        const sincePrevious = entry.atMs - previousMs;
        previousMs = entry.atMs;
        const when = (
          <span class="when">
            <time dateTime={new Date(entry.atMs).toISOString()}>
              {dateTime(new Date(entry.atMs).toISOString()).slice(11)}
            </time>
            {index > 0 && <span class="muted"> +{duration(sincePrevious)}</span>}
          </span>
        );
        if (entry.kind === 'report') {
          return (
            <li key={`r${entry.index}`} class="tl-report">
              {when}
              <ReportDetails report={entry.report} />
            </li>
          );
        }
        if (entry.kind === 'dispatch') {
          return (
            <li key={`d${entry.dispatch.attempt}`} class="tl-dispatch">
              {when}
              <DispatchItem
                dispatch={entry.dispatch}
                last={entry.dispatch.attempt === message.dispatches.at(-1)?.attempt}
              />
            </li>
          );
        }
        const { event } = entry;
        return (
          <li key={event.cursor} class="tl-event">
            {when}
            <div>
              <StatusChip status={event.status} />{' '}
              <span>
                {event.previousStatus ? `from ${statusLabel(event.previousStatus)}: ` : ''}
                {reasonText(event.reason)}
                {event.attempt !== null ? ` (attempt ${event.attempt})` : ''}
              </span>
              {event.error && !message.dispatches.some((d) => d.attempt === event.attempt) && (
                <ErrorDetails error={event.error} />
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
