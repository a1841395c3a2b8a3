import type { ClaimedWebhook, WebhookDelivery } from '../../domain/webhook.ts';
import type pg from 'pg';
import type { WebhookAttemptRecord, WebhookStore } from '../port.ts';
import {
  CLAIM_COLUMNS,
  DELIVERY_COLUMNS,
  ENDPOINT_COLUMNS,
  toDelivery,
  toEndpoint,
  type EndpointRow,
} from '../webhook-rows.ts';
import type { PostgresClient } from './client.ts';

type DeliveryRow = Parameters<typeof toDelivery>[0];

const CLAIM = {
  name: 'mailscope-webhook-claim',
  // SKIP LOCKED: instances claiming at once take different rows and never wait for each other;
  // a row stays theirs until its lease runs out (a crash mid-send).
  text: `UPDATE webhook_outbox SET lease_expires_at = $3 + $4
    WHERE id IN (SELECT o.id FROM webhook_outbox o
      JOIN webhook_endpoints e ON e.id = o.endpoint_id AND e.enabled
      WHERE o.endpoint_id = $1 AND o.next_attempt_at <= $3
        AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= $3)
      ORDER BY o.next_attempt_at, o.id LIMIT $2
      FOR UPDATE OF o SKIP LOCKED)
    RETURNING ${CLAIM_COLUMNS}`,
};
const DUE_ENDPOINTS = {
  name: 'mailscope-webhook-due-endpoints',
  text: `SELECT e.id FROM webhook_endpoints e WHERE e.enabled AND EXISTS (
      SELECT 1 FROM webhook_outbox o WHERE o.endpoint_id = e.id AND o.next_attempt_at <= $1
        AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= $1))`,
};
const INSERT_OUTBOX = `INSERT INTO webhook_outbox (endpoint_id, webhook_id, event_type, payload,
    created_at, attempts, next_attempt_at)
  SELECT endpoint_id, webhook_id, event_type, payload, $5, 0, $6::bigint
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
    WITH ORDINALITY AS r(endpoint_id, webhook_id, event_type, payload, n)
  ORDER BY n RETURNING id`;

