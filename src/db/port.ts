// The storage port: what the delivery, GraphQL and operations layers may ask of the database,
// in domain types only. SQLite (db/sqlite/) and PostgreSQL (db/postgres/) implement it; every
// method is one transaction and async (on better-sqlite3 an await costs a microtask, and its
// transactions cannot await, so there is no generic `transaction(async tx => …)` here).
import type { DeliveryError, DeliveryErrorCode } from '../domain/delivery-error.ts';
import type { EventPosition } from '../domain/event-position.ts';
import type {
  Dispatch,
  Header,
  Message,
  MessageEvent,
  MessageStatus,
  StatusCounts,
} from '../domain/message.ts';
import type { MessageListFilter } from './message-filter.ts';
import type {
  IncomingReport,
  Suppression,
  SuppressionReason,
  UnmatchedReport,
} from '../domain/report.ts';
import type {
  ClaimedWebhook,
  DisabledReason,
  StoredWebhookEndpoint,
  WebhookDelivery,
  WebhookEventType,
} from '../domain/webhook.ts';

export type { MessageListFilter } from './message-filter.ts';

export interface NewMessage {
  recipient: string;
  subject: string;
  text: string | null;
  html: string | null;
  headers: Header[];
  messageId: string;
  maxAttempts: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The configuration in use when it was queued, for the event. */
  smtpConfigVersion: number | null;
  /**
   * The submitted MIME message (SMTP submission), sent as it is. Stored once per Buffer: the
   * inputs of one call that carry the same Buffer (a submission's recipients) share one stored
   * copy. @default null
   */
  rawMime?: Buffer | null;
  /** The name of the API token that queued it; null without one. @default null */
  submittedBy?: string | null;
  /**
   * Store it SUPPRESSED, never sent, whatever the list says. Without it the storage looks the
   * recipient up on the suppression list itself, within the enqueue's own statement or
   * transaction (no round trip of its own), and stores a listed recipient's message SUPPRESSED.
   * @default false
   */
  suppressed?: boolean;
}

export type EnqueueResult =
  | { kind: 'queued'; message: Message; event: MessageEvent }
  | { kind: 'repeat'; message: Message }
  | { kind: 'conflict'; message: Message };

/** enqueueAll's outcome: every message stored, or none because one reused a key differently. */
export type EnqueueAllResult =
  { ok: true; results: EnqueueResult[] } | { ok: false; conflictIndex: number; message: Message };

/** What the worker decided about one attempt; the store only writes it. */
export interface AttemptRecord {
  messageId: number;
  /** The lease the claim granted; a record for a lease that was since re-claimed is dropped. */
  leaseExpiresAtMs: number;
  attempt: number;
  atMs: number;
  durationMs: number;
  smtpConfigVersion: number | null;
  response: string | null;
  error: DeliveryError | null;
  transcript: string | null;
  /**
   * What the claim read of the message and the attempt's counters need: a store that counts
   * before it writes (PostgreSQL's one-statement record and claim) takes them from here, one
   * without them reads them in its transaction. @default read by the store
   */
  claimed?: { createdAtMs: number; recipient: string };
  next:
    | { status: 'SENT'; reason: 'sent' }
    | {
        status: 'QUEUED';
        reason: 'retry_scheduled';
        /** The backoff: the retry is due this long after the attempt ended. */
        delayMs: number;
        /** `atMs + durationMs + delayMs` by this process's clock (what the hint tells people). */
        nextAttemptAtMs: number;
      }
    | { status: 'ABANDONED'; reason: 'failed_permanently' | 'attempts_exhausted' };
}

export interface ClaimRequest {
  /** This process's clock. A store with a clock of its own (PostgreSQL) uses that instead. */
  nowMs: number;
  leaseMs: number;
  limit: number;
  /**
   * The configuration version the caller holds. The claims' events carry the newest stored
   * version instead when there is one: the caller catches up to it before sending what it
   * claimed (`RecordAndClaimResult.configVersion`), so that is the version they go out with.
   */
  smtpConfigVersion: number | null;
  /** The caller's own sends in flight: never claimed twice, even past their lease. */
  excludeIds?: readonly number[];
  /**
   * Claims still in flight whose leases are renewed (to `leaseMs` from now) in the same
   * transaction, after the records: a slow send keeps its message, and no other instance takes
   * it over. Each applies only while the row still carries the lease given. @default none
   */
  renew?: readonly { messageId: number; leaseExpiresAtMs: number }[];
  /**
   * No due time the caller sets lies further ahead of `nowMs` than this; one that does was set
   * before the system clock moved back, and is treated as due now rather than left to strand its
   * message. Only a store on this process's clock needs it. @default no limit
   */
  horizonMs?: number;
}

