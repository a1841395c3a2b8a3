/** "4s", "12m", "3h", "5d": ages at a glance. */
export function shortAge(fromIso: string, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(fromIso)) / 1_000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function dateTime(iso: string): string {
  const date = new Date(iso);
  const pad = (value: number, size = 2) => String(value).padStart(size, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

const STATUS_LABELS: Record<string, string> = {
  QUEUED: 'Queued',
  PROCESSING: 'Sending',
  SENT: 'Sent',
  ABANDONED: 'Abandoned',
  CANCELLED: 'Cancelled',
  SUPPRESSED: 'Suppressed',
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

export function errorLabel(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

const OUTCOME_LABELS: Record<string, string> = {
  DELIVERED: 'Delivered',
  DEFERRED: 'Deferred',
  BOUNCED: 'Bounced',
  COMPLAINED: 'Complained',
};

export function outcomeLabel(outcome: string): string {
  return OUTCOME_LABELS[outcome] ?? outcome;
}

const SOURCE_LABELS: Record<string, string> = {
  DSN: 'bounce message (DSN)',
  ARF: 'complaint report (ARF)',
  SENDGRID: 'SendGrid event',
  MAILGUN: 'Mailgun event',
  POSTMARK: 'Postmark event',
  SES: 'Amazon SES event',
};

export function sourceLabel(source: string): string {
  return SOURCE_LABELS[source] ?? source;
}

const SUPPRESSION_REASON_LABELS: Record<string, string> = {
  HARD_BOUNCE: 'Hard bounce',
  COMPLAINT: 'Complaint',
  MANUAL: 'Added by hand',
};

export function suppressionReasonLabel(reason: string): string {
  return SUPPRESSION_REASON_LABELS[reason] ?? reason;
}

/** "2.4%", or "–" when there is nothing to divide by. */
export function percent(ratio: number | null): string {
  if (ratio === null) return '–';
  const value = ratio * 100;
  return `${value === 0 || value >= 10 ? value.toFixed(0) : value.toFixed(1)}%`;
}

/** MESSAGE_SENT -> "message.sent", the `type` the receiver sees in the body. */
export function webhookEventLabel(type: string): string {
  return type.toLowerCase().replace('_', '.');
}
