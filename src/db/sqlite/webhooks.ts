import type {
  ClaimedWebhook,
  StoredWebhookEndpoint,
  WebhookDelivery,
} from '../../domain/webhook.ts';
import type { WebhookAttemptRecord, WebhookStore } from '../port.ts';
import {
  CLAIM_COLUMNS,
  DELIVERY_COLUMNS,
  ENDPOINT_COLUMNS,
  toDelivery,
  toEndpoint,
  type EndpointRow,
} from '../webhook-rows.ts';
import type { Db } from './client.ts';

type Sync<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/**
 * Outgoing webhooks on SQLite, synchronous (the adapter runs writes in its write turns). One
 * instance per file, so a claim is a plain UPDATE; leases still guard against a claim outliving
 * a crash of the dispatcher's send.
 */
export function createWebhookRepository(db: Db): Sync<WebhookStore> {
  const sqlite = db.$client;
  const findEndpoint = sqlite.prepare<[number], EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?`,
  );
  const listEndpoints = sqlite.prepare<[], EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id`,
  );
  const insertEndpoint = sqlite.prepare(
    `INSERT INTO webhook_endpoints (url, events, enabled, description, secret, created_at)
      VALUES (@url, @events, 1, @description, @secret, @nowMs) RETURNING id`,
  );
  const listDeliveries = sqlite.prepare(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id
      WHERE a.endpoint_id = ? ORDER BY a.id DESC LIMIT ?`,
  );
  const findDelivery = sqlite.prepare(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id
      WHERE a.id = ?`,
  );
  const insertOutbox = sqlite.prepare(
    `INSERT INTO webhook_outbox (endpoint_id, webhook_id, event_type, payload, created_at,
        attempts, next_attempt_at)
      VALUES (@endpointId, @webhookId, @eventType, @payload, @nowMs, 0, @due) RETURNING id`,
  );
  // One look per endpoint (its first unleased due row), as on PostgreSQL: a DISTINCT over every
  // due row scanned a whole backlog at each wake, 40 % of the main thread under load.
  const dueEndpoints = sqlite.prepare<[number, number], number>(
    `SELECT e.id FROM webhook_endpoints e WHERE e.enabled = 1 AND EXISTS (
      SELECT 1 FROM webhook_outbox o WHERE o.endpoint_id = e.id AND o.next_attempt_at <= ?
        AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= ?))`,
  );
  const claim = sqlite.prepare(
    `UPDATE webhook_outbox SET lease_expires_at = @leaseExpiresAt
      WHERE id IN (SELECT id FROM webhook_outbox
        WHERE endpoint_id = @endpointId AND next_attempt_at <= @nowMs
          AND (lease_expires_at IS NULL OR lease_expires_at <= @nowMs)
        ORDER BY next_attempt_at, id LIMIT @limit)
        AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = @endpointId AND enabled = 1)
      RETURNING ${CLAIM_COLUMNS}`,
  );
  const finishRow = sqlite.prepare(
    `UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = @next,
        lease_expires_at = NULL
      WHERE id = @id AND lease_expires_at = @lease`,
  );
  const insertAttempt = sqlite.prepare(
    `INSERT INTO webhook_attempts (outbox_id, endpoint_id, attempt, at, status_code, duration_ms,
        error, response_body, succeeded, next_attempt_at)
      VALUES (@outboxId, @endpointId, @attempt, @at, @statusCode, @durationMs, @error,
        @responseBody, @succeeded, @next) RETURNING id`,
  );
  const markFailing = sqlite.prepare<[number, number], { failingSinceMs: number | null }>(
    `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?)
      WHERE id = ? RETURNING failing_since AS "failingSinceMs"`,
  );
  // Only when there is a run to end: the steady state (success after success) writes no page.
  const clearFailing = sqlite.prepare<[number]>(
    `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`,
  );

  const endpoint = (id: number): StoredWebhookEndpoint | null => {
    const row = findEndpoint.get(id);
    return row ? toEndpoint(row) : null;
  };
  const delivery = (id: number): WebhookDelivery | null => {
    const row = findDelivery.get(id) as Parameters<typeof toDelivery>[0] | undefined;
    return row ? toDelivery(row) : null;
  };

  function recordOne(record: WebhookAttemptRecord) {
    const { claim: claimed } = record;
    const finished = finishRow.run({
      id: claimed.outboxId,
      lease: claimed.leaseExpiresAtMs,
      next: record.nextAttemptAtMs,
    });
    if (finished.changes === 0) return null;
    const { id } = insertAttempt.get({
      outboxId: claimed.outboxId,
      endpointId: claimed.endpointId,
      attempt: claimed.attempts + 1,
      at: record.atMs,
      statusCode: record.statusCode,
      durationMs: record.durationMs,
      error: record.error,
      responseBody: record.responseBody,
      succeeded: record.succeeded ? 1 : 0,
      next: record.nextAttemptAtMs,
    }) as { id: number };
    if (record.succeeded) {
      clearFailing.run(claimed.endpointId);
      return { attemptId: id, failingSinceMs: null };
    }
    const failing = markFailing.get(record.atMs, claimed.endpointId);
    return { attemptId: id, failingSinceMs: failing?.failingSinceMs ?? null };
  }

  const claimDue = (endpointId: number, limit: number, nowMs: number, leaseMs: number) =>
    (
      claim.all({
        endpointId,
        limit,
        nowMs,
        leaseExpiresAt: nowMs + leaseMs,
      }) as ClaimedWebhook[]
    ).sort((a, b) => a.outboxId - b.outboxId);

  return {
    createEndpoint({ url, events, description, secret, nowMs }) {
      const { id } = insertEndpoint.get({
        url,
        events: JSON.stringify(events),
        description,
        secret,
        nowMs,
      }) as { id: number };
      return endpoint(id)!;
    },
    listEndpoints: () => listEndpoints.all().map(toEndpoint),
    findEndpoint: endpoint,
    updateEndpoint(id, change) {
      sqlite
        .prepare(
          `UPDATE webhook_endpoints SET url = coalesce(@url, url),
              events = coalesce(@events, events), enabled = coalesce(@enabled, enabled),
              failing_since = CASE WHEN @enabled = 1 THEN NULL ELSE failing_since END,
              disabled_reason = CASE WHEN @enabled = 1 THEN NULL ELSE disabled_reason END
            WHERE id = @id`,
        )
        .run({
          id,
          url: change.url ?? null,
          events: change.events ? JSON.stringify(change.events) : null,
          enabled: change.enabled === undefined ? null : change.enabled ? 1 : 0,
        });
      return endpoint(id);
    },
    deleteEndpoint: (id) =>
      sqlite
        .transaction(() => {
          sqlite.prepare('DELETE FROM webhook_attempts WHERE endpoint_id = ?').run(id);
          sqlite.prepare('DELETE FROM webhook_outbox WHERE endpoint_id = ?').run(id);
          return sqlite.prepare('DELETE FROM webhook_endpoints WHERE id = ?').run(id).changes > 0;
        })
        .immediate(),
    rotateSecret(id, secret, previousUntilMs) {
      sqlite
        .prepare(
          `UPDATE webhook_endpoints SET previous_secret = secret, secret = ?,
            previous_secret_until = ? WHERE id = ?`,
        )
        .run(secret, previousUntilMs, id);
      return endpoint(id);
    },
    resealSecrets(id, from, to) {
      return (
        sqlite
          .prepare(
            `UPDATE webhook_endpoints SET secret = ?, previous_secret = ?
              WHERE id = ? AND secret = ? AND previous_secret IS ?`,
          )
          .run(to.secret, to.previousSecret, id, from.secret, from.previousSecret).changes === 1
      );
    },
    listDeliveries: (endpointId, first) =>
      (listDeliveries.all(endpointId, first) as Parameters<typeof toDelivery>[0][]).map(toDelivery),
    findDelivery: delivery,
    claimRow: (outboxId, nowMs, leaseMs) =>
      (sqlite
        .prepare(
          `UPDATE webhook_outbox SET lease_expires_at = ?
            WHERE id = ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
            RETURNING ${CLAIM_COLUMNS}`,
        )
        .get(nowMs + leaseMs, outboxId, nowMs) as ClaimedWebhook | undefined) ?? null,
    enqueue: (rows, nowMs, dueNow) =>
      sqlite
        .transaction(() =>
          rows.map(
            (row) =>
              (insertOutbox.get({ ...row, nowMs, due: dueNow ? nowMs : null }) as { id: number })
                .id,
          ),
        )
        .immediate(),
    dueEndpoints: (nowMs) => dueEndpoints.pluck().all(nowMs, nowMs),
    claim: claimDue,
    recordAttempts: (records) =>
      sqlite
        .transaction(() =>
          records.map(recordOne).map((recorded) =>
            recorded === null
              ? null
              : {
                  delivery: delivery(recorded.attemptId)!,
                  failingSinceMs: recorded.failingSinceMs,
                },
          ),
        )
        .immediate(),
    recordAndClaim: (records, claims, nowMs, leaseMs) =>
      sqlite
        .transaction(() => {
          const recorded = records.map(recordOne);
          const claimed = claims.flatMap(({ endpointId, limit }) => {
            const rows = claimDue(endpointId, limit, nowMs, leaseMs);
            const found = rows.length > 0 ? endpoint(endpointId) : null;
            return found === null ? [] : [{ endpoint: found, rows }];
          });
          return { recorded, claimed };
        })
        .immediate(),
    disableEndpoint: (id, reason, notice, nowMs) =>
      sqlite
        .transaction(() => {
          const changed = sqlite
            .prepare(
              `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ? AND enabled = 1`,
            )
            .run(reason, id).changes;
          if (changed === 0) return false;
          const others = sqlite
            .prepare<[number], number>(
              `SELECT id FROM webhook_endpoints WHERE enabled = 1 AND id <> ? AND events <> '[]'`,
            )
            .pluck()
            .all(id);
          for (const endpointId of others) {
            insertOutbox.get({ ...notice, endpointId, nowMs, due: nowMs });
          }
          return true;
        })
        .immediate(),
  };
}