export interface ClaimedMessage {
  message: Message;
  event: MessageEvent;
}

export interface RecordAndClaimResult {
  events: MessageEvent[];
  claimed: ClaimedMessage[];
  /** The leases `renew` extended, with their new ends (the records' tokens from now on). */
  renewed: { messageId: number; leaseExpiresAtMs: number }[];
  /**
   * The newest stored SMTP configuration version when the claim ran (null when none is
   * stored): a worker holding an older one reads it before sending what it claimed, since a
   * message queued after a configuration change may only go out with it.
   */
  configVersion: number | null;
  /**
   * nextDueInMs as it stands once this call's changes are in, when the store could tell in the
   * same round trip; absent otherwise (ask nextDueInMs).
   */
  dueInMs?: number | null;
}

export type StoredTransition =
  | { kind: 'changed'; message: Message; event: MessageEvent }
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: Message };

export interface MessagePage {
  messages: Message[];
  hasNextPage: boolean;
}

export interface QueueSnapshot {
  queued: number;
  processing: number;
  oldestQueuedAtMs: number | null;
}

/** Queries over messages; nothing here writes. */
export interface MessageReads {
  find(id: number): Promise<Message | null>;
  /** The messages with these ids that exist, in no particular order. */
  findMany(ids: readonly number[]): Promise<Message[]>;
  /** Newest first; `afterId` is the id of the last message of the previous page. */
  list(filter: MessageListFilter, first: number, afterId: number | null): Promise<MessagePage>;
  /** Ids of messages matching `filter` with ids above `afterId`, oldest first. */
  idsMatching(filter: MessageListFilter, limit: number, afterId?: number): Promise<number[]>;
  countMatching(filter: MessageListFilter): Promise<number>;
  /**
   * How long until something becomes claimable (0 or less: now), by the store's clock; null
   * when nothing is waiting.
   */
  nextDueInMs(nowMs: number): Promise<number | null>;
  queueSnapshot(): Promise<QueueSnapshot>;
  /** Messages in each status now; every status is present, 0 when none. */
  countByStatus(): Promise<StatusCounts>;
}

/** The worker's and the outbox's hot path: enqueue, claim with a lease, record, release. */
export interface MessageQueue {
  /**
   * Stores QUEUED messages and their first events in one transaction, or finds the earlier
   * message with the same idempotency key (also within the batch).
   */
  enqueueMany(inputs: readonly NewMessage[], nowMs: number): Promise<EnqueueResult[]>;
  /** enqueueMany, all or nothing: a key reused with different input stores none of them. */
  enqueueAll(inputs: readonly NewMessage[], nowMs: number): Promise<EnqueueAllResult>;
  /**
   * Records finished attempts, then claims up to `request.limit` due messages with a lease
   * (PROCESSING ones whose lease ran out first, then QUEUED ones whose time has come), in one
   * transaction. A record applies only while the row still carries the lease its claim granted.
   */
  recordAndClaim(
    records: readonly AttemptRecord[],
    request: ClaimRequest,
  ): Promise<RecordAndClaimResult>;
  /** PROCESSING -> QUEUED (due now) for claims that were not sent, e.g. on shutdown. */
  release(
    claims: readonly { messageId: number; leaseExpiresAtMs: number }[],
    nowMs: number,
    smtpConfigVersion: number | null,
  ): Promise<MessageEvent[]>;
}

/** What an operator does to messages outside the worker's loop: retry, cancel, expedite. */
export interface MessageActions {
  /** ABANDONED or CANCELLED -> QUEUED, with a fresh budget of `maxAttempts` attempts. */
  retry(
    id: number,
    maxAttempts: number,
    nowMs: number,
    smtpConfigVersion: number | null,
  ): Promise<StoredTransition>;
  /** QUEUED -> CANCELLED. */
  cancel(id: number, nowMs: number, smtpConfigVersion: number | null): Promise<StoredTransition>;
  /** `retry` for many messages in one transaction; returns the messages changed. */
  retryMany(
    ids: readonly number[],
    maxAttempts: number,
    nowMs: number,
    smtpConfigVersion: number | null,
  ): Promise<{ message: Message; event: MessageEvent }[]>;
  /** `cancel` for many messages in one transaction; returns the messages changed. */
  cancelMany(
    ids: readonly number[],
    nowMs: number,
    smtpConfigVersion: number | null,
  ): Promise<{ message: Message; event: MessageEvent }[]>;
  /**
   * Makes QUEUED messages whose last attempt failed with one of `codes` due now; returns how
   * many. Statuses don't change, so no events are appended.
   */
  expediteFailedWith(codes: readonly DeliveryErrorCode[], nowMs: number): Promise<number>;
}

