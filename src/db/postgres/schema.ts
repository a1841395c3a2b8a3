import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { DeliveryError } from '../../domain/delivery-error.ts';
import type { EventReason, Header, MessageStatus } from '../../domain/message.ts';
import type {
  DeliveryOutcome,
  ReportDetail,
  ReportSource,
  SuppressionReason,
} from '../../domain/report.ts';
import type { StoredTokenCreator, StoredTokenScope } from '../port.ts';

// The same tables as sqlite/schema.ts, with the same column names, so rows map to domain types
// through one mapping (rows.ts). Times are integer milliseconds since the epoch (UTC), as there.

/** Milliseconds since the epoch, read as a JS number. */
const ms = (name: string) => bigint(name, { mode: 'number' });
/** A 64-bit id, read as a JS number (safe far beyond any table this service will hold). */
const id64 = (name: string) => bigint(name, { mode: 'number' });

/** A transaction id (xid8): the first key of the event log's order (event-position.ts). */
const xid8 = customType<{ data: number; driverData: string }>({
  dataType: () => 'xid8',
  fromDriver: (value) => Number(value),
  toDriver: (value) => String(value),
});

/** Bytes, as a Buffer (the pg driver reads and writes bytea as Buffers). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Each configureSmtp stores a new version; the newest one is in use. */
export const smtpConfigs = pgTable('smtp_configs', {
  version: serial('version').primaryKey(),
  /** Holds the password: never leaves db/ and smtp/ unredacted. */
  connectionUri: text('connection_uri').notNull(),
  fromAddress: text('from_address').notNull(),
  fromName: text('from_name'),
  headers: jsonb('headers').$type<Header[]>().notNull(),
  createdAt: ms('created_at').notNull(),
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
export const submissions = pgTable('submissions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  raw: bytea('raw').notNull(),
});

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    recipient: text('recipient').notNull(),
    /** recipientKey(recipient) (message-filter.ts): whole-address, case-insensitive matches. */
    recipientKey: text('recipient_key').notNull(),
    subject: text('subject').notNull(),
    /** foldForSearch(subject) (message-filter.ts), searched through a trigram index. */
    subjectFolded: text('subject_folded').notNull(),
    text: text('text'),
    html: text('html'),
    headers: jsonb('headers').$type<Header[]>().notNull(),
    status: text('status').$type<MessageStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    attemptsAtRetry: integer('attempts_at_retry').notNull().default(0),
    messageId: text('message_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** Hash of the sendEmail input, to tell a repeat of the same request from a conflicting one. */
    requestHash: text('request_hash'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    /** On the database's clock (several instances, one clock). */
    nextAttemptAt: ms('next_attempt_at'),
    /** On the database's clock; a claim's lease is its token (see queue.ts). */
    leaseExpiresAt: ms('lease_expires_at'),
    lastError: jsonb('last_error').$type<DeliveryError>(),
    smtpConfigVersion: integer('smtp_config_version'),
    /** True once any attempt failed, whatever the status is now. */
    everFailed: boolean('ever_failed').notNull().default(false),
    /**
     * The submission whose MIME message this one sends as it is (SMTP submission); null for a
     * message queued through the API, composed at each attempt.
     */
    submissionId: id64('submission_id').references(() => submissions.id),
    /** The name of the API token that queued it (SMTP AUTH or the API); null without one. */
    submittedBy: text('submitted_by'),
    /** What reports said after SENT, by precedence (domain/report.ts); null while none came. */
    outcome: text('outcome').$type<DeliveryOutcome>(),
  },
  (table) => [
    index('messages_outcome_id')
      .on(table.outcome, table.id)
      .where(sql`${table.outcome} is not null`),
    // Bounces quote the Message-ID header: that is how an otherwise unmatched one is matched.
    index('messages_message_id').on(table.messageId),
    uniqueIndex('messages_idempotency_key')
      .on(table.idempotencyKey)
      .where(sql`${table.idempotencyKey} is not null`),
    // The queue: due QUEUED messages in order, expired leases by end.
    index('messages_due')
      .on(table.nextAttemptAt, table.id)
      .where(sql`${table.status} = 'QUEUED'`),
    index('messages_lease')
      .on(table.leaseExpiresAt)
      .where(sql`${table.status} = 'PROCESSING'`),
    index('messages_status_id').on(table.status, table.id),
    index('messages_recipient_id').on(table.recipientKey, table.id),
    index('messages_created_at').on(table.createdAt, table.id),
    // Only messages an attempt failed for: most never are, and those need no index entry.
    index('messages_ever_failed_id')
      .on(table.id)
      .where(sql`${table.everFailed}`),
    index('messages_subject_search').using('gin', sql`${table.subjectFolded} gin_trgm_ops`),
    // Retention asks whether a submission has messages left.
    index('messages_submission')
      .on(table.submissionId)
      .where(sql`${table.submissionId} is not null`),
  ],
);

/** One row per delivery attempt. */
export const dispatches = pgTable(
  'dispatches',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageId: id64('message_id')
      .notNull()
      .references(() => messages.id),
    attempt: integer('attempt').notNull(),
    succeeded: boolean('succeeded').notNull(),
    at: ms('at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    response: text('response'),
    error: jsonb('error').$type<DeliveryError>(),
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
 * Append-only log of status changes, in (xid, seq) order: `xid` is the writing transaction, so
 * a reader that reads only transactions every snapshot sees as finished never has an event
 * slip in behind it (events.ts).
 */
export const messageEvents = pgTable(
  'message_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    xid: xid8('xid')
      .notNull()
      .default(sql`pg_current_xact_id()`),
    messageId: id64('message_id')
      .notNull()
      .references(() => messages.id),
    at: ms('at').notNull(),
    status: text('status').$type<MessageStatus>().notNull(),
    previousStatus: text('previous_status').$type<MessageStatus>(),
    reason: text('reason').$type<EventReason>().notNull(),
    attempt: integer('attempt'),
    error: jsonb('error').$type<DeliveryError>(),
    smtpConfigVersion: integer('smtp_config_version'),
    /** Set on events that record a delivery report. */
    outcome: text('outcome').$type<DeliveryOutcome>(),
    report: jsonb('report').$type<ReportDetail>(),
    /** `source|the source's event id`: the same report received twice is stored once. */
    reportKey: text('report_key'),
  },
  (table) => [
    index('message_events_order').on(table.xid, table.seq),
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
export const suppressions = pgTable(
  'suppressions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    address: text('address').notNull(),
    /** suppressionKey(address): compared whole and case-insensitively. */
    addressKey: text('address_key').notNull(),
    reason: text('reason').$type<SuppressionReason>().notNull(),
    source: text('source').$type<ReportSource>(),
    messageId: id64('message_id'),
    detail: text('detail'),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdByTokenId: integer('created_by_token_id'),
    removedAt: ms('removed_at'),
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
export const unmatchedReports = pgTable(
  'unmatched_reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ms('at').notNull(),
    source: text('source').$type<ReportSource>().notNull(),
    outcome: text('outcome').$type<DeliveryOutcome>().notNull(),
    recipient: text('recipient'),
    detail: text('detail'),
    reportKey: text('report_key').notNull(),
  },
  (table) => [uniqueIndex('unmatched_reports_key').on(table.reportKey)],
);

/** Counters per time bucket (counters.ts), folded in from `stat_counter_deltas`. */
export const statCounters = pgTable(
  'stat_counters',
  {
    resolutionMs: integer('resolution_ms').notNull(),
    bucketStart: ms('bucket_start').notNull(),
    metric: text('metric').notNull(),
    key: text('key').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.resolutionMs, table.bucketStart, table.metric, table.key] }),
  ],
);

/**
 * Counter increments as each transaction writes them: inserts only, so writers on several
 * instances never wait for each other on a hot counter row. A background job folds them into
 * stat_counters; totals read both.
 */
export const statCounterDeltas = pgTable(
  'stat_counter_deltas',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    resolutionMs: integer('resolution_ms').notNull(),
    bucketStart: ms('bucket_start').notNull(),
    metric: text('metric').notNull(),
    key: text('key').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (table) => [index('stat_counter_deltas_bucket').on(table.resolutionMs, table.bucketStart)],
);

/**
 * API tokens beyond the bootstrap API_TOKEN. Only a SHA-256 digest of each token is kept: the
 * token itself is shown once, when it is created. Revoked tokens stay, for the record.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    scope: text('scope').$type<StoredTokenScope>().notNull(),
    /** Hex SHA-256 of the whole token string. */
    tokenHash: text('token_hash').notNull(),
    createdAt: ms('created_at').notNull(),
    revokedAt: ms('revoked_at'),
    lastUsedAt: ms('last_used_at'),
    /** How it was created (API_TOKEN_CREATORS). */
    createdVia: text('created_via').$type<StoredTokenCreator>(),
    /** The stored token that created it, when `created_via` is `token`. */
    createdByTokenId: integer('created_by_token_id'),
  },
  (table) => [
    uniqueIndex('api_tokens_hash').on(table.tokenHash),
    index('api_tokens_created_by').on(table.createdByTokenId),
  ],
);

