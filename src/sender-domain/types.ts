/** The sender-domain report (docs/CONTRACT.md, "Sender domain"), in domain types. */
export const SENDER_CHECK_NAMES = [
  'SPF',
  'DKIM',
  'DMARC',
  'RETURN_PATH',
  'ALIGNMENT',
  'MX',
] as const;
export type SenderCheckName = (typeof SENDER_CHECK_NAMES)[number];

export const SENDER_CHECK_STATUSES = [
  'OK',
  'MISSING',
  'INVALID',
  'WARNING',
  'TEMPFAIL',
  'SKIPPED',
] as const;
export type SenderCheckStatus = (typeof SENDER_CHECK_STATUSES)[number];

export interface SenderCheckItem {
  name: SenderCheckName;
  status: SenderCheckStatus;
  /** The records as published, e.g. `example.com TXT "v=spf1 include:sendgrid.net ~all"`. */
  found: string[];
  /** The record to publish when one is missing or wrong. */
  expected: string | null;
  detail: string;
  hint: string | null;
}

export interface SenderDomainReport {
  domain: string;
  /** No check is MISSING, INVALID or TEMPFAIL. */
  ready: boolean;
  checks: SenderCheckItem[];
}

const BLOCKING: readonly SenderCheckStatus[] = ['MISSING', 'INVALID', 'TEMPFAIL'];

export function isBlocking(status: SenderCheckStatus): boolean {
  return BLOCKING.includes(status);
}

/** The worse of two statuses, for a check made of several records. */
export function worse(a: SenderCheckStatus, b: SenderCheckStatus): SenderCheckStatus {
  const order: SenderCheckStatus[] = ['SKIPPED', 'OK', 'WARNING', 'MISSING', 'INVALID', 'TEMPFAIL'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

export const txtRecord = (name: string, value: string) => `${name} TXT "${value}"`;