export type MessageStore = MessageReads & MessageQueue & MessageActions;

export interface EventFilter {
  statuses?: readonly MessageStatus[];
  /** Lower-cased whole address. */
  recipientKey?: string;
}

/** The append-only log of status changes, read in its one order (see event-position.ts). */
export interface EventLog {
  /** The newest event that can be read in order now; the start when the log is empty. */
  latest(): Promise<EventPosition>;
  /** The newest event retention has deleted: a cursor below it may have lost events. */
  prunedThrough(): Promise<EventPosition>;
  /** Events after `after`, oldest first, at most `limit`. */
  listAfter(after: EventPosition, limit: number, filter?: EventFilter): Promise<MessageEvent[]>;
  /** The message's whole timeline, oldest first. */
  listForMessage(messageId: number): Promise<MessageEvent[]>;
}

/**
 * How committed events reach the in-process bus: every event of every writer (and, on
 * PostgreSQL, of every instance) exactly once, in the log's order.
 */
export interface EventFeed {
  /** Events this process just committed (from either thread). */
  committed(events: readonly MessageEvent[]): void;
  close(): Promise<void>;
}

export interface FeedOptions {
  publish: (events: readonly MessageEvent[]) => void;
  /**
   * Runs on each batch of events before it is published (to read what subscribers will ask
   * about in one go): PostgreSQL's feed waits for it, SQLite's does not (its reads answer at
   * once).
   */
  beforePublish?: (events: readonly MessageEvent[]) => Promise<void>;
  /**
   * Whether anyone listens: while nobody does, a feed that reads the database may only keep its
   * place in the log. @default always
   */
  listening?: () => boolean;
}

export interface DispatchStore {
  /** One per attempt, oldest first. */
  listForMessage(messageId: number): Promise<Dispatch[]>;
}

/** A stored configuration version. `connectionUri` holds the password: redact before showing. */
export interface StoredSmtpConfig {
  version: number;
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  headers: Header[];
  createdAtMs: number;
  /** The DKIM key every message is signed with; null: not signed. Holds a secret. */
  dkim: StoredDkimKey | null;
  /** The preset it was made with (an smtpProviders id); null when made from a URI. */
  provider: string | null;
}

export type NewSmtpConfig = Omit<StoredSmtpConfig, 'version' | 'dkim' | 'provider'> & {
  dkim?: StoredDkimKey | null;
  provider?: string | null;
};

export interface StoredDkimKey {
  domain: string;
  selector: string;
  /** PEM (PKCS#8 or PKCS#1). */
  privateKey: string;
}

export interface SmtpConfigStore {
  insert(config: NewSmtpConfig): Promise<StoredSmtpConfig>;
  latest(): Promise<StoredSmtpConfig | null>;
  /** Newest first. */
  list(): Promise<StoredSmtpConfig[]>;
  /**
   * Encrypts cleartext rows and rows under an older key with the current key (SECRETS_KEY);
   * returns how many were rewritten.
   */
  encryptAtRest(): Promise<number>;
  /** True when some row is encrypted (then SECRETS_KEY is needed to use it). */
  anyEncrypted(): Promise<boolean>;
}

export const API_TOKEN_SCOPES = ['admin', 'read', 'send'] as const;
export type StoredTokenScope = (typeof API_TOKEN_SCOPES)[number];
/**
 * How a token was created: with the bootstrap API_TOKEN, with a stored token, by an anonymous
 * loopback caller before any token existed, or by `mailscope create-token --database`.
 */
export const API_TOKEN_CREATORS = ['api_token', 'token', 'loopback', 'cli'] as const;
export type StoredTokenCreator = (typeof API_TOKEN_CREATORS)[number];

/** A stored API token; the token itself is never stored, only its digest. */
export interface StoredApiToken {
  id: number;
  name: string;
  scope: StoredTokenScope;
  createdAtMs: number;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
  /** Null for tokens stored before this was recorded. */
  createdVia: StoredTokenCreator | null;
  /** The stored token that created this one, when `createdVia` is `token`. */
  createdByTokenId: number | null;
}

