import { sql } from 'drizzle-orm';
import {
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import type { DeliveryError } from '../../domain/delivery-error.ts';
import { EVENT_REASONS, MESSAGE_STATUSES, type Header } from '../../domain/message.ts';
import {
  DELIVERY_OUTCOMES,
  REPORT_SOURCES,
  SUPPRESSION_REASONS,
  type ReportDetail,
} from '../../domain/report.ts';
import { API_TOKEN_CREATORS, API_TOKEN_SCOPES } from '../port.ts';

// Times are integer milliseconds since the epoch (UTC): compact, indexable, and formatted to
// ISO 8601 only at the edge.

/** Each configureSmtp stores a new version; the newest one is in use. */
export const smtpConfigs = sqliteTable('smtp_configs', {
  version: integer('version').primaryKey({ autoIncrement: true }),
  /** Holds the password: never leaves db/ and smtp/ unredacted. */
  connectionUri: text('connection_uri').notNull(),
  fromAddress: text('from_address').notNull(),
  fromName: text('from_name'),
  headers: text('headers', { mode: 'json' }).$type<Header[]>().notNull(),
  createdAt: integer('created_at').notNull(),
  /** DKIM signing for own servers: null when mail is not signed. */
  dkimDomain: text('dkim_domain'),
  dkimSelector: text('dkim_selector'),
  /** The private key, encrypted like connection_uri when SECRETS_KEY is set. */
  dkimPrivateKey: text('dkim_private_key'),
  /** The preset it was made with (configureSmtpProvider), e.g. SENDGRID; null for configureSmtp. */
  provider: text('provider'),
});

/**
 * A MIME message submitted over SMTP (Bcc removed), stored once however many recipients it has:
 * each recipient's message refers to it. Retention deletes it with its last message.
 */
export const submissions = sqliteTable('submissions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  raw: blob('raw', { mode: 'buffer' }).notNull(),
});

export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    recipient: text('recipient').notNull(),
    /** Lower-cased recipient: the `recipient` filter matches whole addresses case-insensitively. */
    recipientKey: text('recipient_key').notNull(),
    subject: text('subject').notNull(),
    text: text('text'),
    html: text('html'),
    headers: text('headers', { mode: 'json' }).$type<Header[]>().notNull(),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    attemptsAtRetry: integer('attempts_at_retry').notNull().default(0),
    messageId: text('message_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** Hash of the sendEmail input, to tell a repeat of the same request from a conflicting one. */
    requestHash: text('request_hash'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    nextAttemptAt: integer('next_attempt_at'),
    leaseExpiresAt: integer('lease_expires_at'),
    lastError: text('last_error', { mode: 'json' }).$type<DeliveryError>(),
    smtpConfigVersion: integer('smtp_config_version'),
    /** True once any attempt failed, whatever the status is now. */
    everFailed: integer('ever_failed', { mode: 'boolean' }).notNull().default(false),
    /**
     * The submission whose MIME message this one sends as it is (SMTP submission); null for a
     * message queued through the API, composed at each attempt.
     */
    submissionId: integer('submission_id').references(() => submissions.id),
    /** The name of the API token that queued it (SMTP AUTH or the API); null without one. */
    submittedBy: text('submitted_by'),
    /** What reports said after SENT, by precedence (domain/report.ts); null while none came. */
    outcome: text('outcome', { enum: DELIVERY_OUTCOMES }),
  },
  (table) => [
    // Only messages some report has reached: most never are (as on PostgreSQL).
    index('messages_outcome_id')
      .on(table.outcome, table.id)
      .where(sql`${table.outcome} is not null`),
    // Bounces quote the Message-ID header: that is how an otherwise unmatched one is matched.
    index('messages_message_id').on(table.messageId),
    // Only messages an attempt failed for: most never are, and those need no index entry.
    index('messages_ever_failed_id')
      .on(table.id)
      .where(sql`${table.everFailed} = 1`),
    uniqueIndex('messages_idempotency_key')
      .on(table.idempotencyKey)
      .where(sql`${table.idempotencyKey} is not null`),
    // The queue: due QUEUED messages in order, expired leases by end. Partial, as on
    // PostgreSQL: a message enters each only while it is in that state, so sending one writes
    // fewer index pages (every page written is a WAL frame flushed before the answer), and the
    // indexes hold the live queue, not the whole history. Queries must name the status as a
    // literal (`status = 'QUEUED'`) for SQLite to use them.
    index('messages_due')
      .on(table.nextAttemptAt, table.id)
      .where(sql`${table.status} = 'QUEUED'`),
    index('messages_lease')
      .on(table.leaseExpiresAt)
      .where(sql`${table.status} = 'PROCESSING'`),
    index('messages_status_id').on(table.status, table.id),
    index('messages_recipient_id').on(table.recipientKey, table.id),
    // No created_at index: creation times follow ids (creation-order.ts).
    // Retention asks whether a submission has messages left.
    index('messages_submission')
      .on(table.submissionId)
      .where(sql`${table.submissionId} is not null`),
  ],
);