/** Token buckets of the rate limits, shared by every instance (rates.ts). */
export const rateBuckets = pgTable('rate_buckets', {
  key: text('key').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  /** When `tokens` was last brought up to date, on the database's clock. */
  updatedAt: ms('updated_at').notNull(),
});

/**
 * What retention has pruned: a single row (id 1). The newest event ever deleted is at
 * (pruned_through_xid, pruned_through_seq); an event cursor below it is refused as expired.
 */
export const retentionState = pgTable('retention_state', {
  id: integer('id').primaryKey(),
  prunedThroughXid: id64('pruned_through_xid').notNull(),
  prunedThroughSeq: id64('pruned_through_seq').notNull(),
  prunedMessages: id64('pruned_messages').notNull(),
  lastPrunedAt: ms('last_pruned_at'),
});

/**
 * Keys the service makes for itself on first start and keeps (e.g. `verp`: the HMAC key of the
 * bounce addresses, which must outlive restarts so that late bounces still verify).
 */
export const serviceKeys = pgTable('service_keys', {
  name: text('name').primaryKey(),
  /** Base64. */
  value: text('value').notNull(),
  createdAt: ms('created_at').notNull(),
});

/** Mailgun's one-time webhook tokens, kept while their timestamps could still be accepted. */
export const webhookTokens = pgTable(
  'webhook_tokens',
  {
    token: text('token').primaryKey(),
    /** The event the token came with: the same one again is a retry, another one a replay. */
    eventKey: text('event_key').notNull(),
    seenAt: ms('seen_at').notNull(),
  },
  (table) => [index('webhook_tokens_seen_at').on(table.seenAt)],
);