/** A token to store: only its digest, never the token itself. */
export interface NewApiToken {
  name: string;
  scope: StoredTokenScope;
  tokenHash: string;
  createdAtMs: number;
  createdVia: StoredTokenCreator;
  createdByTokenId: number | null;
}

export interface ApiTokenStore {
  insert(token: NewApiToken): Promise<StoredApiToken>;
  /** The unrevoked token with this digest, or null. */
  findActiveByHash(tokenHash: string): Promise<StoredApiToken | null>;
  find(id: number): Promise<StoredApiToken | null>;
  /** True when at least one unrevoked token exists. */
  anyActive(): Promise<boolean>;
  /**
   * True once any token was ever stored, revoked ones included (rows are never deleted): from
   * then on every request needs a token.
   */
  anyStored(): Promise<boolean>;
  /** Newest first, revoked ones included. */
  list(): Promise<StoredApiToken[]>;
  /**
   * Revokes the token and every token it created, transitively, in one transaction; those
   * already revoked stay as they were. Returns the token as it is now and the ids this call
   * revoked (the token's first, when it was still active), or null when the id is unknown.
   */
  revokeWithDescendants(
    id: number,
    atMs: number,
  ): Promise<{ token: StoredApiToken; revokedIds: number[] } | null>;
  touch(id: number, atMs: number): Promise<void>;
}

export interface StatsStore {
  /**
   * Totals of every metric and key over [sinceMs, untilMs), to the minute, keyed
   * `${metric}|${key}` (see counters.ts).
   */
  totals(sinceMs: number, untilMs: number): Promise<Map<string, number>>;
}

export interface PruneRequest {
  /** Prune finished messages created and last changed before this time; null: no age limit. */
  olderThanMs: number | null;
  /** Prune finished messages with an id below this (see `capId`); null: no cap. */
  belowId: number | null;
  /** Messages per transaction. */
  limit: number;
  nowMs: number;
}

export interface PruneResult {
  messages: number;
  dispatches: number;
  events: number;
}

export interface RetentionStore {
  /** The id of the `keepNewest`-th newest message: anything older is over the cap. */
  capId(keepNewest: number): Promise<number | null>;
  /**
   * Prunes one batch of old finished messages with their dispatches and events; all zero once
   * nothing is left (or, with several instances, while another one is pruning).
   */
  pruneBatch(request: PruneRequest): Promise<PruneResult>;
  /** Deletes delivery reports that matched no message, received before `olderThanMs`; how many. */
  pruneUnmatchedReports(olderThanMs: number): Promise<number>;
  /**
   * Deletes finished webhook deliveries (delivered or given up) created before `olderThanMs`,
   * with their attempts; how many deliveries. Those still to be retried stay.
   */
  pruneWebhookDeliveries(olderThanMs: number): Promise<number>;
}

export interface RateBucketRequest {
  key: string;
  /** What the bucket holds when full: the burst allowed. */
  capacity: number;
  /** How long an empty bucket takes to fill again, continuously. */
  refillMs: number;
  /** How many to take. */
  count: number;
}

export type RateTakeResult =
  | { ok: true }
  /** Nothing taken; each bucket that was short, and how long until it would have enough. */
  | { ok: false; short: { key: string; retryAfterMs: number }[] };

/**
 * Token buckets that every instance shares (rate limits that minting tokens or adding instances
 * must not multiply). On SQLite, one instance per database, they live in memory.
 */
export interface RateStore {
  /** Takes `count` from every bucket named, all or none. */
  take(requests: readonly RateBucketRequest[]): Promise<RateTakeResult>;
}

/** Something that changed which other instances keep in memory. */
export type StorageChange =
  | { kind: 'smtp-config'; version: number }
  | { kind: 'token-created'; tokenId: number }
  | { kind: 'token-revoked'; tokenId: number }
  /** An outgoing-webhook endpoint was created, deleted, enabled or disabled. */
  | { kind: 'webhook-endpoints' };

/**
 * Changes made on one instance, told to every instance (this one included) within a second.
 * SQLite serves one instance, so there it is only a local call.
 */
export interface ChangeSignals {
  announce(change: StorageChange): void;
  subscribe(listener: (change: StorageChange) => void): () => void;
}

/** Work a store needs done in the background of the main thread (indexes, counters). */
export interface BackgroundJobs {
  close(): Promise<void>;
}

/** Who changed the suppression list by hand (recorded with the entry). */
export interface SuppressionActor {
  /** `api_token` (the bootstrap token), `token` (a stored one), `anonymous` or `report`. */
  kind: 'api_token' | 'token' | 'anonymous' | 'report';
  tokenId: number | null;
}

