import type pg from 'pg';
import type { MessageEvent } from '../../domain/message.ts';
import { createCounterBatch, type CounterBatch, type CounterEntry } from '../counters.ts';
import { foldForSearch, recipientKey } from '../message-filter.ts';
import type {
  AttemptRecord,
  ClaimedMessage,
  ClaimRequest,
  EnqueueAllResult,
  EnqueueResult,
  MessageQueue,
  NewMessage,
  RecordAndClaimResult,
} from '../port.ts';
import { toMessage, type MessageRow } from '../rows.ts';
import { DB_NOW_MS, type PostgresClient } from './client.ts';
import { messageColumns, messageColumnsWithRaw } from './columns.ts';
import { appendEvents, writeCounters, type EventSubject } from './event-writer.ts';

// The queue on PostgreSQL, for any number of instances on one database:
// - claims take rows with FOR UPDATE SKIP LOCKED, so instances claiming together never wait
//   for each other nor take the same message;
// - a lease and a due time are on the database's clock (one clock, whatever the instances'
//   clocks say), and a lease's end is its claim's token: a record or release applies only
//   while the row still carries it;
// - every statement works on a whole batch (unnest), a handful of round trips per transaction.

/**
 * Stores the distinct submitted MIME messages of a batch ($SUBS::bytea[]) once each, ids taken
 * first so that each message can name its own by position ($ORD: 1-based, null when composed).
 */
const submissionsCte = (raws: string) => `subs AS MATERIALIZED (
      SELECT nextval(pg_get_serial_sequence('submissions', 'id')) AS id, u.raw, u.ord
      FROM unnest(${raws}::bytea[]) WITH ORDINALITY AS u(raw, ord)),
    stored_subs AS (INSERT INTO submissions (id, raw) SELECT id, raw FROM subs)`;

/**
 * The status a new message is stored with: SUPPRESSED when the caller said so or its recipient
 * is on the suppression list now, looked up here so that an enqueue is one round trip. The list
 * is read once for the batch's keys ($2, the recipient keys) rather than per row (EXISTS): a
 * per-row subplan made the generic plan look dearer than one planned for the actual arrays, so
 * PostgreSQL planned the statement again on every call (custom_plans in pg_prepared_statements),
 * which cost more than the round trip it saves.
 */
const storedStatus = (row: string) => `CASE WHEN ${row}.status = 'SUPPRESSED'
    OR ${row}.recipient_key IN (SELECT s.address_key FROM suppressions s
      WHERE s.address_key = ANY($2::text[]) AND s.removed_at IS NULL)
  THEN 'SUPPRESSED' ELSE 'QUEUED' END`;

const ENQUEUE = {
  name: 'mailscope-enqueue',
  text: `WITH ${submissionsCte('$14')}
    INSERT INTO messages (recipient, recipient_key, subject, subject_folded, text, html,
      headers, status, attempts, max_attempts, attempts_at_retry, message_id, idempotency_key,
      request_hash, created_at, updated_at, next_attempt_at, ever_failed, submission_id,
      submitted_by)
    SELECT r.recipient, r.recipient_key, r.subject, r.subject_folded, r.text, r.html, r.headers,
      r.stored_status, 0, r.max_attempts, 0, r.message_id, r.idempotency_key, r.request_hash,
      $13::bigint, $13::bigint, CASE WHEN r.stored_status = 'QUEUED' THEN ${DB_NOW_MS} END, false,
      (SELECT s.id FROM subs s WHERE s.ord = r.submission_ord), r.submitted_by
    FROM (SELECT u.*, ${storedStatus('u')} AS stored_status
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::jsonb[], $8::int[], $9::text[], $10::text[], $11::text[], $12::int[], $16::int[],
        $15::text[], $17::text[])
        AS u(recipient, recipient_key, subject, subject_folded, text, html, headers, max_attempts,
          message_id, idempotency_key, request_hash, version, submission_ord, status,
          submitted_by)) r
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING ${messageColumns()}`,
};

/**
 * enqueueMany without idempotency keys, the common case, as one statement (so one round trip and
 * no BEGIN/COMMIT): the suppression look-up, the messages, their events and their counters. The
 * caller gives the counter entries of one event per reason ($21: queued, suppressed); they are
 * multiplied by the number of events that have it.
 */