async function findDelivery(
  client: { query: (text: string, values: unknown[]) => Promise<{ rows: DeliveryRow[] }> },
  id: number,
): Promise<WebhookDelivery | null> {
  const { rows } = await client.query(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id
      WHERE a.id = $1`,
    [id],
  );
  return rows[0] ? toDelivery(rows[0]) : null;
}

/** One attempt, inside the caller's transaction (see WebhookStore.recordAttempts). */
async function recordOne(
  tx: pg.PoolClient,
  record: WebhookAttemptRecord,
): Promise<{ attemptId: number; failingSinceMs: number | null } | null> {
  const { claim } = record;
  const finished = await tx.query(
    `UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $3,
          lease_expires_at = NULL
        WHERE id = $1 AND lease_expires_at = $2`,
    [claim.outboxId, claim.leaseExpiresAtMs, record.nextAttemptAtMs],
  );
  if ((finished.rowCount ?? 0) === 0) return null;
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO webhook_attempts (outbox_id, endpoint_id, attempt, at, status_code,
          duration_ms, error, response_body, succeeded, next_attempt_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      claim.outboxId,
      claim.endpointId,
      claim.attempts + 1,
      record.atMs,
      record.statusCode,
      record.durationMs,
      record.error,
      record.responseBody,
      record.succeeded,
      record.nextAttemptAtMs,
    ],
  );
  const attemptId = rows[0]!.id;
  if (record.succeeded) {
    // Only when there is a run to end: success after success neither writes a row version nor
    // locks the endpoint, which every instance's records would otherwise queue on.
    await tx.query(
      'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
      [claim.endpointId],
    );
    return { attemptId, failingSinceMs: null };
  }
  const failing = await tx.query<{ failingSinceMs: number | null }>(
    `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2)
        WHERE id = $1 RETURNING failing_since AS "failingSinceMs"`,
    [claim.endpointId, record.atMs],
  );
  return { attemptId, failingSinceMs: failing.rows[0]?.failingSinceMs ?? null };
}

/**
 * `records` in one transaction, results in the order given. Written endpoint by endpoint (each
 * endpoint's in the order given): instances recording failures of the same endpoints lock their
 * rows in one order, so two batches never wait for each other in a circle.
 */
async function recordAll(tx: pg.PoolClient, records: readonly WebhookAttemptRecord[]) {
  const order = records
    .map((record, index) => ({ record, index }))
    .sort((a, b) => a.record.claim.endpointId - b.record.claim.endpointId || a.index - b.index);
  const results: Awaited<ReturnType<typeof recordOne>>[] = new Array(records.length);
  for (const { record, index } of order) results[index] = await recordOne(tx, record);
  return results;
}

/** Outgoing webhooks on PostgreSQL: claims shared by every instance with SKIP LOCKED. */
export function createPostgresWebhooks(client: PostgresClient): WebhookStore {
  const endpointWhere = async (where: string, values: unknown[]) =>
    (
      await client.query<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ${where}`,
        values,
      )
    ).rows.map(toEndpoint);
  const findEndpoint = async (id: number) =>
    (await endpointWhere('WHERE id = $1', [id]))[0] ?? null;

  return {
    async createEndpoint({ url, events, description, secret, nowMs }) {
      const { rows } = await client.query<EndpointRow>(
        `INSERT INTO webhook_endpoints (url, events, enabled, description, secret, created_at)
          VALUES ($1, $2, true, $3, $4, $5) RETURNING ${ENDPOINT_COLUMNS}`,
        [url, events, description, secret, nowMs],
      );
      return toEndpoint(rows[0]!);
    },
    listEndpoints: () => endpointWhere('ORDER BY id', []),
    findEndpoint,
    async updateEndpoint(id, change) {
      const { rows } = await client.query<EndpointRow>(
        `UPDATE webhook_endpoints SET url = coalesce($2, url), events = coalesce($3, events),
            enabled = coalesce($4, enabled),
            failing_since = CASE WHEN $4 THEN NULL ELSE failing_since END,
            disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END
          WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
        [id, change.url ?? null, change.events ?? null, change.enabled ?? null],
      );
      return rows[0] ? toEndpoint(rows[0]) : null;
    },
    async deleteEndpoint(id) {
      // Attempts and outbox rows go with it (ON DELETE CASCADE).
      const { rowCount } = await client.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    async rotateSecret(id, secret, previousUntilMs) {
      const { rows } = await client.query<EndpointRow>(
        `UPDATE webhook_endpoints SET previous_secret = secret, secret = $2,
            previous_secret_until = $3
          WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
        [id, secret, previousUntilMs],
      );
      return rows[0] ? toEndpoint(rows[0]) : null;
    },
    async resealSecrets(id, from, to) {
      const { rowCount } = await client.query(
        `UPDATE webhook_endpoints SET secret = $2, previous_secret = $3
          WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5`,
        [id, to.secret, to.previousSecret, from.secret, from.previousSecret],
      );
      return rowCount === 1;
    },
    async listDeliveries(endpointId, first) {
      const { rows } = await client.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_attempts a
          JOIN webhook_outbox o ON o.id = a.outbox_id
          WHERE a.endpoint_id = $1 ORDER BY a.id DESC LIMIT $2`,
        [endpointId, first],
      );
      return rows.map(toDelivery);
    },
    findDelivery: (id) =>
      findDelivery({ query: (text, values) => client.query<DeliveryRow>(text, values) }, id),
    async claimRow(outboxId, nowMs, leaseMs) {
      const { rows } = await client.query<ClaimedWebhook>(
        `UPDATE webhook_outbox SET lease_expires_at = $2 + $3
          WHERE id = $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $2)
          RETURNING ${CLAIM_COLUMNS}`,
        [outboxId, nowMs, leaseMs],
      );
      return rows[0] ?? null;
    },
    async enqueue(rows, nowMs, dueNow) {
      if (rows.length === 0) return [];
      const result = await client.query<{ id: number }>(INSERT_OUTBOX, [
        rows.map((row) => row.endpointId),
        rows.map((row) => row.webhookId),
        rows.map((row) => row.eventType),
        rows.map((row) => row.payload),
        nowMs,
        dueNow ? nowMs : null,
      ]);
      return result.rows.map((row) => row.id);
    },
    async dueEndpoints(nowMs) {
      const { rows } = await client.query<{ id: number }>({ ...DUE_ENDPOINTS, values: [nowMs] });
      return rows.map((row) => row.id);
    },
    async claim(endpointId, limit, nowMs, leaseMs) {
      const { rows } = await client.query<ClaimedWebhook>({
        ...CLAIM,
        values: [endpointId, limit, nowMs, leaseMs],
      });
      return rows.sort((a, b) => a.outboxId - b.outboxId);
    },
    recordAttempts: (records) =>
      client.transaction(async (tx) => {
        const results = [];
        for (const recorded of await recordAll(tx, records)) {
          results.push(
            recorded === null
              ? null
              : {
                  delivery: (await findDelivery(
                    { query: (text, values) => tx.query<DeliveryRow>(text, values) },
                    recorded.attemptId,
                  ))!,
                  failingSinceMs: recorded.failingSinceMs,
                },
          );
        }
        return results;
      }),
    recordAndClaim: (records, claims, nowMs, leaseMs) =>
      client.transaction(async (tx) => {
        const recorded = await recordAll(tx, records);
        const claimed = [];
        for (const { endpointId, limit } of claims) {
          const { rows } = await tx.query<ClaimedWebhook>({
            ...CLAIM,
            values: [endpointId, limit, nowMs, leaseMs],
          });
          if (rows.length === 0) continue;
          const found = await tx.query<EndpointRow>(
            `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
            [endpointId],
          );
          if (found.rows[0]) {
            claimed.push({
              endpoint: toEndpoint(found.rows[0]),
              rows: rows.sort((a, b) => a.outboxId - b.outboxId),
            });
          }
        }
        return { recorded, claimed };
      }),
    disableEndpoint: (id, reason, notice, nowMs) =>
      client.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2
            WHERE id = $1 AND enabled`,
          [id, reason],
        );
        if ((rowCount ?? 0) === 0) return false;
        await tx.query(
          `INSERT INTO webhook_outbox (endpoint_id, webhook_id, event_type, payload, created_at,
              attempts, next_attempt_at)
            SELECT id, $2, $3, $4, $5, 0, $5 FROM webhook_endpoints
            WHERE enabled AND id <> $1 AND cardinality(events) > 0`,
          [id, notice.webhookId, notice.eventType, notice.payload, nowMs],
        );
        return true;
      }),
  };
}
