import type { SenderDomainCheckItem } from '../api/types.ts';
import { CopyableRecord } from './CopyableRecord.tsx';

const NAMES: Record<SenderDomainCheckItem['name'], string> = {
  SPF: 'SPF',
  DKIM: 'DKIM',
  DMARC: 'DMARC',
  RETURN_PATH: 'Return path',
  ALIGNMENT: 'Alignment',
  MX: 'Bounce MX',
};

const STATUS_TEXT: Record<SenderDomainCheckItem['status'], string> = {
  OK: 'OK',
  MISSING: 'Missing',
  INVALID: 'Invalid',
  WARNING: 'Warning',
  TEMPFAIL: 'DNS failed',
  SKIPPED: 'Skipped',
};

/** One item of the sender-domain check: its status, what DNS has, what to publish, a hint. */
export function DomainCheckItem({ item }: { item: SenderDomainCheckItem }) {
  const lines = item.expected?.split('\n').filter(Boolean) ?? [];
  return (
    <li class={`dns-check dns-check-${item.status.toLowerCase()}`} data-check={item.name}>
      <p class="dns-check-head">
        <span class="dns-check-status" data-check-status={item.status}>
          {STATUS_TEXT[item.status]}
        </span>{' '}
        <strong>{NAMES[item.name]}</strong> <span class="dns-check-detail">{item.detail}</span>
      </p>
      {item.found.length > 0 && (
        <div class="dns-check-found">
          <span class="muted small">Found in DNS:</span>
          <ul data-found>
            {item.found.map((record, index) => (
              <li key={index} class="mono">
                {record}
              </li>
            ))}
          </ul>
        </div>
      )}
      {lines.length > 0 && (
        <div class="dns-check-expected" data-expected>
          <span class="muted small">
            {lines.length === 1 ? 'Publish this record:' : 'Publish these records:'}
          </span>
          {lines.map((line, index) => (
            <CopyableRecord key={index} text={line} label={`the ${NAMES[item.name]} record`} />
          ))}
        </div>
      )}
      {item.hint && (
        <p class="hint" data-check-hint>
          <strong>What to do: </strong>
          {item.hint}
        </p>
      )}
    </li>
  );
}
