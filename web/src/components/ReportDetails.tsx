import type { DeliveryReport } from '../api/types.ts';
import { sourceLabel } from '../state/format.ts';
import { OutcomeChip } from './OutcomeChip.tsx';

/** One delivery report after SENT: who said it, what kind of bounce, their words and a hint. */
export function ReportDetails({ report }: { report: DeliveryReport }) {
  const bad = report.outcome === 'BOUNCED' || report.outcome === 'COMPLAINED';
  return (
    <div
      class={`report-box${bad ? ' bad' : ''}`}
      data-report-outcome={report.outcome}
      data-report-source={report.source}
    >
      <p class="report-title">
        <OutcomeChip outcome={report.outcome} bounceType={report.bounceType} />{' '}
        <span class="muted">from a {sourceLabel(report.source)}</span>
        {report.enhancedStatus && <span class="mono"> {report.enhancedStatus}</span>}
        {report.remoteMta && <span class="muted"> · {report.remoteMta}</span>}
      </p>
      {report.diagnostic && (
        <p>
          <span class="muted">Receiver said: </span>
          <code class="reply-text" data-diagnostic>
            {report.diagnostic}
          </code>
        </p>
      )}
      {report.hint && (
        <p class="hint" data-report-hint>
          <strong>What to do: </strong>
          {report.hint}
        </p>
      )}
    </div>
  );
}