export type RecordReportResult =
  | {
      kind: 'recorded';
      message: Message;
      event: MessageEvent;
      /** The entry the report added, when it added one (a hard bounce or a complaint). */
      suppression: Suppression | null;
    }
  /** The same report (same source and event id) was stored before: nothing changed. */
  | { kind: 'duplicate' }
  /** It names no message we know: kept in the unmatched list. */
  | { kind: 'unmatched'; report: UnmatchedReport };

/** Delivery reports after SENT, in one transaction each. */
export interface ReportStore {
  /**
   * Finds the message, appends the report's event (status unchanged), raises the message's
   * outcome by precedence and, for a hard bounce or a complaint, suppresses its recipient.
   */
  record(report: IncomingReport, nowMs: number): Promise<RecordReportResult>;
  /** Newest first. */
  listUnmatched(first: number): Promise<UnmatchedReport[]>;
}

export interface SuppressionPage {
  suppressions: Suppression[];
  hasNextPage: boolean;
  totalCount: number;
}

/** Addresses nothing is sent to; addresses compare whole and case-insensitively. */
export interface SuppressionStore {
  /** The active entry for this address, or null. */
  find(address: string): Promise<Suppression | null>;
  /** Which of these addresses are suppressed now, as suppressionKey()s. */
  activeKeys(addresses: readonly string[]): Promise<Set<string>>;
  /** Active entries, newest first; `afterId` is the last entry of the previous page. */
  list(address: string | null, first: number, afterId: number | null): Promise<SuppressionPage>;
  /** Adds an entry, or returns the active one for the address (`created` false). */
  add(
    entry: { address: string; reason: SuppressionReason; detail: string | null },
    actor: SuppressionActor,
    nowMs: number,
  ): Promise<{ suppression: Suppression; created: boolean }>;
  /** Ends the active entry (kept, with who and when); false when none was active. */
  remove(address: string, actor: SuppressionActor, nowMs: number): Promise<boolean>;
}

/**
 * What a webhook's one-time token was seen with: `new` (first time), `same` (the same event
 * again, a provider's retry) or `reused` (another event under a token already used: a replay).
 */
export type WebhookTokenUse = 'new' | 'same' | 'reused';

/** One-time tokens of signed webhooks (Mailgun's), shared by every instance of the database. */
export interface WebhookTokenStore {
  /**
   * Records that `token` came with `eventKey`, unless it was seen before; forgets tokens seen
   * before `forgetBeforeMs` (their timestamps are too old to be accepted again anyway).
   */
  claim(
    token: string,
    eventKey: string,
    nowMs: number,
    forgetBeforeMs: number,
  ): Promise<WebhookTokenUse>;
}

/** Keys the service makes for itself once and keeps (see schema `service_keys`). */
export interface ServiceKeyStore {
  /** The stored key of this name; `candidate` is stored first when there is none yet. */
  getOrCreate(name: string, candidate: string, nowMs: number): Promise<string>;
}

/** What one attempt to deliver a claimed webhook came to; the dispatcher decides, the store writes. */
export interface WebhookAttemptRecord {
  claim: ClaimedWebhook;
  atMs: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  succeeded: boolean;
  /** When to try again; null: finished (delivered, or given up). */
  nextAttemptAtMs: number | null;
}

/**
 * Outgoing webhooks. The outbox is filled by the event log itself (a trigger on message_events,
 * in the transaction of each change); this is the rest: endpoints, claims, attempts.
 */
