import type { UnmatchedReport } from '../api/types.ts';
import { dateTime, sourceLabel } from '../state/format.ts';
import { useUnmatchedReports } from '../state/suppressions.ts';
import { OutcomeChip } from './OutcomeChip.tsx';

function Row({ report }: { report: UnmatchedReport }) {
  return (
    <tr data-unmatched-source={report.source}>
      <td class="col-when">
        <time dateTime={report.at}>{dateTime(report.at)}</time>
      </td>
      <td>{sourceLabel(report.source)}</td>
      <td>
        <OutcomeChip outcome={report.outcome} />
      </td>
      <td class="mono">{report.recipient ?? <span class="muted">unknown</span>}</td>
      <td class="col-detail small">{report.detail}</td>
    </tr>
  );
}

/** Reports that matched no message: kept and shown, never dropped silently. */
export function UnmatchedReports({ epoch, changes }: { epoch: number; changes: number }) {
  const { rows, error, reload } = useUnmatchedReports(epoch, changes);
  return (
    <section class="card unmatched" aria-labelledby="unmatched-title">
      <h2 id="unmatched-title" class="card-title">
        Unmatched reports{' '}
        <span class="muted">bounces and events that named no message of ours · newest 50</span>
        <button type="button" class="link" onClick={reload}>
          Refresh
        </button>
      </h2>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
      {rows === null ? (
        !error && <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="empty">Every report received so far matched a message.</p>
      ) : (
        <div class="table-wrap">
          <table class="unmatched-table">
            <caption class="visually-hidden">
              Reports that matched no message, newest first.
            </caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Source</th>
                <th scope="col">Outcome</th>
                <th scope="col">Recipient</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((report, index) => (
                <Row key={`${report.at}-${index}`} report={report} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
