import { useEffect, useState } from 'preact/hooks';
import {
  DELIVERY_OUTCOMES,
  ERROR_CODES,
  MESSAGE_STATUSES,
  type DeliveryOutcome,
  type ErrorCode,
} from '../api/types.ts';
import { count, errorLabel, outcomeLabel, statusLabel } from '../state/format.ts';
import { EMPTY_FILTERS, isEmpty, RANGES, searchFor, type Filters } from '../state/filters.ts';

interface Props {
  filters: Filters;
  /** Gets a function of the current filters, so changes made in quick succession all stay. */
  onChange(change: (current: Filters) => Filters): void;
  /** Null until the messages are loaded. */
  totalCount: number | null;
}

const TYPING_DELAY_MS = 300;

/** A text input whose value reaches the filters after typing pauses. */
function useDebounced(
  value: string,
  apply: (value: string) => void,
): [string, (v: string) => void] {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => {
    if (draft === value) return;
    const timer = setTimeout(() => apply(draft), TYPING_DELAY_MS);
    return () => clearTimeout(timer);
  }, [draft]);
  return [draft, setDraft];
}

export function FilterBar({ filters, onChange, totalCount }: Props) {
  // On a phone the fields fold away behind one button so the messages stay in view.
  const [open, setOpen] = useState(false);
  const active = searchFor(filters, null).split('&').filter(Boolean).length;
  const update = (change: Partial<Filters>) => onChange((current) => ({ ...current, ...change }));
  const [recipient, setRecipient] = useDebounced(filters.recipient, (v) =>
    update({ recipient: v }),
  );
  const [text, setText] = useDebounced(filters.text, (v) => update({ text: v }));

  const toggleStatus = (status: (typeof MESSAGE_STATUSES)[number]) =>
    onChange((current) => ({
      ...current,
      status: current.status.includes(status)
        ? current.status.filter((s) => s !== status)
        : [...current.status, status],
    }));
  const toggleOutcome = (outcome: DeliveryOutcome) =>
    onChange((current) => ({
      ...current,
      outcome: current.outcome.includes(outcome)
        ? current.outcome.filter((o) => o !== outcome)
        : [...current.outcome, outcome],
    }));

  return (
    <form
      class={`filters${open ? ' open' : ''}`}
      role="search"
      aria-label="Filter messages"
      onSubmit={(e) => e.preventDefault()}
    >
      <button
        type="button"
        class="filters-toggle"
        aria-expanded={open}
        aria-controls="filter-fields"
        onClick={() => setOpen(!open)}
      >
        Filters{active > 0 ? ` (${active})` : ''}
      </button>
      <div class="filter-fields" id="filter-fields">
        <fieldset class="status-filter">
          <legend>Status</legend>
          {MESSAGE_STATUSES.map((status) => (
            <label key={status} class={`toggle chip-${status.toLowerCase()}`}>
              <input
                type="checkbox"
                name="status"
                value={status}
                checked={filters.status.includes(status)}
                onChange={() => toggleStatus(status)}
              />
              {statusLabel(status)}
            </label>
          ))}
        </fieldset>
        <fieldset class="status-filter outcome-filter">
          <legend title="What delivery reports said after SENT">Outcome</legend>
          {DELIVERY_OUTCOMES.map((outcome) => (
            <label key={outcome} class={`toggle outcome-${outcome.toLowerCase()}`}>
              <input
                type="checkbox"
                name="outcome"
                value={outcome}
                checked={filters.outcome.includes(outcome)}
                onChange={() => toggleOutcome(outcome)}
              />
              {outcomeLabel(outcome)}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="filter-recipient">Recipient</label>
          <input
            id="filter-recipient"
            type="text"
            inputMode="email"
            autocomplete="off"
            spellcheck={false}
            placeholder="whole address"
            value={recipient}
            onInput={(e) => setRecipient(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-text">Subject contains</label>
          <input
            id="filter-text"
            type="search"
            placeholder="text in the subject"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-error">Error</label>
          <select
            id="filter-error"
            value={filters.errorCode[0] ?? ''}
            onChange={(e) => {
              const value = e.currentTarget.value as ErrorCode | '';
              update({ errorCode: value ? [value] : [] });
            }}
          >
            <option value="">any</option>
            {ERROR_CODES.map((code) => (
              <option key={code} value={code}>
                {errorLabel(code)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-range">Created</label>
          <select
            id="filter-range"
            value={filters.range}
            onChange={(e) => update({ range: e.currentTarget.value })}
          >
            <option value="">any time</option>
            {Object.entries(RANGES).map(([key, range]) => (
              <option key={key} value={key}>
                {range.label}
              </option>
            ))}
            <option value="custom">Between…</option>
          </select>
        </div>
        {filters.range === 'custom' && (
          <>
            <div class="field">
              <label for="filter-from">From</label>
              <input
                id="filter-from"
                type="datetime-local"
                step="1"
                value={filters.from}
                onChange={(e) => update({ from: e.currentTarget.value })}
              />
            </div>
            <div class="field">
              <label for="filter-to">Until</label>
              <input
                id="filter-to"
                type="datetime-local"
                step="1"
                value={filters.to}
                onChange={(e) => update({ to: e.currentTarget.value })}
              />
            </div>
          </>
        )}
        <label class="check">
          <input
            type="checkbox"
            checked={filters.everFailed}
            onChange={(e) => update({ everFailed: e.currentTarget.checked })}
          />
          Failed at least once
        </label>
      </div>
      <div class="filter-summary">
        <span aria-live="polite" data-total={totalCount ?? undefined}>
          {totalCount !== null &&
            `${count(totalCount)} ${totalCount === 1 ? 'message' : 'messages'}`}
        </span>
        {!isEmpty(filters) && (
          <button type="button" class="link" onClick={() => onChange(() => EMPTY_FILTERS)}>
            Clear filters
          </button>
        )}
      </div>
    </form>
  );
}