/** Where webhooks go (webhooks/): the secrets are encrypted with SECRETS_KEY when it is set. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  url: text('url').notNull(),
  /** WebhookEventType names (the outbox trigger matches with `= ANY`). */
  events: text('events').array().notNull(),
  enabled: boolean('enabled').notNull(),
  description: text('description'),
  secret: text('secret').notNull(),
  /** The secret before the last rotation, signing too until `previous_secret_until`. */
  previousSecret: text('previous_secret'),
  previousSecretUntil: ms('previous_secret_until'),
  createdAt: ms('created_at').notNull(),
  /** When the current run of failures began; null while the last attempt succeeded. */
  failingSince: ms('failing_since'),
  /** Why it was disabled by the service ('gone', 'failing'); null when enabled or by hand. */
  disabledReason: text('disabled_reason'),
});

/**
 * One row per event and endpoint, written by a trigger on message_events in the transaction of
 * the change (see the migration), or by the dispatcher (tests, redeliveries, endpoint.disabled).
 * `next_attempt_at` null: finished (delivered, or given up).
 */
export const webhookOutbox = pgTable(
  'webhook_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    endpointId: id64('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    webhookId: text('webhook_id').notNull(),
    /** A WebhookEventType name, or `webhook.test` / `endpoint.disabled`. */
    eventType: text('event_type').notNull(),
    /** The request body, signed as it is. */
    payload: text('payload').notNull(),
    createdAt: ms('created_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at'),
    leaseExpiresAt: ms('lease_expires_at'),
  },
  (table) => [
    index('webhook_outbox_due')
      .on(table.endpointId, table.nextAttemptAt)
      .where(sql`${table.nextAttemptAt} is not null`),
  ],
);

/** Every attempt to deliver an outbox row, with what the endpoint answered. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    outboxId: id64('outbox_id')
      .notNull()
      .references(() => webhookOutbox.id, { onDelete: 'cascade' }),
    endpointId: id64('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    at: ms('at').notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    responseBody: text('response_body'),
    succeeded: boolean('succeeded').notNull(),
    nextAttemptAt: ms('next_attempt_at'),
  },
  (table) => [index('webhook_attempts_endpoint').on(table.endpointId, table.id)],
);
