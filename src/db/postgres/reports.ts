import type pg from 'pg';
import {
  REPORT_REASONS,
  strongerOutcome,
  suppressionKey,
  suppressionReasonFor,
  type IncomingReport,
  type ReportSource,
  type ReportTarget,
  type SuppressionReason,
} from '../../domain/report.ts';
import { createCounterBatch } from '../counters.ts';
import { recipientKey } from '../message-filter.ts';
import type {
  RecordReportResult,
  ReportStore,
  SuppressionActor,
  SuppressionStore,
} from '../port.ts';
import {
  reportKeyOf,
  toSuppression,
  toUnmatched,
  unmatchedDetail,
  type SuppressionRow,
  type UnmatchedRow,
} from '../report-rows.ts';
import { toEvent, toMessage, type EventRow, type MessageRow } from '../rows.ts';
import type { PostgresClient } from './client.ts';
import { eventColumns, messageColumns } from './columns.ts';
import { writeCounters } from './event-writer.ts';

const SUPPRESSION_COLUMNS = `id, address, reason, source, message_id AS "messageId", detail,
  created_at AS "createdAt", created_by AS "createdBy", created_by_token_id AS "createdByTokenId"`;

const UNMATCHED_COLUMNS = `id, at, source, outcome, recipient, detail`;

/**
 * Named, so each connection parses and plans it once. sendEmail no longer runs it: the enqueue
 * statements look the list up themselves (queue.ts), saving a round trip per commit.
 */
const ACTIVE_KEYS = {
  name: 'mailscope-suppression-active-keys',
  text: `SELECT address_key AS key FROM suppressions
    WHERE address_key = ANY($1::text[]) AND removed_at IS NULL`,
};

const ACTIVE = {
  name: 'mailscope-suppression-active',
  text: `SELECT ${SUPPRESSION_COLUMNS} FROM suppressions
    WHERE address_key = $1 AND removed_at IS NULL`,
};

const INSERT_SUPPRESSION = {
  name: 'mailscope-suppression-insert',
  text: `INSERT INTO suppressions (address, address_key, reason, source, message_id, detail,
      created_at, created_by, created_by_token_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (address_key) WHERE removed_at IS NULL DO NOTHING
    RETURNING ${SUPPRESSION_COLUMNS}`,
};

const INSERT_REPORT_EVENT = {
  name: 'mailscope-report-event',
  text: `INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
      error, smtp_config_version, outcome, report, report_key)
    VALUES ($1, $2, $3, $3, $4, NULL, NULL, $5, $6, $7::jsonb, $8)
    ON CONFLICT (report_key) WHERE report_key IS NOT NULL DO NOTHING
    RETURNING ${eventColumns()}`,
};

