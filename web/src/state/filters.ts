import {
  DELIVERY_OUTCOMES,
  ERROR_CODES,
  MESSAGE_STATUSES,
  type DeliveryOutcome,
  type ErrorCode,
  type MessageRow,
  type MessageStatus,
} from '../api/types.ts';

/** What the user filters by; every field lives in the URL's query string. */
export interface Filters {
  status: MessageStatus[];
  /** What delivery reports said after SENT (Message.outcome). */
  outcome: DeliveryOutcome[];
  /** The whole address (the API matches it exactly, case-insensitively). */
  recipient: string;
  errorCode: ErrorCode[];
  /** Only messages some attempt of which failed. */
  everFailed: boolean;
  /** A preset ('15m', '1h', '24h', '7d'), 'custom' (from/to below) or '' for all time. */
  range: string;
  from: string;
  to: string;
  /** Case-insensitive part of the subject. */
  text: string;
}

export const RANGES: Record<string, { label: string; ms: number }> = {
  '15m': { label: 'Last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
};

export const EMPTY_FILTERS: Filters = {
  status: [],
  outcome: [],
  recipient: '',
  errorCode: [],
  everFailed: false,
  range: '',
  from: '',
  to: '',
  text: '',
};

function listParam<T extends string>(value: string | null, allowed: readonly T[]): T[] {
  if (!value) return [];
  const items = value
    .split(',')
    .map((item) => item.trim().toUpperCase())
    .filter((item): item is T => (allowed as readonly string[]).includes(item));
  return [...new Set(items)];
}

export function filtersFromSearch(search: string): Filters {
  const params = new URLSearchParams(search);
  const range = params.get('range') ?? '';
  return {
    status: listParam(params.get('status'), MESSAGE_STATUSES),
    outcome: listParam(params.get('outcome'), DELIVERY_OUTCOMES),
    recipient: params.get('to') ?? '',
    errorCode: listParam(params.get('error'), ERROR_CODES),
    everFailed: params.get('failed') === '1',
    range: range in RANGES || range === 'custom' ? range : '',
    from: params.get('from') ?? '',
    to: params.get('until') ?? '',
    text: params.get('q') ?? '',
  };
}

/** The query string for `filters` plus the open message, in a stable order. */
export function searchFor(filters: Filters, messageId: string | null): string {
  const params = new URLSearchParams();
  if (filters.status.length) params.set('status', filters.status.join(','));
  if (filters.outcome.length) params.set('outcome', filters.outcome.join(','));
  if (filters.recipient.trim()) params.set('to', filters.recipient.trim());
  if (filters.errorCode.length) params.set('error', filters.errorCode.join(','));
  if (filters.everFailed) params.set('failed', '1');
  if (filters.range) params.set('range', filters.range);
  if (filters.range === 'custom' && filters.from) params.set('from', filters.from);
  if (filters.range === 'custom' && filters.to) params.set('until', filters.to);
  if (filters.text.trim()) params.set('q', filters.text.trim());
  if (messageId) params.set('message', messageId);
  const text = params.toString().replace(/%2C/g, ',').replace(/%40/g, '@');
  return text ? `?${text}` : '';
}

/** datetime-local values are local times without a zone. */
function localToIso(value: string): string | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The GraphQL MessageFilter for `filters`, with relative ranges taken from `nowMs`. */
export function toMessageFilter(filters: Filters, nowMs: number): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.status.length) filter['status'] = filters.status;
  if (filters.outcome.length) filter['outcome'] = filters.outcome;
  if (filters.recipient.trim()) filter['recipient'] = filters.recipient.trim();
  if (filters.errorCode.length) filter['errorCode'] = filters.errorCode;
  if (filters.everFailed) filter['everFailed'] = true;
  if (filters.text.trim()) filter['subjectContains'] = filters.text.trim();
  const preset = RANGES[filters.range];
  if (preset) filter['createdAfter'] = new Date(nowMs - preset.ms).toISOString();
  if (filters.range === 'custom') {
    const from = localToIso(filters.from);
    const to = localToIso(filters.to);
    if (from) filter['createdAfter'] = from;
    if (to) filter['createdBefore'] = to;
  }
  return filter;
}

/**
 * The part of the filter the event subscription can apply. Status and outcome are left out on
 * purpose: a row in view must hear about the change that moves it to another status or outcome
 * (on the feed, an outcome filter would keep only report events). Error conditions are about the
 * message's history, which events do not carry; new rows are checked with `admits` instead.
 */
export function toEventFilter(filter: Record<string, unknown>): Record<string, unknown> {
  const {
    status: _status,
    outcome: _outcome,
    errorCode: _errorCode,
    everFailed: _everFailed,
    ...rest
  } = filter;
  return rest;
}

/** Whether a message the page has not shown yet belongs in the current view. */
export function admits(
  filters: Filters,
  message: MessageRow,
  eventError: { code: ErrorCode } | null,
): boolean {
  if (filters.status.length && !filters.status.includes(message.status)) return false;
  if (
    filters.outcome.length &&
    (message.outcome === null || !filters.outcome.includes(message.outcome))
  ) {
    return false;
  }
  const code = eventError?.code ?? message.lastError?.code ?? null;
  if (filters.errorCode.length && (code === null || !filters.errorCode.includes(code))) {
    return false;
  }
  if (filters.everFailed && code === null) return false;
  return true;
}

export function isEmpty(filters: Filters): boolean {
  return searchFor(filters, null) === '';
}