const ENQUEUE_PLAIN = {
  name: 'mailscope-enqueue-plain',
  text: `WITH ${submissionsCte('$17')},
    inserted AS (
      INSERT INTO messages (recipient, recipient_key, subject, subject_folded, text, html,
        headers, status, attempts, max_attempts, attempts_at_retry, message_id, created_at,
        updated_at, next_attempt_at, ever_failed, submission_id, submitted_by)
      SELECT r.recipient, r.recipient_key, r.subject, r.subject_folded, r.text, r.html,
        r.headers, r.stored_status, 0, r.max_attempts, 0, r.message_id, $11::bigint,
        $11::bigint, CASE WHEN r.stored_status = 'QUEUED' THEN ${DB_NOW_MS} END, false,
        (SELECT s.id FROM subs s WHERE s.ord = r.submission_ord), r.submitted_by
      FROM (SELECT u.*, ${storedStatus('u')} AS stored_status
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
          $7::jsonb[], $8::int[], $9::text[], $19::int[], $18::text[], $20::text[])
          AS u(recipient, recipient_key, subject, subject_folded, text, html, headers,
            max_attempts, message_id, submission_ord, status, submitted_by)) r
      RETURNING ${messageColumns()}),
    events AS (
      INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
        error, smtp_config_version)
      SELECT i.id, $11::bigint, i.status, NULL,
        CASE WHEN i.status = 'QUEUED' THEN 'queued' ELSE 'suppressed' END, NULL, NULL, v.version
      FROM inserted i JOIN unnest($9::text[], $1::text[], $10::int[])
          AS v(message_id, recipient, version)
        ON v.message_id = i."messageId" AND v.recipient = i.recipient
      RETURNING seq, xid, message_id, smtp_config_version, reason),
    counted AS (
      INSERT INTO stat_counter_deltas (resolution_ms, bucket_start, metric, key, count)
      SELECT c.resolution_ms, c.bucket_start, c.metric, c.key, c.count * n.events
      FROM unnest($12::int[], $13::bigint[], $14::text[], $15::text[], $16::bigint[],
          $21::text[]) AS c(resolution_ms, bucket_start, metric, key, count, reason)
        JOIN (SELECT reason, count(*) AS events FROM events GROUP BY reason) n
          ON n.reason = c.reason
      ORDER BY 1, 2, 3, 4)
    SELECT i.*, e.seq AS "eventSeq", e.xid AS "eventXid",
      e.smtp_config_version AS "eventVersion"
    FROM inserted i JOIN events e ON e.message_id = i.id`,
};

/**
 * Which input a returned row is: the messages of one SMTP submission share their Message-ID, one
 * per recipient (a submission's recipients are distinct, and it is stored by itself).
 */
const rowKey = (message: { messageId: string; recipient: string }) =>
  `${message.recipient}\n${message.messageId}`;

const BY_KEYS = {
  name: 'mailscope-messages-by-keys',
  text: `SELECT ${messageColumns()} FROM messages WHERE idempotency_key = ANY($1::text[])`,
};

/**
 * The claim's common table expressions, shared by CLAIM and RECORD_AND_CLAIM: up to `limit` due
 * messages, PROCESSING ones whose lease ran out (their worker died) first, then QUEUED ones whose
 * time has come, skipping rows another claim holds; each gets a lease of `lease` ms on the
 * database's clock, or SUPPRESSED when its recipient is on the list. Ends with `claimed`, the
 * updated rows with their previous status. Arguments are the statement's placeholders.
 */
const claimCtes = (p: { limit: string; lease: string; exclude: string; now: string }) =>
  `expired AS (
      SELECT id FROM messages
      WHERE status = 'PROCESSING' AND lease_expires_at <= ${DB_NOW_MS}
        AND NOT (id = ANY(${p.exclude}::bigint[]))
      ORDER BY lease_expires_at LIMIT ${p.limit} FOR UPDATE SKIP LOCKED),
    due AS (
      SELECT id FROM messages
      WHERE status = 'QUEUED' AND next_attempt_at <= ${DB_NOW_MS}
      ORDER BY next_attempt_at, id LIMIT ${p.limit} FOR UPDATE SKIP LOCKED),
    picked AS (
      SELECT id, previous FROM (
        SELECT id, 'PROCESSING' AS previous, 0 AS rank FROM expired
        UNION ALL SELECT id, 'QUEUED', 1 FROM due) candidates
      ORDER BY rank, id LIMIT ${p.limit}),
    checked AS (
      SELECT p.id, p.previous, EXISTS (SELECT 1 FROM suppressions s
          WHERE s.address_key = m.recipient_key AND s.removed_at IS NULL) AS suppressed
      FROM picked p JOIN messages m ON m.id = p.id),
    claimed AS (
      UPDATE messages m SET
        status = CASE WHEN checked.suppressed THEN 'SUPPRESSED' ELSE 'PROCESSING' END,
        lease_expires_at = CASE WHEN checked.suppressed THEN NULL
          ELSE ${DB_NOW_MS} + ${p.lease}::bigint END,
        updated_at = ${p.now}::bigint, next_attempt_at = NULL
      FROM checked WHERE m.id = checked.id
      RETURNING ${messageColumnsWithRaw('m.')}, checked.previous AS "previousStatus")`;

/**
 * The configuration version a claim's events carry: the newest stored one, which the worker
 * catches up to before sending what it claimed (it may hold an older one if the news of a
 * configureSmtp has not reached it yet), else the worker's own.
 */
const CLAIM_VERSION = (workerVersion: string) =>
  `coalesce((SELECT max(version) FROM smtp_configs), ${workerVersion}::int)`;

/**
 * Claims up to $1 due messages in one statement: PROCESSING ones whose lease ran out (their
 * worker died) first, then QUEUED ones whose time has come, each with a lease on the database's
 * clock and its PROCESSING event. Rows another claim holds are skipped, never waited for.
 */
