import type {
  DeliveryOutcome,
  IncomingReport,
  ReportSource,
  Suppression,
  SuppressionReason,
  UnmatchedReport,
} from '../domain/report.ts';

// Row -> domain mapping for reports and suppressions, shared by both dialects.

/** `source|event id`: what makes two receipts of one report the same report. */
export function reportKeyOf(report: IncomingReport): string {
  return `${report.detail.source}|${report.sourceEventId}`;
}

/** What an unmatched report keeps besides its recipient: enough to find it by hand. */
export function unmatchedDetail(report: IncomingReport): string | null {
  const parts = [
    report.detail.enhancedStatus,
    report.detail.diagnostic,
    report.target.kind === 'message_id' ? `Message-ID ${report.target.messageId}` : null,
  ].filter((part): part is string => part !== null && part !== '');
  return parts.length === 0 ? null : parts.join(' · ').slice(0, 2_000);
}

export interface SuppressionRow {
  id: number;
  address: string;
  reason: SuppressionReason;
  source: ReportSource | null;
  messageId: number | null;
  detail: string | null;
  createdAt: number;
  createdBy: string;
  createdByTokenId: number | null;
}

export function toSuppression(row: SuppressionRow): Suppression {
  return {
    id: Number(row.id),
    address: row.address,
    reason: row.reason,
    messageId: row.messageId === null ? null : Number(row.messageId),
    source: row.source,
    detail: row.detail,
    createdAtMs: Number(row.createdAt),
    createdByTokenId: row.createdByTokenId,
    createdBy: row.createdBy,
  };
}

export interface UnmatchedRow {
  id: number;
  at: number;
  source: ReportSource;
  outcome: DeliveryOutcome;
  recipient: string | null;
  detail: string | null;
}

export function toUnmatched(row: UnmatchedRow): UnmatchedReport {
  return {
    id: Number(row.id),
    atMs: Number(row.at),
    source: row.source,
    outcome: row.outcome,
    recipient: row.recipient,
    detail: row.detail,
  };
}