/** Delivery reports and the suppression list on PostgreSQL. */
export function createPostgresReports(client: PostgresClient): ReportStore & SuppressionStore {
  async function lockTarget(
    tx: pg.ClientBase,
    target: ReportTarget,
  ): Promise<MessageRow | undefined> {
    if (target.kind === 'none') return undefined;
    if (target.kind === 'id') {
      const { rows } = await tx.query<MessageRow>(
        `SELECT ${messageColumns()} FROM messages WHERE id = $1 FOR UPDATE`,
        [target.id],
      );
      return rows[0];
    }
    const { rows } = await tx.query<MessageRow & { recipientKey: string }>(
      `SELECT ${messageColumns()}, recipient_key AS "recipientKey" FROM messages
        WHERE message_id = $1 ORDER BY id DESC LIMIT 50`,
      [target.messageId],
    );
    // Messages of one submission share a Message-ID: the failed recipient tells them apart.
    const row =
      target.recipient !== null
        ? rows.find((candidate) => candidate.recipientKey === recipientKey(target.recipient!))
        : rows.length === 1
          ? rows[0]
          : undefined;
    return row ? lockTarget(tx, { kind: 'id', id: row.id }) : undefined;
  }

  async function addInTx(
    tx: pg.ClientBase,
    entry: {
      address: string;
      reason: SuppressionReason;
      detail: string | null;
      source: ReportSource | null;
      messageId: number | null;
    },
    actor: SuppressionActor,
    nowMs: number,
  ) {
    const key = suppressionKey(entry.address);
    const inserted = await tx.query<SuppressionRow>({
      ...INSERT_SUPPRESSION,
      values: [
        entry.address,
        key,
        entry.reason,
        entry.source,
        entry.messageId,
        entry.detail,
        nowMs,
        actor.kind,
        actor.tokenId,
      ],
    });
    if (inserted.rows[0]) return { suppression: toSuppression(inserted.rows[0]), created: true };
    const { rows } = await tx.query<SuppressionRow>({ ...ACTIVE, values: [key] });
    return { suppression: toSuppression(rows[0]!), created: false };
  }

  return {
    record(report: IncomingReport, nowMs: number): Promise<RecordReportResult> {
      const reportKey = reportKeyOf(report);
      return client.transaction(async (tx) => {
        const earlier = await tx.query('SELECT 1 FROM unmatched_reports WHERE report_key = $1', [
          reportKey,
        ]);
        if (earlier.rows.length > 0) return { kind: 'duplicate' };
        const counters = createCounterBatch();
        const row = await lockTarget(tx, report.target);
        if (!row) {
          const { rows } = await tx.query<UnmatchedRow>(
            `INSERT INTO unmatched_reports (at, source, outcome, recipient, detail, report_key)
              VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_key) DO NOTHING
              RETURNING ${UNMATCHED_COLUMNS}`,
            [
              nowMs,
              report.detail.source,
              report.outcome,
              report.recipient,
              unmatchedDetail(report),
              reportKey,
            ],
          );
          if (!rows[0]) return { kind: 'duplicate' };
          counters.countUnmatched(nowMs, report.detail.source);
          await writeCounters(tx, counters);
          return { kind: 'unmatched', report: toUnmatched(rows[0]) };
        }
        const logged = await tx.query<EventRow & { xid: number }>({
          ...INSERT_REPORT_EVENT,
          values: [
            row.id,
            nowMs,
            row.status,
            REPORT_REASONS[report.detail.source],
            row.smtpConfigVersion,
            report.outcome,
            JSON.stringify(report.detail),
            reportKey,
          ],
        });
        if (!logged.rows[0]) return { kind: 'duplicate' };
        const event = toEvent(logged.rows[0], row.recipient, logged.rows[0].xid);
        counters.countEvent(event, { createdAtMs: row.createdAt, attempts: row.attempts });
        const { rows: updated } = await tx.query<MessageRow>(
          `UPDATE messages SET outcome = $2, updated_at = greatest(updated_at, $3::bigint)
            WHERE id = $1 RETURNING ${messageColumns()}`,
          [row.id, strongerOutcome(row.outcome, report.outcome), nowMs],
        );
        const reason = suppressionReasonFor(report.outcome, report.detail.bounceType);
        const added =
          reason === null
            ? null
            : await addInTx(
                tx,
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
        await writeCounters(tx, counters);
        return {
          kind: 'recorded',
          message: toMessage(updated[0]!),
          event,
          suppression: added?.created ? added.suppression : null,
        };
      });
    },

    async listUnmatched(first) {
      const { rows } = await client.query<UnmatchedRow>(
        `SELECT ${UNMATCHED_COLUMNS} FROM unmatched_reports ORDER BY id DESC LIMIT $1`,
        [first],
      );
      return rows.map(toUnmatched);
    },

    async find(address) {
      const { rows } = await client.query<SuppressionRow>({
        ...ACTIVE,
        values: [suppressionKey(address)],
      });
      return rows[0] ? toSuppression(rows[0]) : null;
    },

    async activeKeys(addresses) {
      if (addresses.length === 0) return new Set();
      const { rows } = await client.query<{ key: string }>({
        ...ACTIVE_KEYS,
        values: [[...new Set(addresses.map(suppressionKey))]],
      });
      return new Set(rows.map((row) => row.key));
    },

    async list(address, first, afterId) {
      const key = address === null ? null : suppressionKey(address);
      const where = `removed_at IS NULL AND ($1::text IS NULL OR address_key = $1)`;
      const [page, total] = await Promise.all([
        client.query<SuppressionRow>(
          `SELECT ${SUPPRESSION_COLUMNS} FROM suppressions
            WHERE ${where} AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
          [key, afterId, first + 1],
        ),
        client.query<{ n: string }>(`SELECT count(*) AS n FROM suppressions WHERE ${where}`, [key]),
      ]);
      return {
        suppressions: page.rows.slice(0, first).map(toSuppression),
        hasNextPage: page.rows.length > first,
        totalCount: Number(total.rows[0]!.n),
      };
    },

    add(entry, actor, nowMs) {
      return client.transaction((tx) =>
        addInTx(tx, { ...entry, source: null, messageId: null }, actor, nowMs),
      );
    },

    async remove(address, actor, nowMs) {
      const result = await client.query(
        `UPDATE suppressions SET removed_at = $2, removed_by = $3, removed_by_token_id = $4
          WHERE address_key = $1 AND removed_at IS NULL`,
        [suppressionKey(address), nowMs, actor.kind, actor.tokenId],
      );
      return (result.rowCount ?? 0) > 0;
    },
  };
}