const CLAIM = {
  name: 'mailscope-claim',
  text: `WITH ${claimCtes({ limit: '$1', lease: '$2', exclude: '$3', now: '$4' })},
    logged AS (
      INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
        error, smtp_config_version)
      SELECT c.id, $4::bigint, c.status, c."previousStatus",
        CASE WHEN c.status = 'SUPPRESSED' THEN 'suppressed'
          WHEN c."previousStatus" = 'PROCESSING' THEN 'lease_expired' ELSE 'claimed' END,
        CASE WHEN c.status = 'SUPPRESSED' THEN NULL ELSE c.attempts + 1 END, NULL,
        ${CLAIM_VERSION('$5')}
      FROM claimed c
      RETURNING seq, xid, message_id, smtp_config_version)
    SELECT c.*, l.seq AS "eventSeq", l.xid AS "eventXid",
      l.smtp_config_version AS "eventVersion",
      (SELECT max(version) FROM smtp_configs) AS "configVersion"
    FROM claimed c JOIN logged l ON l.message_id = c.id`,
};

/**
 * The record's common table expressions, shared by RECORD and RECORD_AND_CLAIM: the finished
 * attempts ($1–$14, one array per column) applied to the messages that still carry the lease the
 * claim granted (`finished`, returning `alsoReturned` columns besides its own), and their dispatch
 * rows.
 */
const recordCtes = (alsoReturned: string) =>
  `r AS (
      SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
        $6::bigint[], $7::jsonb[], $8::int[], $9::int[], $10::bigint[], $11::int[], $12::text[],
        $13::text[], $14::text[])
      AS r(id, lease, status, reason, event_at, delay_ms, error, version, attempt, at,
        duration_ms, response, error_code, transcript)),
    finished AS (
      UPDATE messages m SET status = r.status, attempts = m.attempts + 1,
        updated_at = r.event_at, lease_expires_at = NULL,
        next_attempt_at = CASE WHEN r.status = 'QUEUED' THEN ${DB_NOW_MS} + r.delay_ms END,
        last_error = coalesce(r.error, m.last_error), smtp_config_version = r.version,
        ever_failed = m.ever_failed OR r.error IS NOT NULL
      FROM r
      WHERE m.id = r.id AND m.status = 'PROCESSING' AND m.lease_expires_at = r.lease
      RETURNING m.id, m.recipient, m.created_at AS "createdAt", m.attempts${alsoReturned}),
    dispatched AS (
      INSERT INTO dispatches (message_id, attempt, succeeded, at, duration_ms, response, error,
        error_code, smtp_config_version, transcript)
      SELECT r.id, r.attempt, r.error IS NULL, r.at, r.duration_ms, r.response, r.error,
        r.error_code, r.version, r.transcript
      FROM r JOIN finished f ON f.id = r.id)`;

/**
 * Records finished attempts in one statement: each message's new status (only while the row
 * still carries the lease its claim granted), its dispatch and its event.
 */
const RECORD = {
  name: 'mailscope-record-attempts',
  text: `WITH ${recordCtes('')},
    logged AS (
      INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
        error, smtp_config_version)
      SELECT r.id, r.event_at, r.status, 'PROCESSING', r.reason, r.attempt, r.error, r.version
      FROM r JOIN finished f ON f.id = r.id
      RETURNING seq, xid, message_id)
    SELECT f.*, l.seq AS "eventSeq", l.xid AS "eventXid"
    FROM finished f JOIN logged l ON l.message_id = f.id`,
};

/**
 * The worker's whole turn in one statement, so one round trip and no BEGIN/COMMIT: records the
 * finished attempts (as RECORD), renews the leases of sends still in flight (as RENEW), claims
 * (as CLAIM), writes the counters of all their events, and says when the next message falls
 * due. Every part sees the statement's one snapshot; they touch disjoint rows, since the
 * records and the renewals are of the worker's own sends in flight, which the claim excludes
 * ($19). The counters are computed by counters.ts before the statement, for each record (kept
 * only if its record applied: $22–$27) and for one claim event of each reason (multiplied by the
 * claims with that reason: $28–$33). One row per claimed message, the first (or a lone row with
 * no message when nothing was claimed) also carrying the records, renewals, configuration
 * version and next due time.
 */