export interface WebhookStore {
  createEndpoint(endpoint: {
    url: string;
    events: readonly WebhookEventType[];
    description: string | null;
    secret: string;
    nowMs: number;
  }): Promise<StoredWebhookEndpoint>;
  /** Oldest first. */
  listEndpoints(): Promise<StoredWebhookEndpoint[]>;
  findEndpoint(id: number): Promise<StoredWebhookEndpoint | null>;
  /** Enabling by hand clears the failure run and the reason it was disabled. */
  updateEndpoint(
    id: number,
    change: { enabled?: boolean; events?: readonly WebhookEventType[]; url?: string },
  ): Promise<StoredWebhookEndpoint | null>;
  /** Deletes it with its outbox and attempts; false when there was none. */
  deleteEndpoint(id: number): Promise<boolean>;
  /** The new secret signs from now on; the old one as well until `previousUntilMs`. */
  rotateSecret(
    id: number,
    secret: string,
    previousUntilMs: number,
  ): Promise<StoredWebhookEndpoint | null>;
  /**
   * Replaces an endpoint's stored secrets with the same secrets sealed anew (encrypted with the
   * current SECRETS_KEY), only while the row still holds `from`: a rotation meanwhile wins.
   * True when it was rewritten.
   */
  resealSecrets(
    id: number,
    from: { secret: string; previousSecret: string | null },
    to: { secret: string; previousSecret: string | null },
  ): Promise<boolean>;
  /** Newest first. */
  listDeliveries(endpointId: number, first: number): Promise<WebhookDelivery[]>;
  findDelivery(id: number): Promise<WebhookDelivery | null>;
  /**
   * Leases one outbox row whatever its state (a redelivery, a test): null while another claim
   * holds it.
   */
  claimRow(outboxId: number, nowMs: number, leaseMs: number): Promise<ClaimedWebhook | null>;
  /**
   * Adds outbox rows; returns their ids in the order given. `dueNow` false: only sent once
   * claimed with claimRow.
   */
  enqueue(
    rows: readonly { endpointId: number; webhookId: string; eventType: string; payload: string }[],
    nowMs: number,
    dueNow: boolean,
  ): Promise<number[]>;
  /** Endpoints (enabled) with outbox rows due now and not leased. */
  dueEndpoints(nowMs: number): Promise<number[]>;
  /**
   * Leases up to `limit` due rows of one enabled endpoint, oldest due first; rows another
   * instance holds are skipped, never waited for.
   */
  claim(
    endpointId: number,
    limit: number,
    nowMs: number,
    leaseMs: number,
  ): Promise<ClaimedWebhook[]>;
  /**
   * Writes attempts, in order and in one transaction: each attempt and its row's next state
   * (only while the row still carries the claim's lease; null otherwise), and the endpoint's
   * failure run: cleared on success, started on failure. Returns, per record, the attempt and
   * when the run of failures began (null after a success).
   */
  recordAttempts(
    records: readonly WebhookAttemptRecord[],
  ): Promise<({ delivery: WebhookDelivery; failingSinceMs: number | null } | null)[]>;
  /**
   * The dispatcher's steady state in one write transaction: `records` as recordAttempts writes
   * them (each giving the attempt's id instead of the delivery), then a claim per entry of
   * `claims` as `claim` makes it, with the endpoint as it is now. Endpoints with nothing
   * claimed are left out of `claimed`.
   */
  recordAndClaim(
    records: readonly WebhookAttemptRecord[],
    claims: readonly { endpointId: number; limit: number }[],
    nowMs: number,
    leaseMs: number,
  ): Promise<{
    recorded: ({ attemptId: number; failingSinceMs: number | null } | null)[];
    claimed: { endpoint: StoredWebhookEndpoint; rows: ClaimedWebhook[] }[];
  }>;
  /**
   * Disables an endpoint the service gave up on and adds `notice` for every other enabled
   * endpoint subscribed to anything, in one transaction; false when it was already disabled.
   */
  disableEndpoint(
    id: number,
    reason: DisabledReason,
    notice: { webhookId: string; eventType: string; payload: string },
    nowMs: number,
  ): Promise<boolean>;
}

export interface Storage {
  readonly dialect: 'sqlite' | 'postgres';
  /** Write transactions worth running at once: 1 on SQLite (one writer), more on PostgreSQL. */
  readonly concurrentWrites: number;
  /**
   * How long the delivery worker gathers finished sends before it records them, with its next
   * claim, in one `recordAndClaim`: the longer, the more rows share one write's fixed cost.
   */
  readonly recordWindowMs: number;
  messages: MessageStore;
  events: EventLog;
  dispatches: DispatchStore;
  smtpConfigs: SmtpConfigStore;
  apiTokens: ApiTokenStore;
  stats: StatsStore;
  retention: RetentionStore;
  rates: RateStore;
  reports: ReportStore;
  suppressions: SuppressionStore;
  keys: ServiceKeyStore;
  webhookTokens: WebhookTokenStore;
  webhooks: WebhookStore;
  signals: ChangeSignals;
  /** null when the database takes writes now; otherwise why not (for /readyz). */
  writeProblem(): Promise<string | null>;
  /** Starts following the log into the bus (once per process, in the main thread). */
  startFeed(options: FeedOptions): Promise<EventFeed>;
  /** Starts the store's own background work; `onError` hears of failures it will retry. */
  startBackgroundJobs(onError: (error: unknown, job: string) => void): BackgroundJobs;
  close(): Promise<void>;
}
