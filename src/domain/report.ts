// What is learnt about a message after SENT: delivery reports (DSNs, complaint reports, provider
// events), the outcome they add up to, and the suppression list they feed. Meaning lives here
// once; both storage dialects and the intake parsers use it.

export const DELIVERY_OUTCOMES = ['DELIVERED', 'DEFERRED', 'BOUNCED', 'COMPLAINED'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export const BOUNCE_TYPES = ['HARD', 'SOFT', 'UNDETERMINED'] as const;
export type BounceType = (typeof BOUNCE_TYPES)[number];

export const REPORT_SOURCES = ['DSN', 'ARF', 'SENDGRID', 'MAILGUN', 'POSTMARK', 'SES'] as const;
export type ReportSource = (typeof REPORT_SOURCES)[number];

export const SUPPRESSION_REASONS = ['HARD_BOUNCE', 'COMPLAINT', 'MANUAL'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * `COMPLAINED` over `BOUNCED` over `DELIVERED` over `DEFERRED` (CONTRACT.md): a later DEFERRED
 * never hides an earlier bounce, and the order reports arrive in does not matter.
 */
const RANK: Record<DeliveryOutcome, number> = {
  DEFERRED: 1,
  DELIVERED: 2,
  BOUNCED: 3,
  COMPLAINED: 4,
};

export function strongerOutcome(
  current: DeliveryOutcome | null,
  reported: DeliveryOutcome,
): DeliveryOutcome {
  return current !== null && RANK[current] >= RANK[reported] ? current : reported;
}

/** What one report says, as stored with its event. */
export interface ReportDetail {
  source: ReportSource;
  /** Set when the outcome is BOUNCED. */
  bounceType: BounceType | null;
  /** RFC 3463, e.g. "5.1.1". */
  enhancedStatus: string | null;
  /** The remote server's words, verbatim. */
  diagnostic: string | null;
  remoteMta: string | null;
  hint: string | null;
}

/** How a report names the message it is about. */
export type ReportTarget =
  /** From a verified VERP token or ENVID: the message's row id. */
  | { kind: 'id'; id: number }
  /** The Message-ID header quoted in the returned message, and the failed recipient if known. */
  | { kind: 'message_id'; messageId: string; recipient: string | null }
  /** Nothing usable (or a VERP token that did not verify): kept as unmatched. */
  | { kind: 'none' };

export interface IncomingReport {
  target: ReportTarget;
  outcome: DeliveryOutcome;
  detail: ReportDetail;
  /**
   * The source's own id for this event (a provider's event id, or a digest of the DSN's
   * per-recipient fields): the same report received twice counts once.
   */
  sourceEventId: string;
  /** The address the report is about, as the report gives it (for unmatched reports). */
  recipient: string | null;
}

/** Hard bounces and complaints put the recipient on the suppression list; nothing else does. */
export function suppressionReasonFor(
  outcome: DeliveryOutcome,
  bounceType: BounceType | null,
): SuppressionReason | null {
  if (outcome === 'COMPLAINED') return 'COMPLAINT';
  if (outcome === 'BOUNCED' && bounceType === 'HARD') return 'HARD_BOUNCE';
  return null;
}

export const REPORT_REASONS = {
  DSN: 'report_dsn',
  ARF: 'report_arf',
  SENDGRID: 'report_sendgrid',
  MAILGUN: 'report_mailgun',
  POSTMARK: 'report_postmark',
  SES: 'report_ses',
} as const satisfies Record<ReportSource, string>;

export interface Suppression {
  id: number;
  address: string;
  reason: SuppressionReason;
  /** The message whose bounce or complaint added it; null for MANUAL. */
  messageId: number | null;
  source: ReportSource | null;
  detail: string | null;
  createdAtMs: number;
  /** The stored API token that added it (MANUAL); null for the bootstrap token or a report. */
  createdByTokenId: number | null;
  /** Who added it: `report`, `api_token`, `token` or `anonymous`. */
  createdBy: string;
}

export interface UnmatchedReport {
  id: number;
  atMs: number;
  source: ReportSource;
  outcome: DeliveryOutcome;
  recipient: string | null;
  detail: string | null;
}

/**
 * The key addresses are compared by: whole and case-insensitively, as the recipient filter
 * compares them (message-filter.ts's recipientKey), so a message's key finds its entry.
 */
export function suppressionKey(address: string): string {
  return address.toLowerCase();
}