const RECORD_AND_CLAIM = {
  name: 'mailscope-record-and-claim',
  text: `WITH ${recordCtes(',\n        m.next_attempt_at AS "nextAttemptAt"')},
    record_logged AS (
      INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
        error, smtp_config_version)
      SELECT r.id, r.event_at, r.status, 'PROCESSING', r.reason, r.attempt, r.error, r.version
      FROM r JOIN finished f ON f.id = r.id
      RETURNING seq, xid, message_id),
    renewed AS (
      UPDATE messages m SET lease_expires_at = ${DB_NOW_MS} + $17::bigint
      FROM unnest($15::bigint[], $16::bigint[]) AS rn(id, lease)
      WHERE m.id = rn.id AND m.status = 'PROCESSING' AND m.lease_expires_at = rn.lease
      RETURNING m.id AS "messageId", m.lease_expires_at AS "leaseExpiresAtMs"),
    ${claimCtes({ limit: '$18', lease: '$17', exclude: '$19', now: '$20' })},
    claim_logged AS (
      INSERT INTO message_events (message_id, at, status, previous_status, reason, attempt,
        error, smtp_config_version)
      SELECT c.id, $20::bigint, c.status, c."previousStatus",
        CASE WHEN c.status = 'SUPPRESSED' THEN 'suppressed'
          WHEN c."previousStatus" = 'PROCESSING' THEN 'lease_expired' ELSE 'claimed' END,
        CASE WHEN c.status = 'SUPPRESSED' THEN NULL ELSE c.attempts + 1 END, NULL,
        ${CLAIM_VERSION('$21')}
      FROM claimed c
      RETURNING seq, xid, message_id, smtp_config_version, reason),
    counted AS (
      INSERT INTO stat_counter_deltas (resolution_ms, bucket_start, metric, key, count)
      SELECT line.resolution_ms, line.bucket_start, line.metric, line.key, sum(line.count)
      FROM (
        SELECT l.resolution_ms, l.bucket_start, l.metric, l.key, l.count
        FROM unnest($22::bigint[], $23::int[], $24::bigint[], $25::text[], $26::text[],
            $27::bigint[]) AS l(id, resolution_ms, bucket_start, metric, key, count)
          JOIN finished f ON f.id = l.id
        UNION ALL
        SELECT l.resolution_ms, l.bucket_start, l.metric, l.key, l.count * n.claims
        FROM unnest($28::text[], $29::int[], $30::bigint[], $31::text[], $32::text[],
            $33::bigint[]) AS l(reason, resolution_ms, bucket_start, metric, key, count)
          JOIN (SELECT reason, count(*) AS claims FROM claim_logged GROUP BY reason) n
            ON n.reason = l.reason) line
      GROUP BY line.resolution_ms, line.bucket_start, line.metric, line.key),
    summary AS (
      SELECT
        (SELECT json_agg(json_build_object('id', f.id, 'recipient', f.recipient,
            'createdAt', f."createdAt", 'attempts', f.attempts, 'eventSeq', l.seq,
            'eventXid', l.xid::text::bigint))
          FROM finished f JOIN record_logged l ON l.message_id = f.id) AS "recorded",
        (SELECT json_agg(renewed) FROM renewed) AS "renewedLeases",
        (SELECT max(version) FROM smtp_configs WHERE EXISTS (SELECT 1 FROM claimed))
          AS "configVersion",
        (SELECT min(t) FROM (
            (SELECT next_attempt_at AS t FROM messages
              WHERE status = 'QUEUED' AND id NOT IN (SELECT id FROM picked)
              ORDER BY next_attempt_at LIMIT 1)
            UNION ALL
            (SELECT lease_expires_at FROM messages
              WHERE status = 'PROCESSING' AND id NOT IN (SELECT id FROM picked)
                AND id NOT IN (SELECT id FROM finished)
                AND id NOT IN (SELECT "messageId" FROM renewed)
              ORDER BY lease_expires_at LIMIT 1)
            UNION ALL SELECT "nextAttemptAt" FROM finished
            UNION ALL SELECT "leaseExpiresAtMs" FROM renewed
            UNION ALL SELECT "leaseExpiresAt" FROM claimed) times
        ) - ${DB_NOW_MS} AS "dueInMs"),
    claims AS (
      SELECT c.*, l.seq AS "eventSeq", l.xid AS "eventXid",
        l.smtp_config_version AS "eventVersion",
        row_number() OVER (ORDER BY c.id) AS "claimRank"
      FROM claimed c JOIN claim_logged l ON l.message_id = c.id)
    SELECT claims.*,
      CASE WHEN coalesce(claims."claimRank", 1) = 1 THEN s."recorded" END AS "recorded",
      CASE WHEN coalesce(claims."claimRank", 1) = 1 THEN s."renewedLeases" END
        AS "renewedLeases",
      s."configVersion", s."dueInMs"
    FROM summary s LEFT JOIN claims ON true`,
};

const RELEASE = {
  name: 'mailscope-release',
  text: `UPDATE messages m SET status = 'QUEUED', lease_expires_at = NULL,
      next_attempt_at = ${DB_NOW_MS}, updated_at = $3::bigint
    FROM unnest($1::bigint[], $2::bigint[]) AS r(id, lease)
    WHERE m.id = r.id AND m.status = 'PROCESSING' AND m.lease_expires_at = r.lease
    RETURNING ${messageColumns('m.')}`,
};

const RENEW = {
  name: 'mailscope-renew-leases',
  text: `UPDATE messages m SET lease_expires_at = ${DB_NOW_MS} + $3::bigint
    FROM unnest($1::bigint[], $2::bigint[]) AS r(id, lease)
    WHERE m.id = r.id AND m.status = 'PROCESSING' AND m.lease_expires_at = r.lease
    RETURNING m.id AS "messageId", m.lease_expires_at AS "leaseExpiresAtMs"`,
};

/** Thrown inside enqueueAll's transaction so that a conflict rolls back the whole batch. */
class IdempotencyConflict extends Error {
  constructor(
    readonly index: number,
    readonly result: EnqueueResult,
  ) {
    super('idempotency conflict');
  }
}

/** Another instance stored the same idempotency key between our look-up and our insert. */
class KeyRace extends Error {}

/**
 * The distinct submitted MIME messages of a batch, and each input's 1-based position among
 * them (null when it has none): inputs carrying the same Buffer share one stored copy.
 */
function submittedMime(inputs: readonly NewMessage[]): {
  raws: Buffer[];
  positions: (number | null)[];
} {
  const raws: Buffer[] = [];
  const positionOf = new Map<Buffer, number>();
  const positions = inputs.map((input) => {
    if (input.rawMime == null) return null;
    let position = positionOf.get(input.rawMime);
    if (position === undefined) {
      position = raws.push(input.rawMime);
      positionOf.set(input.rawMime, position);
    }
    return position;
  });
  return { raws, positions };
}

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

