import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import {
  REPORT_REASONS,
  strongerOutcome,
  suppressionKey,
  suppressionReasonFor,
  type IncomingReport,
  type ReportTarget,
} from '../../domain/report.ts';
import type { RecordReportResult, SuppressionActor, SuppressionPage } from '../port.ts';
import { reportKeyOf, toSuppression, toUnmatched, unmatchedDetail } from '../report-rows.ts';
import { recipientKey } from '../message-filter.ts';
import { toMessage, type MessageRow } from '../rows.ts';
import type { Db } from './client.ts';
import type { MessageWriter } from './message-events-writer.ts';
import { messageEvents, messages, suppressions, unmatchedReports } from './schema.ts';
import { messageReadColumns } from './message-columns.ts';

/** Delivery reports and the suppression list on SQLite (synchronous; storage.ts wraps them). */
export function createReportRepository(
  db: Db,
  { findById, appendEvent, inCountedTransaction }: MessageWriter,
) {
  function findTarget(target: ReportTarget): MessageRow | undefined {
    if (target.kind === 'id') return findById.get({ id: target.id });
    if (target.kind === 'none') return undefined;
    const rows = db
      .select(messageReadColumns)
      .from(messages)
      .where(eq(messages.messageId, target.messageId))
      .orderBy(desc(messages.id))
      .limit(50)
      .all();
    // Messages of one submission share a Message-ID: the failed recipient tells them apart.
    if (target.recipient !== null) {
      const key = recipientKey(target.recipient);
      return rows.find((row) => row.recipientKey === key);
    }
    return rows.length === 1 ? rows[0] : undefined;
  }

  // Prepared once: every sendEmail batch and SMTP submission asks it for each recipient, and
  // building the query per call cost more than running it.
  const activeByKey = db
    .select()
    .from(suppressions)
    .where(and(eq(suppressions.addressKey, sql.placeholder('key')), isNull(suppressions.removedAt)))
    .prepare();

  function activeEntry(key: string) {
    return activeByKey.get({ key });
  }

  function addInTx(
    entry: {
      address: string;
      reason: 'HARD_BOUNCE' | 'COMPLAINT' | 'MANUAL';
      detail: string | null;
      source?: IncomingReport['detail']['source'] | null;
      messageId?: number | null;
    },
    actor: SuppressionActor,
    nowMs: number,
  ) {
    const key = suppressionKey(entry.address);
    const existing = activeEntry(key);
    if (existing) return { suppression: toSuppression(existing), created: false };
    const row = db
      .insert(suppressions)
      .values({
        address: entry.address,
        addressKey: key,
        reason: entry.reason,
        source: entry.source ?? null,
        messageId: entry.messageId ?? null,
        detail: entry.detail,
        createdAt: nowMs,
        createdBy: actor.kind,
        createdByTokenId: actor.tokenId,
      })
      .returning()
      .get();
    return { suppression: toSuppression(row), created: true };
  }

  return {
    record(report: IncomingReport, nowMs: number): RecordReportResult {
      const reportKey = reportKeyOf(report);
      return inCountedTransaction((counters) => {
        const seen =
          db
            .select({ seq: messageEvents.seq })
            .from(messageEvents)
            .where(eq(messageEvents.reportKey, reportKey))
            .get() ??
          db
            .select({ id: unmatchedReports.id })
            .from(unmatchedReports)
            .where(eq(unmatchedReports.reportKey, reportKey))
            .get();
        if (seen) return { kind: 'duplicate' };
        const row = findTarget(report.target);
        if (!row) {
          const stored = db
            .insert(unmatchedReports)
            .values({
              at: nowMs,
              source: report.detail.source,
              outcome: report.outcome,
              recipient: report.recipient,
              detail: unmatchedDetail(report),
              reportKey,
            })
            .returning()
            .get();
          counters.countUnmatched(nowMs, report.detail.source);
          return { kind: 'unmatched', report: toUnmatched(stored) };
        }
        const outcome = strongerOutcome(row.outcome, report.outcome);
        const updated = db
          .update(messages)
          .set({ outcome, updatedAt: sql`max(${messages.updatedAt}, ${nowMs})` })
          .where(eq(messages.id, row.id))
          .returning()
          .get()!;
        const event = appendEvent(
          counters,
          row,
          {
            atMs: nowMs,
            status: row.status,
            previousStatus: row.status,
            reason: REPORT_REASONS[report.detail.source],
            attempt: null,
            error: null,
            smtpConfigVersion: row.smtpConfigVersion,
            outcome: report.outcome,
            report: report.detail,
          },
          reportKey,
        );
        const reason = suppressionReasonFor(report.outcome, report.detail.bounceType);
        const added =
          reason === null
            ? null
            : addInTx(
                {
                  address: row.recipient,
                  reason,
                  detail: report.detail.diagnostic,
                  source: report.detail.source,
                  messageId: row.id,
                },
                { kind: 'report', tokenId: null },
                nowMs,
              );
        return {
          kind: 'recorded',
          message: toMessage(updated),
          event,
          suppression: added?.created ? added.suppression : null,
        };
      });
    },

    listUnmatched(first: number) {
      return db
        .select()
        .from(unmatchedReports)
        .orderBy(desc(unmatchedReports.id))
        .limit(first)
        .all()
        .map(toUnmatched);
    },

    find(address: string) {
      const row = activeEntry(suppressionKey(address));
      return row ? toSuppression(row) : null;
    },

    activeKeys(addresses: readonly string[]): Set<string> {
      const keys = new Set<string>();
      for (const address of addresses) {
        const key = suppressionKey(address);
        if (!keys.has(key) && activeEntry(key)) keys.add(key);
      }
      return keys;
    },

    list(address: string | null, first: number, afterId: number | null): SuppressionPage {
      const active = and(
        isNull(suppressions.removedAt),
        address === null ? undefined : eq(suppressions.addressKey, suppressionKey(address)),
      );
      const rows = db
        .select()
        .from(suppressions)
        .where(and(active, afterId === null ? undefined : lt(suppressions.id, afterId)))
        .orderBy(desc(suppressions.id))
        .limit(first + 1)
        .all();
      const totalCount = db
        .select({ n: sql<number>`count(*)` })
        .from(suppressions)
        .where(active)
        .get()!.n;
      return {
        suppressions: rows.slice(0, first).map(toSuppression),
        hasNextPage: rows.length > first,
        totalCount,
      };
    },

    add(
      entry: {
        address: string;
        reason: 'HARD_BOUNCE' | 'COMPLAINT' | 'MANUAL';
        detail: string | null;
      },
      actor: SuppressionActor,
      nowMs: number,
    ) {
      return inCountedTransaction(() => addInTx(entry, actor, nowMs));
    },

    remove(address: string, actor: SuppressionActor, nowMs: number): boolean {
      return inCountedTransaction(
        () =>
          db
            .update(suppressions)
            .set({ removedAt: nowMs, removedBy: actor.kind, removedByTokenId: actor.tokenId })
            .where(
              and(
                eq(suppressions.addressKey, suppressionKey(address)),
                isNull(suppressions.removedAt),
              ),
            )
            .run().changes > 0,
      );
    },
  };
}