/** One row per delivery attempt. */
export const dispatches = sqliteTable(
  'dispatches',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id),
    attempt: integer('attempt').notNull(),
    succeeded: integer('succeeded', { mode: 'boolean' }).notNull(),
    at: integer('at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    response: text('response'),
    error: text('error', { mode: 'json' }).$type<DeliveryError>(),
    /** `error.code`, as a column so "failed with code X" is an index lookup. */
    errorCode: text('error_code'),
    smtpConfigVersion: integer('smtp_config_version'),
    /** The SMTP conversation of this attempt, secrets and body replaced by placeholders. */
    transcript: text('transcript'),
  },
  (table) => [
    index('dispatches_message').on(table.messageId, table.attempt),
    // Only failed attempts: a successful one has no code and needs no entry.
    index('dispatches_error_code')
      .on(table.errorCode, table.messageId)
      .where(sql`${table.errorCode} is not null`),
    index('dispatches_config').on(table.smtpConfigVersion, table.messageId),
  ],
);

/**
 * Append-only log of status changes. `seq` only grows (AUTOINCREMENT never reuses a value), so it
 * is the subscription cursor: replay is `seq > cursor`.
 */
export const messageEvents = sqliteTable(
  'message_events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id),
    at: integer('at').notNull(),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull(),
    previousStatus: text('previous_status', { enum: MESSAGE_STATUSES }),
    reason: text('reason', { enum: EVENT_REASONS }).notNull(),
    attempt: integer('attempt'),
    error: text('error', { mode: 'json' }).$type<DeliveryError>(),
    smtpConfigVersion: integer('smtp_config_version'),
    /** Set on events that record a delivery report. */
    outcome: text('outcome', { enum: DELIVERY_OUTCOMES }),
    report: text('report', { mode: 'json' }).$type<ReportDetail>(),
    /** `source|the source's event id`: the same report received twice is stored once. */
    reportKey: text('report_key'),
  },
  (table) => [
    index('message_events_message').on(table.messageId, table.seq),
    uniqueIndex('message_events_report_key')
      .on(table.reportKey)
      .where(sql`${table.reportKey} is not null`),
  ],
);

/**
 * Addresses mail is not sent to. Removing an entry keeps its row (with who removed it and
 * when); at most one entry per address is active.
 */
export const suppressions = sqliteTable(
  'suppressions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    address: text('address').notNull(),
    /** suppressionKey(address): compared whole and case-insensitively. */
    addressKey: text('address_key').notNull(),
    reason: text('reason', { enum: SUPPRESSION_REASONS }).notNull(),
    source: text('source', { enum: REPORT_SOURCES }),
    messageId: integer('message_id'),
    detail: text('detail'),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdByTokenId: integer('created_by_token_id'),
    removedAt: integer('removed_at'),
    removedBy: text('removed_by'),
    removedByTokenId: integer('removed_by_token_id'),
  },
  (table) => [
    uniqueIndex('suppressions_active')
      .on(table.addressKey)
      .where(sql`${table.removedAt} is null`),
    index('suppressions_address').on(table.addressKey, table.id),
  ],
);

/** Reports that matched no message: kept and counted, never dropped silently. */
export const unmatchedReports = sqliteTable(
  'unmatched_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    source: text('source', { enum: REPORT_SOURCES }).notNull(),
    outcome: text('outcome', { enum: DELIVERY_OUTCOMES }).notNull(),
    recipient: text('recipient'),
    detail: text('detail'),
    reportKey: text('report_key').notNull(),
  },
  (table) => [uniqueIndex('unmatched_reports_key').on(table.reportKey)],
);

/**
 * Additive counters per time bucket, written in the same transaction as the events they count,
 * so statistics over any period sum a few rows instead of scanning the history. Each change is
 * counted at two resolutions: hours for long periods, minutes for their ragged edges.
 */
export const statCounters = sqliteTable(
  'stat_counters',
  {
    resolutionMs: integer('resolution_ms').notNull(),
    bucketStart: integer('bucket_start').notNull(),
    metric: text('metric').notNull(),
    key: text('key').notNull(),
    count: integer('count').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.resolutionMs, table.bucketStart, table.metric, table.key] }),
  ],
);