const subjectOf = (row: MessageRow): EventSubject => ({
  id: row.id,
  recipient: row.recipient,
  createdAt: row.createdAt,
  attempts: row.attempts,
});

/** RECORD's and RECORD_AND_CLAIM's first fourteen parameters. */
function recordValues(records: readonly AttemptRecord[]): unknown[] {
  return [
    records.map((record) => record.messageId),
    records.map((record) => record.leaseExpiresAtMs),
    records.map((record) => record.next.status),
    records.map((record) => record.next.reason),
    records.map((record) => record.atMs + record.durationMs),
    records.map((record) => (record.next.status === 'QUEUED' ? record.next.delayMs : null)),
    records.map((record) => json(record.error)),
    records.map((record) => record.smtpConfigVersion),
    records.map((record) => record.attempt),
    records.map((record) => record.atMs),
    records.map((record) => record.durationMs),
    records.map((record) => record.response),
    records.map((record) => record.error?.code ?? null),
    records.map((record) => record.transcript),
  ];
}

/** The event a record appends, but for its place in the log (seq, xid). */
function recordEvent(record: AttemptRecord): MessageEvent {
  return {
    seq: 0,
    xid: 0,
    messageId: record.messageId,
    recipient: record.claimed?.recipient ?? '',
    atMs: record.atMs + record.durationMs,
    status: record.next.status,
    previousStatus: 'PROCESSING',
    reason: record.next.reason,
    attempt: record.attempt,
    error: record.error,
    smtpConfigVersion: record.smtpConfigVersion,
    outcome: null,
    report: null,
  };
}

/** The reasons a claim event has, with its status. */
const CLAIM_REASONS = [
  ['claimed', 'PROCESSING'],
  ['lease_expired', 'PROCESSING'],
  ['suppressed', 'SUPPRESSED'],
] as const;

const claimReason = (row: { status: string; previousStatus: string }) =>
  row.status === 'SUPPRESSED'
    ? 'suppressed'
    : row.previousStatus === 'PROCESSING'
      ? 'lease_expired'
      : 'claimed';

/** A claim's event, but for the message and its place in the log. */
function claimEvent(
  request: ClaimRequest,
  reason: (typeof CLAIM_REASONS)[number][0],
  status: 'PROCESSING' | 'SUPPRESSED',
): Omit<MessageEvent, 'seq' | 'xid' | 'messageId' | 'recipient'> {
  return {
    atMs: request.nowMs,
    status,
    previousStatus: reason === 'lease_expired' ? 'PROCESSING' : 'QUEUED',
    reason,
    attempt: null,
    error: null,
    smtpConfigVersion: request.smtpConfigVersion,
    outcome: null,
    report: null,
  };
}

export function createPostgresQueue(client: PostgresClient): MessageQueue {
  async function enqueuePlain(
    inputs: readonly NewMessage[],
    nowMs: number,
  ): Promise<EnqueueResult[]> {
    // A new message's event counts by its reason and time alone, and which reason it gets is
    // decided in the statement (the suppression list): the counters of one event of each reason
    // go with it, to be multiplied there.
    const entries = (['queued', 'suppressed'] as const).flatMap((reason) => {
      const counters = createCounterBatch();
      counters.countEvent(
        {
          seq: 0,
          xid: 0,
          messageId: 0,
          recipient: '',
          atMs: nowMs,
          status: reason === 'suppressed' ? 'SUPPRESSED' : 'QUEUED',
          previousStatus: null,
          reason,
          attempt: null,
          error: null,
          smtpConfigVersion: null,
          outcome: null,
          report: null,
        },
        { createdAtMs: nowMs, attempts: 0 },
      );
      return counters.entries().map((entry) => ({ ...entry, reason }));
    });
    const submitted = submittedMime(inputs);
    const { rows } = await client.query<
      MessageRow & { eventSeq: number; eventXid: number; eventVersion: number | null }
    >({
      ...ENQUEUE_PLAIN,
      values: [
        inputs.map((input) => input.recipient),
        inputs.map((input) => recipientKey(input.recipient)),
        inputs.map((input) => input.subject),
        inputs.map((input) => foldForSearch(input.subject)),
        inputs.map((input) => input.text),
        inputs.map((input) => input.html),
        inputs.map((input) => JSON.stringify(input.headers)),
        inputs.map((input) => input.maxAttempts),
        inputs.map((input) => input.messageId),
        inputs.map((input) => input.smtpConfigVersion),
        nowMs,
        entries.map((entry) => entry.resolutionMs),
        entries.map((entry) => entry.bucketStart),
        entries.map((entry) => entry.metric),
        entries.map((entry) => entry.key),
        entries.map((entry) => entry.count),
        submitted.raws,
        inputs.map((input) => (input.suppressed ? 'SUPPRESSED' : 'QUEUED')),
        submitted.positions,
        inputs.map((input) => input.submittedBy ?? null),
        entries.map((entry) => entry.reason),
      ],
    });
    const byMessageId = new Map(rows.map((row) => [rowKey(row), row]));
    return inputs.map((input) => {
      const row = byMessageId.get(rowKey(input))!;
      return {
        kind: 'queued',
        message: toMessage(row),
        event: {
          seq: row.eventSeq,
          xid: row.eventXid,
          messageId: row.id,
          recipient: row.recipient,
          atMs: nowMs,
          status: row.status,
          previousStatus: null,
          reason: row.status === 'SUPPRESSED' ? 'suppressed' : 'queued',
          attempt: null,
          error: null,
          smtpConfigVersion: row.eventVersion,
          outcome: null,
          report: null,
        },
      };
    });
  }

  async function enqueueInTx(
    tx: pg.ClientBase,
    counters: CounterBatch,
    inputs: readonly NewMessage[],
    nowMs: number,
    allOrNothing: boolean,
  ): Promise<EnqueueResult[]> {
    const keys = [...new Set(inputs.flatMap((input) => input.idempotencyKey ?? []))];
    const existing = new Map<string, MessageRow>();
    if (keys.length > 0) {
      const { rows } = await tx.query<MessageRow>({ ...BY_KEYS, values: [keys] });
      for (const row of rows) existing.set(row.idempotencyKey!, row);
    }
    // Which inputs insert, and which repeat (or conflict with) a message stored before or an
    // earlier input of this batch with the same key.
    const firstOfKey = new Map<string, number>();
    const plan = inputs.map((input, index) => {
      const key = input.idempotencyKey;
      if (key === null) return { insert: true as const };
      const stored = existing.get(key);
      if (stored) return { insert: false as const, stored };
      const first = firstOfKey.get(key);
      if (first !== undefined) return { insert: false as const, earlier: first };
      firstOfKey.set(key, index);
      return { insert: true as const };
    });
    const toInsert = inputs.filter((_, index) => plan[index]!.insert);
    const inserted = new Map<string, MessageRow>();
    if (toInsert.length > 0) {
      const submitted = submittedMime(toInsert);
      const { rows } = await tx.query<MessageRow>({
        ...ENQUEUE,
        values: [
          toInsert.map((input) => input.recipient),
          toInsert.map((input) => recipientKey(input.recipient)),
          toInsert.map((input) => input.subject),
          toInsert.map((input) => foldForSearch(input.subject)),
          toInsert.map((input) => input.text),
          toInsert.map((input) => input.html),
          toInsert.map((input) => JSON.stringify(input.headers)),
          toInsert.map((input) => input.maxAttempts),
          toInsert.map((input) => input.messageId),
          toInsert.map((input) => input.idempotencyKey),
          toInsert.map((input) => input.requestHash),
          toInsert.map((input) => input.smtpConfigVersion),
          nowMs,
          submitted.raws,
          toInsert.map((input) => (input.suppressed ? 'SUPPRESSED' : 'QUEUED')),
          submitted.positions,
          toInsert.map((input) => input.submittedBy ?? null),
        ],
      });
      if (rows.length !== toInsert.length) throw new KeyRace();
      for (const row of rows) inserted.set(rowKey(row), row);
    }
    const events = await appendEvents(
      tx,
      counters,
      toInsert.map((input) => ({
        subject: subjectOf(inserted.get(rowKey(input))!),
        change: {
          atMs: inserted.get(rowKey(input))!.createdAt,
          status: inserted.get(rowKey(input))!.status,
          previousStatus: null,
          reason: inserted.get(rowKey(input))!.status === 'SUPPRESSED' ? 'suppressed' : 'queued',
          attempt: null,
          error: null,
          smtpConfigVersion: input.smtpConfigVersion,
        },
      })),
    );
    const eventOf = new Map(events.map((event) => [event.messageId, event]));
    const results: EnqueueResult[] = [];
    inputs.forEach((input, index) => {
      const step = plan[index]!;
      let result: EnqueueResult;
      if (step.insert) {
        const row = inserted.get(rowKey(input))!;
        result = { kind: 'queued', message: toMessage(row), event: eventOf.get(row.id)! };
      } else {
        const message =
          'stored' in step ? toMessage(step.stored!) : results[step.earlier!]!.message;
        const hash =
          'stored' in step ? step.stored!.requestHash : inputs[step.earlier!]!.requestHash;
        result =
          hash === input.requestHash ? { kind: 'repeat', message } : { kind: 'conflict', message };
      }
      if (allOrNothing && result.kind === 'conflict') {
        throw new IdempotencyConflict(index, result);
      }
      results.push(result);
    });
    return results;
  }

  /** One enqueue transaction; once more if another instance took a key meanwhile. */
  async function enqueue(
    inputs: readonly NewMessage[],
    nowMs: number,
    allOrNothing: boolean,
  ): Promise<EnqueueResult[]> {
    if (inputs.length === 0) return [];
    if (inputs.every((input) => input.idempotencyKey === null)) return enqueuePlain(inputs, nowMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.transaction(async (tx) => {
          const counters = createCounterBatch();
          const results = await enqueueInTx(tx, counters, inputs, nowMs, allOrNothing);
          await writeCounters(tx, counters);
          return results;
        });
      } catch (error) {
        if (!(error instanceof KeyRace) || attempt >= 3) throw error;
      }
    }
  }

  async function recordInTx(
    tx: pg.ClientBase,
    counters: CounterBatch,
    records: readonly AttemptRecord[],
  ): Promise<MessageEvent[]> {
    if (records.length === 0) return [];
    const { rows } = await tx.query<EventSubject & { eventSeq: number; eventXid: number }>({
      ...RECORD,
      values: recordValues(records),
    });
    // A record whose lease was re-claimed meanwhile wrote nothing: that claim owns it now.
    const byId = new Map(records.map((record) => [record.messageId, record]));
    rows.sort((a, b) => a.eventSeq - b.eventSeq);
    return rows.map((row) => {
      const record = byId.get(row.id)!;
      const event: MessageEvent = {
        ...recordEvent(record),
        seq: row.eventSeq,
        xid: row.eventXid,
        recipient: row.recipient,
      };
      counters.countEvent(event, { createdAtMs: row.createdAt, attempts: row.attempts });
      return event;
    });
  }

  async function claimInTx(
    tx: pg.ClientBase,
    counters: CounterBatch,
    request: ClaimRequest,
    suppressedEvents: MessageEvent[],
  ): Promise<{ claimed: ClaimedMessage[]; configVersion: number | null }> {
    const { rows } = await tx.query<
      MessageRow & {
        previousStatus: 'QUEUED' | 'PROCESSING';
        eventSeq: number;
        eventXid: number;
        eventVersion: number | null;
        configVersion: number | null;
      }
    >({
      ...CLAIM,
      values: [
        request.limit,
        request.leaseMs,
        [...(request.excludeIds ?? [])],
        request.nowMs,
        request.smtpConfigVersion,
      ],
    });
    // Expired leases first, then the queue's order, oldest first (as the statement picked them).
    const rank = (row: { previousStatus: string }) => (row.previousStatus === 'PROCESSING' ? 0 : 1);
    rows.sort((a, b) => rank(a) - rank(b) || a.id - b.id);
    const claimed: ClaimedMessage[] = [];
    for (const row of rows) {
      // The suppression list was checked again in the claim: such a message stopped there.
      const stopped = row.status === 'SUPPRESSED';
      const event: MessageEvent = {
        seq: row.eventSeq,
        xid: row.eventXid,
        messageId: row.id,
        recipient: row.recipient,
        atMs: request.nowMs,
        status: stopped ? 'SUPPRESSED' : 'PROCESSING',
        previousStatus: row.previousStatus,
        reason: stopped
          ? 'suppressed'
          : row.previousStatus === 'PROCESSING'
            ? 'lease_expired'
            : 'claimed',
        attempt: stopped ? null : row.attempts + 1,
        error: null,
        smtpConfigVersion: row.eventVersion,
        outcome: null,
        report: null,
      };
      counters.countEvent(event, {
        createdAtMs: row.createdAt,
        attempts: stopped ? row.attempts : row.attempts + 1,
      });
      if (stopped) suppressedEvents.push(event);
      else claimed.push({ message: toMessage(row), event });
    }
    return { claimed, configVersion: rows[0]?.configVersion ?? null };
  }

  /** recordAndClaim in one statement (RECORD_AND_CLAIM), for records that carry `claimed`. */
  async function recordAndClaimAtOnce(
    records: readonly AttemptRecord[],
    request: ClaimRequest,
  ): Promise<RecordAndClaimResult> {
    const recordIds = new Set(records.map((record) => record.messageId));
    // Disjoint from the records, as each row may change once in a statement.
    const renew = (request.renew ?? []).filter((claim) => !recordIds.has(claim.messageId));
    const excluded = new Set([
      ...(request.excludeIds ?? []),
      ...recordIds,
      ...renew.map((claim) => claim.messageId),
    ]);
    const recordEvents = new Map(records.map((record) => [record.messageId, recordEvent(record)]));
    // Each record's counters, written only if it applies (the row still carries its lease).
    const recordLines: (CounterEntry & { messageId: number })[] = [];
    for (const record of records) {
      const counters = createCounterBatch();
      counters.countEvent(recordEvents.get(record.messageId)!, {
        createdAtMs: record.claimed!.createdAtMs,
        attempts: record.attempt,
      });
      for (const entry of counters.entries()) {
        recordLines.push({ ...entry, messageId: record.messageId });
      }
    }
    // The counters of one claim event of each reason, times the claims that have it.
    const claimLines: (CounterEntry & { reason: string })[] = [];
    for (const [reason, status] of CLAIM_REASONS) {
      const counters = createCounterBatch();
      counters.countEvent(
        { ...claimEvent(request, reason, status), seq: 0, xid: 0, messageId: 0, recipient: '' },
        { createdAtMs: request.nowMs, attempts: 0 },
      );
      for (const entry of counters.entries()) claimLines.push({ ...entry, reason });
    }
    const { rows } = await client.query<
      Partial<MessageRow> & {
        id: number | null;
        previousStatus: 'QUEUED' | 'PROCESSING';
        eventSeq: number;
        eventXid: number;
        eventVersion: number | null;
        recorded: (EventSubject & { eventSeq: number; eventXid: number })[] | null;
        renewedLeases: { messageId: number; leaseExpiresAtMs: number }[] | null;
        configVersion: number | null;
        dueInMs: number | null;
        claimRank: number | null;
      }
    >({
      ...RECORD_AND_CLAIM,
      values: [
        ...recordValues(records),
        renew.map((claim) => claim.messageId),
        renew.map((claim) => claim.leaseExpiresAtMs),
        request.leaseMs,
        Math.max(0, request.limit),
        [...excluded],
        request.nowMs,
        request.smtpConfigVersion,
        recordLines.map((line) => line.messageId),
        recordLines.map((line) => line.resolutionMs),
        recordLines.map((line) => line.bucketStart),
        recordLines.map((line) => line.metric),
        recordLines.map((line) => line.key),
        recordLines.map((line) => line.count),
        claimLines.map((line) => line.reason),
        claimLines.map((line) => line.resolutionMs),
        claimLines.map((line) => line.bucketStart),
        claimLines.map((line) => line.metric),
        claimLines.map((line) => line.key),
        claimLines.map((line) => line.count),
      ],
    });
    // The row that carries the records and renewals (rows come in no promised order).
    const first = rows.find((row) => (row.claimRank ?? 1) === 1)!;
    const recorded = (first.recorded ?? []).sort((a, b) => a.eventSeq - b.eventSeq);
    const events = recorded.map((row) => ({
      ...recordEvents.get(row.id)!,
      seq: row.eventSeq,
      xid: row.eventXid,
      recipient: row.recipient,
    }));
    const claimedRows = rows.filter((row) => row.id !== null) as (MessageRow & {
      previousStatus: 'QUEUED' | 'PROCESSING';
      eventSeq: number;
      eventXid: number;
      eventVersion: number | null;
    })[];
    const claimed: ClaimedMessage[] = [];
    for (const row of claimedRows) {
      const event: MessageEvent = {
        ...claimEvent(
          { ...request, smtpConfigVersion: row.eventVersion },
          claimReason(row),
          row.status === 'SUPPRESSED' ? 'SUPPRESSED' : 'PROCESSING',
        ),
        seq: row.eventSeq,
        xid: row.eventXid,
        messageId: row.id,
        recipient: row.recipient,
        // A message whose lease ran out and that the suppression list stopped came from PROCESSING.
        previousStatus: row.previousStatus,
        attempt: row.status === 'SUPPRESSED' ? null : row.attempts + 1,
      };
      // The suppression list was checked again in the claim: such a message stopped there.
      if (row.status === 'SUPPRESSED') events.push(event);
      else claimed.push({ message: toMessage(row), event });
    }
    // Expired leases first, then the queue's order, oldest first (as the statement picked them).
    const rank = (claim: ClaimedMessage) => (claim.event.previousStatus === 'PROCESSING' ? 0 : 1);
    claimed.sort((a, b) => rank(a) - rank(b) || a.message.id - b.message.id);
    return {
      events,
      claimed,
      renewed: first.renewedLeases ?? [],
      configVersion: first.configVersion,
      dueInMs: first.dueInMs,
    };
  }

  return {
    enqueueMany: (inputs, nowMs) => enqueue(inputs, nowMs, false),

    async enqueueAll(inputs, nowMs): Promise<EnqueueAllResult> {
      try {
        return { ok: true, results: await enqueue(inputs, nowMs, true) };
      } catch (error) {
        if (!(error instanceof IdempotencyConflict)) throw error;
        return { ok: false, conflictIndex: error.index, message: error.result.message };
      }
    },

    async recordAndClaim(records, request) {
      const renew = request.renew ?? [];
      if (records.length === 0 && request.limit <= 0 && renew.length === 0) {
        return { events: [], claimed: [], renewed: [], configVersion: null };
      }
      if (records.every((record) => record.claimed !== undefined)) {
        return recordAndClaimAtOnce(records, request);
      }
      return client.transaction(async (tx) => {
        const counters = createCounterBatch();
        const events = await recordInTx(tx, counters, records);
        const renewed =
          renew.length > 0
            ? (
                await tx.query<{ messageId: number; leaseExpiresAtMs: number }>({
                  ...RENEW,
                  values: [
                    renew.map((claim) => claim.messageId),
                    renew.map((claim) => claim.leaseExpiresAtMs),
                    request.leaseMs,
                  ],
                })
              ).rows
            : [];
        // The newest configuration is read in the claim's snapshot: one stored before a claimed
        // message was queued is in it.
        const { claimed, configVersion } =
          request.limit > 0
            ? await claimInTx(tx, counters, request, events)
            : { claimed: [], configVersion: null };
        await writeCounters(tx, counters);
        return { events, claimed, renewed, configVersion };
      });
    },

    async release(claims, nowMs, smtpConfigVersion) {
      if (claims.length === 0) return [];
      return client.transaction(async (tx) => {
        const { rows } = await tx.query<MessageRow>({
          ...RELEASE,
          values: [
            claims.map((claim) => claim.messageId),
            claims.map((claim) => claim.leaseExpiresAtMs),
            nowMs,
          ],
        });
        rows.sort((a, b) => a.id - b.id);
        const counters = createCounterBatch();
        const events = await appendEvents(
          tx,
          counters,
          rows.map((row) => ({
            subject: subjectOf(row),
            change: {
              atMs: nowMs,
              status: 'QUEUED',
              previousStatus: 'PROCESSING',
              reason: 'released_on_shutdown',
              attempt: null,
              error: null,
              smtpConfigVersion,
            },
          })),
        );
        await writeCounters(tx, counters);
        return events;
      });
    },
  };
}