/**
 * API tokens beyond the bootstrap API_TOKEN. Only a SHA-256 digest of each token is kept: the
 * token itself is shown once, when it is created. Revoked tokens stay, for the record.
 */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    scope: text('scope', { enum: API_TOKEN_SCOPES }).notNull(),
    /** Hex SHA-256 of the whole token string. */
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
    /** Null for tokens stored before this was recorded. */
    createdVia: text('created_via', { enum: API_TOKEN_CREATORS }),
    /** The stored token that created this one (`created_via` = token): revoked with it. */
    createdByTokenId: integer('created_by_token_id'),
  },
  (table) => [
    uniqueIndex('api_tokens_hash').on(table.tokenHash),
    index('api_tokens_created_by').on(table.createdByTokenId),
  ],
);
/**
 * What retention has pruned: a single row (id 1). `prunedThroughSeq` is the newest event seq
 * ever deleted; an event cursor below it may have lost events and is refused as expired.
 */
export const retentionState = sqliteTable('retention_state', {
  id: integer('id').primaryKey(),
  prunedThroughSeq: integer('pruned_through_seq').notNull(),
  prunedMessages: integer('pruned_messages').notNull(),
  lastPrunedAt: integer('last_pruned_at'),
});

/**
 * How far the subject search index (drizzle/0002_subject_search.sql) has been filled: a single
 * row (id 1). Messages with ids above `indexedThroughId` are not in it yet; searches read them
 * directly (see candidate-pages.ts and subject-search.ts).
 */
export const subjectSearchState = sqliteTable('subject_search_state', {
  id: integer('id').primaryKey(),
  indexedThroughId: integer('indexed_through_id').notNull(),
});

/**
 * Keys the service makes for itself on first start and keeps (e.g. `verp`: the HMAC key of the
 * bounce addresses, which must outlive restarts so that late bounces still verify).
 */
export const serviceKeys = sqliteTable('service_keys', {
  name: text('name').primaryKey(),
  /** Base64. */
  value: text('value').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** Mailgun's one-time webhook tokens, kept while their timestamps could still be accepted. */
export const webhookTokens = sqliteTable(
  'webhook_tokens',
  {
    token: text('token').primaryKey(),
    /** The event the token came with: the same one again is a retry, another one a replay. */
    eventKey: text('event_key').notNull(),
    seenAt: integer('seen_at').notNull(),
  },
  (table) => [index('webhook_tokens_seen_at').on(table.seenAt)],
);

/** Where webhooks go (webhooks/): the secrets are encrypted with SECRETS_KEY when it is set. */
export const webhookEndpoints = sqliteTable('webhook_endpoints', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  url: text('url').notNull(),
  /** JSON array of WebhookEventType names (the outbox trigger reads it with json_each). */
  events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  description: text('description'),
  secret: text('secret').notNull(),
  /** The secret before the last rotation, signing too until `previous_secret_until`. */
  previousSecret: text('previous_secret'),
  previousSecretUntil: integer('previous_secret_until'),
  createdAt: integer('created_at').notNull(),
  /** When the current run of failures began; null while the last attempt succeeded. */
  failingSince: integer('failing_since'),
  /** Why it was disabled by the service ('gone', 'failing'); null when enabled or by hand. */
  disabledReason: text('disabled_reason'),
});

/**
 * One row per event and endpoint, written by a trigger on message_events in the transaction of
 * the change (see the migration), or by the dispatcher (tests, redeliveries, endpoint.disabled).
 * `next_attempt_at` null: finished (delivered, or given up).
 */
export const webhookOutbox = sqliteTable(
  'webhook_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    webhookId: text('webhook_id').notNull(),
    /** A WebhookEventType name, or `webhook.test` / `endpoint.disabled`. */
    eventType: text('event_type').notNull(),
    /** The request body, signed as it is. */
    payload: text('payload').notNull(),
    createdAt: integer('created_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    leaseExpiresAt: integer('lease_expires_at'),
  },
  (table) => [
    index('webhook_outbox_due')
      .on(table.endpointId, table.nextAttemptAt)
      .where(sql`${table.nextAttemptAt} is not null`),
  ],
);

/** Every attempt to deliver an outbox row, with what the endpoint answered. */
export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    outboxId: integer('outbox_id')
      .notNull()
      .references(() => webhookOutbox.id, { onDelete: 'cascade' }),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    at: integer('at').notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    responseBody: text('response_body'),
    succeeded: integer('succeeded', { mode: 'boolean' }).notNull(),
    nextAttemptAt: integer('next_attempt_at'),
  },
  (table) => [index('webhook_attempts_endpoint').on(table.endpointId, table.id)],
);
