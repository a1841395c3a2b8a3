import type { GraphQLResolveInfo } from 'graphql';
import type { Message as MessageModel, Dispatch as DispatchModel, MessageEvent as MessageEventModel, MessageEvent as DeliveryReportModel } from '../../domain/message.ts';
import type { DeliveryError as DeliveryErrorModel } from '../../domain/delivery-error.ts';
import type { SmtpSettingsView as SmtpConfigModel } from '../../delivery/smtp-settings.ts';
import type { DeliveryStatsReport as DeliveryStatsModel } from '../../delivery/delivery-stats.ts';
import type { SmtpVerification as SmtpVerificationModel } from '../../delivery/smtp-verifier.ts';
import type { MessageConnectionModel } from '../message-connection.ts';
import type { SmtpProviderPreset as SmtpProviderModel } from '../../smtp/provider-presets.ts';
import type { StoredApiToken as ApiTokenModel, SuppressionPage as SuppressionConnectionModel } from '../../db/port.ts';
import type { Principal as ViewerModel } from '../../auth/principal.ts';
import type { Suppression as SuppressionModel, Suppression as SuppressionEdgeModel, UnmatchedReport as UnmatchedReportModel } from '../../domain/report.ts';
import type { WebhookEndpoint as WebhookEndpointModel, WebhookDelivery as WebhookDeliveryModel, CreatedWebhookEndpoint as CreatedWebhookEndpointModel } from '../../domain/webhook.ts';
import type { GraphQLContext } from '../context.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
};

/** A stored API token; the token itself is never shown again after creation (addition). */
export type ApiToken = {
  __typename?: 'ApiToken';
  createdAt: Scalars['String']['output'];
  /** The stored token that created it (createdVia STORED_TOKEN): revoking that one revokes this one (addition). */
  createdByTokenId?: Maybe<Scalars['ID']['output']>;
  /** How it was created; null for tokens created before this was recorded (addition). */
  createdVia?: Maybe<ApiTokenCreator>;
  id: Scalars['ID']['output'];
  /** To the minute. */
  lastUsedAt?: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
  revokedAt?: Maybe<Scalars['String']['output']>;
  scope: ApiTokenScope;
};

/** Who created an API token (addition). */
export type ApiTokenCreator =
  /** The bootstrap API_TOKEN. */
  | 'API_TOKEN'
  /** mailscope create-token --database, written straight into the database. */
  | 'CLI'
  /** An anonymous caller on loopback, before any token existed. */
  | 'LOOPBACK'
  /** Another stored token, named by createdByTokenId. */
  | 'STORED_TOKEN';

/**
 * ADMIN: everything. READ: queries and subscriptions only (addition). SEND: sendEmail, sendEmails and
 * SMTP submission, nothing else.
 */
export type ApiTokenScope =
  | 'ADMIN'
  | 'READ'
  | 'SEND';

export type AttemptsCount = {
  __typename?: 'AttemptsCount';
  attempts: Scalars['Int']['output'];
  messages: Scalars['Int']['output'];
};

export type BounceType =
  | 'HARD'
  | 'SOFT'
  | 'UNDETERMINED';

export type BulkActionResult = {
  __typename?: 'BulkActionResult';
  /** Messages whose status was changed. */
  affected: Scalars['Int']['output'];
  /** Messages that matched the filter but were not in a status the action applies to. */
  skipped: Scalars['Int']['output'];
};

export type ConfigureSmtpInput = {
  connectionUri: Scalars['String']['input'];
  /**
   * DKIM signing for your own server: every message is signed, and one that cannot be signed is
   * not sent. Omitted keeps the signing of the latest version; null turns it off (addition).
   */
  dkim?: InputMaybe<DkimInput>;
  fromAddress: Scalars['String']['input'];
  fromName?: InputMaybe<Scalars['String']['input']>;
  /** Added to every message sent through this configuration. */
  headers?: InputMaybe<Array<HeaderInput>>;
};

export type ConfigureSmtpProviderInput = {
  fromAddress: Scalars['String']['input'];
  fromName?: InputMaybe<Scalars['String']['input']>;
  headers?: InputMaybe<Array<HeaderInput>>;
  /** For GENERIC only. */
  host?: InputMaybe<Scalars['String']['input']>;
  password: Scalars['String']['input'];
  /** For GENERIC only; 465 means implicit TLS. */
  port?: InputMaybe<Scalars['Int']['input']>;
  /** An id from smtpProviders, e.g. SENDGRID. */
  provider: Scalars['String']['input'];
  /** Required unless the provider fixes it (SendGrid: apikey) or derives it (Postmark: the token). */
  username?: InputMaybe<Scalars['String']['input']>;
};

export type CreateWebhookEndpointInput = {
  description?: InputMaybe<Scalars['String']['input']>;
  events: Array<WebhookEventType>;
  url: Scalars['String']['input'];
};

export type CreatedApiToken = {
  __typename?: 'CreatedApiToken';
  apiToken: ApiToken;
  /** The token to send as `Authorization: Bearer <token>`; shown only here. */
  token: Scalars['String']['output'];
};

export type CreatedWebhookEndpoint = {
  __typename?: 'CreatedWebhookEndpoint';
  endpoint: WebhookEndpoint;
  /** whsec_…, shown once. */
  secret: Scalars['String']['output'];
};

export type DeliveryError = {
  __typename?: 'DeliveryError';
  code: DeliveryErrorCode;
  /** The SMTP command or phase that failed. */
  command?: Maybe<Scalars['String']['output']>;
  /** RFC 3463, e.g. "5.1.1". */
  enhancedStatus?: Maybe<Scalars['String']['output']>;
  /** What to do about it. */
  hint?: Maybe<Scalars['String']['output']>;
  message: Scalars['String']['output'];
  /** True: it will not be retried. */
  permanent: Scalars['Boolean']['output'];
  /** The server's reply, verbatim. */
  response?: Maybe<Scalars['String']['output']>;
  /** SMTP reply code, e.g. 550. */
  responseCode?: Maybe<Scalars['Int']['output']>;
};

export type DeliveryErrorCode =
  | 'AUTH'
  | 'CONFIG'
  | 'CONNECTION'
  | 'MESSAGE_REJECTED'
  | 'PROTOCOL'
  | 'RECIPIENT_REJECTED'
  | 'SENDER_REJECTED'
  | 'TIMEOUT'
  | 'TLS'
  | 'UNKNOWN';

export type DeliveryOutcome =
  | 'BOUNCED'
  | 'COMPLAINED'
  | 'DEFERRED'
  | 'DELIVERED';

/** One delivery report about a message, received after SENT. */
export type DeliveryReport = {
  __typename?: 'DeliveryReport';
  /** When we received it. */
  at: Scalars['String']['output'];
  /** Set when the outcome is BOUNCED. */
  bounceType?: Maybe<BounceType>;
  /** The remote server's words, verbatim. */
  diagnostic?: Maybe<Scalars['String']['output']>;
  /** e.g. "5.1.1". */
  enhancedStatus?: Maybe<Scalars['String']['output']>;
  hint?: Maybe<Scalars['String']['output']>;
  outcome: DeliveryOutcome;
  remoteMta?: Maybe<Scalars['String']['output']>;
  source: DeliveryReportSource;
};

export type DeliveryReportSource =
  | 'ARF'
  | 'DSN'
  | 'MAILGUN'
  | 'POSTMARK'
  | 'SENDGRID'
  | 'SES';

export type DeliveryStats = {
  __typename?: 'DeliveryStats';
  /** Messages that reached ABANDONED in the period. */
  abandoned: Scalars['Int']['output'];
  attempts: Scalars['Int']['output'];
  /** How many attempts messages that reached SENT or ABANDONED took. */
  attemptsPerMessage: Array<AttemptsCount>;
  /** (bouncedHard + bouncedSoft) / sent in the period; null when nothing was sent (addition). */
  bounceRate?: Maybe<Scalars['Float']['output']>;
  /** BOUNCED reports of type HARD received in the period. */
  bouncedHard: Scalars['Int']['output'];
  /** BOUNCED reports of type SOFT or UNDETERMINED received in the period. */
  bouncedSoft: Scalars['Int']['output'];
  cancelled: Scalars['Int']['output'];
  /** COMPLAINED reports received in the period. */
  complained: Scalars['Int']['output'];
  /** complained / sent in the period; null when nothing was sent (addition). */
  complaintRate?: Maybe<Scalars['Float']['output']>;
  /** DEFERRED reports received in the period. */
  deferred: Scalars['Int']['output'];
  /** DELIVERED reports received in the period. */
  delivered: Scalars['Int']['output'];
  failedAttempts: Scalars['Int']['output'];
  failuresByCode: Array<ErrorCodeCount>;
  /** The 20 domains with most failed attempts. */
  failuresByDomain: Array<DomainCount>;
  /** Now: age of the oldest QUEUED message. */
  oldestQueuedAgeMs?: Maybe<Scalars['Int']['output']>;
  /** Now: messages being sent. */
  processing: Scalars['Int']['output'];
  /** Now: messages waiting to be sent. */
  queueDepth: Scalars['Int']['output'];
  /** Messages queued in the period. */
  queued: Scalars['Int']['output'];
  /** retryMessage and bulk retries. */
  retried: Scalars['Int']['output'];
  /** Attempts that failed and were scheduled for another try. */
  retryScheduled: Scalars['Int']['output'];
  /** Messages that reached SENT in the period. */
  sent: Scalars['Int']['output'];
  /** Start of the window the figures cover: the asked-for since, rounded down to the minute (counters are per minute). */
  since: Scalars['String']['output'];
  /** Messages stored SUPPRESSED or stopped by the suppression list in the period (addition). */
  suppressed: Scalars['Int']['output'];
  /** Time from QUEUED to SENT of messages sent in the period (within 10%). */
  timeToSent: LatencySummary;
  /** Reports in the period that matched no message (addition). */
  unmatchedReports: Scalars['Int']['output'];
  /** End of the window the figures cover (exclusive): the asked-for until, rounded up to the minute. */
  until: Scalars['String']['output'];
};

export type Dispatch = {
  __typename?: 'Dispatch';
  /** ISO 8601 UTC; when the attempt started. */
  at: Scalars['String']['output'];
  attempt: Scalars['Int']['output'];
  durationMs: Scalars['Int']['output'];
  error?: Maybe<DeliveryError>;
  /** The server's final reply on success, e.g. "250 2.0.0 Ok: queued as 4XyZ". */
  response?: Maybe<Scalars['String']['output']>;
  /** The configuration version used; null for the environment or embedded server (addition). */
  smtpConfigVersion?: Maybe<Scalars['Int']['output']>;
  succeeded: Scalars['Boolean']['output'];
  /**
   * The SMTP conversation of this attempt (commands and replies; credentials and the message body
   * replaced by placeholders; a few KB at most). Kept for failed attempts, and for successful ones
   * when DELIVERY_TRANSCRIPTS=all (addition).
   */
  transcript?: Maybe<Scalars['String']['output']>;
};

/** The DKIM key in use and the TXT record that publishes it. */
export type DkimInfo = {
  __typename?: 'DkimInfo';
  /** e.g. mail._domainkey.example.com */
  dnsRecordName: Scalars['String']['output'];
  /** e.g. v=DKIM1; k=rsa; p=MIIBIjANBg… */
  dnsRecordValue: Scalars['String']['output'];
  domain: Scalars['String']['output'];
  selector: Scalars['String']['output'];
};

/**
 * Without privateKey a 2048-bit RSA key is generated (or the latest version's key is kept when the
 * domain and selector are the same). The key is stored like the SMTP password and never returned.
 */
export type DkimInput = {
  domain: Scalars['String']['input'];
  /** PEM: RSA of 1024 bits or more, or Ed25519. */
  privateKey?: InputMaybe<Scalars['String']['input']>;
  selector: Scalars['String']['input'];
};

export type DomainCount = {
  __typename?: 'DomainCount';
  count: Scalars['Int']['output'];
  domain: Scalars['String']['output'];
};

export type ErrorCodeCount = {
  __typename?: 'ErrorCodeCount';
  code: DeliveryErrorCode;
  count: Scalars['Int']['output'];
};

export type Header = {
  __typename?: 'Header';
  name: Scalars['String']['output'];
  value: Scalars['String']['output'];
};

export type HeaderInput = {
  name: Scalars['String']['input'];
  value: Scalars['String']['input'];
};

export type LatencySummary = {
  __typename?: 'LatencySummary';
  count: Scalars['Int']['output'];
  p50Ms?: Maybe<Scalars['Int']['output']>;
  p95Ms?: Maybe<Scalars['Int']['output']>;
  p99Ms?: Maybe<Scalars['Int']['output']>;
};

export type Message = {
  __typename?: 'Message';
  /** Counts dispatches. */
  attempts: Scalars['Int']['output'];
  /** ISO 8601 UTC with milliseconds. */
  createdAt: Scalars['String']['output'];
  /** One per delivery attempt, oldest first. */
  dispatches: Array<Dispatch>;
  /** Every status change of this message, oldest first (addition). */
  events: Array<MessageEvent>;
  headers: Array<Header>;
  html?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  lastError?: Maybe<DeliveryError>;
  /** Attempts allowed before the message is abandoned, counting from its last retry (addition). */
  maxAttempts: Scalars['Int']['output'];
  /** The RFC 5322 Message-ID header, fixed when the message is queued. */
  messageId: Scalars['String']['output'];
  /** When the next attempt is due, while QUEUED (addition). */
  nextAttemptAt?: Maybe<Scalars['String']['output']>;
  /** What is known after SENT, by precedence COMPLAINED > BOUNCED > DELIVERED > DEFERRED; null while nothing was reported. */
  outcome?: Maybe<DeliveryOutcome>;
  recipient: Scalars['String']['output'];
  /** Every delivery report received, in the order received. */
  reports: Array<DeliveryReport>;
  /** The SMTP configuration version of the last attempt; null for the environment or embedded server (addition). */
  smtpConfigVersion?: Maybe<Scalars['Int']['output']>;
  status: MessageStatus;
  subject: Scalars['String']['output'];
  /** The name of the API token that queued the message, over SMTP (AUTH) or through the API; null when none was used (no authentication configured). Never the token itself (addition). */
  submittedBy?: Maybe<Scalars['String']['output']>;
  /** True when the message came in over SMTP submission and goes out as it was submitted (addition). */
  submittedOverSmtp: Scalars['Boolean']['output'];
  text?: Maybe<Scalars['String']['output']>;
  /** When the message last changed (addition). */
  updatedAt: Scalars['String']['output'];
};

export type MessageConnection = {
  __typename?: 'MessageConnection';
  edges: Array<MessageEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type MessageEdge = {
  __typename?: 'MessageEdge';
  cursor: Scalars['String']['output'];
  node: Message;
};

export type MessageEvent = {
  __typename?: 'MessageEvent';
  at: Scalars['String']['output'];
  /** The attempt this change belongs to, when it is about one (addition). */
  attempt?: Maybe<Scalars['Int']['output']>;
  cursor: Scalars['String']['output'];
  error?: Maybe<DeliveryError>;
  /** The message as it is now. */
  message: Message;
  /** Set on events that record a delivery report (reason report_dsn, report_arf, …). */
  outcome?: Maybe<DeliveryOutcome>;
  /** The status before this change; null when the message was created (addition). */
  previousStatus?: Maybe<MessageStatus>;
  /** What caused the change, e.g. queued, claimed, sent, retry_scheduled, lease_expired, released_on_shutdown (addition). */
  reason: Scalars['String']['output'];
  /**
   * The stored configuration version in use at this change (null: environment or embedded server),
   * so failures that began with a configuration change show it (addition).
   */
  smtpConfigVersion?: Maybe<Scalars['Int']['output']>;
  status: MessageStatus;
};

export type MessageFilter = {
  /** Messages created at or after this ISO 8601 time (addition). */
  createdAfter?: InputMaybe<Scalars['String']['input']>;
  /** Messages created before this ISO 8601 time (addition). */
  createdBefore?: InputMaybe<Scalars['String']['input']>;
  /** Some attempt failed with one of these codes (addition). */
  errorCode?: InputMaybe<Array<DeliveryErrorCode>>;
  /** true: some attempt failed, whatever the status is now; false: no attempt failed (addition). */
  everFailed?: InputMaybe<Scalars['Boolean']['input']>;
  /** What delivery reports said after SENT (Message.outcome) is one of these. */
  outcome?: InputMaybe<Array<DeliveryOutcome>>;
  /** The whole address, case-insensitively. */
  recipient?: InputMaybe<Scalars['String']['input']>;
  /** Some attempt was made with this stored configuration version (addition). */
  smtpConfigVersion?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<Array<MessageStatus>>;
  /** Case-insensitive substring of the subject (addition). */
  subjectContains?: InputMaybe<Scalars['String']['input']>;
};

export type MessageStatus =
  | 'ABANDONED'
  | 'CANCELLED'
  | 'PROCESSING'
  | 'QUEUED'
  | 'SENT'
  /** The recipient is on the suppression list: nothing was (or will be) sent. */
  | 'SUPPRESSED';

export type Mutation = {
  __typename?: 'Mutation';
  /** Puts an address on the suppression list (reason MANUAL); an address already listed returns its entry. Needs ADMIN. */
  addSuppression: Suppression;
  /** QUEUED -> CANCELLED. */
  cancelMessage: Message;
  /** cancelMessage for every QUEUED message matching the filter (addition). */
  cancelMessages: BulkActionResult;
  /** Validates and stores a new configuration version; queued mail flows through it from now on. */
  configureSmtp: SmtpConfig;
  /** Builds the connection URI for a provider preset, with correct encoding, and stores it like configureSmtp (addition). */
  configureSmtpProvider: SmtpConfig;
  /**
   * Creates an API token; the token itself is in the answer and never shown again. Needs ADMIN
   * (the bootstrap API_TOKEN, or anyone on loopback while no token was ever stored). At most
   * TOKEN_CREATE_RATE_LIMIT_PER_HOUR per hour over the whole service (RATE_LIMITED beyond it);
   * the token records who created it (addition).
   */
  createApiToken: CreatedApiToken;
  createWebhookEndpoint: CreatedWebhookEndpoint;
  deleteWebhookEndpoint: Scalars['Boolean']['output'];
  /** Sends that event again, same webhook-id. */
  redeliverWebhook: WebhookDelivery;
  /** Takes an address off the suppression list (kept on record: by which token, when); false when it was not listed. Needs ADMIN. */
  removeSuppression: Scalars['Boolean']['output'];
  /**
   * After fixing the configuration: retries every ABANDONED message whose last attempt failed with
   * AUTH, TLS, CONNECTION, TIMEOUT or CONFIG at or after `since` (default: when the configuration
   * before the current one was stored), and sends QUEUED ones with such failures now (addition).
   */
  retryConfigurationFailures: BulkActionResult;
  /** ABANDONED or CANCELLED -> QUEUED with a fresh budget of DELIVERY_MAX_ATTEMPTS; SUPPRESSED too once the address is off the suppression list (CONFLICT while it is listed). */
  retryMessage: Message;
  /** retryMessage for every ABANDONED or CANCELLED message matching the filter (addition). */
  retryMessages: BulkActionResult;
  /**
   * Revokes a token at once, and with it every token it created (transitively), closing their
   * live subscriptions; needs ADMIN (addition).
   */
  revokeApiToken: ApiToken;
  rotateWebhookSecret: CreatedWebhookEndpoint;
  sendEmail: Message;
  /**
   * sendEmail for 1 to 1,000 messages in one call and one transaction, results in input order.
   * All or nothing: if any input is invalid, or reuses an idempotencyKey with different input,
   * nothing is stored (addition).
   */
  sendEmails: Array<Message>;
  /** Sends one real message through the configuration in use and returns it (addition). */
  sendTestEmail: Message;
  /** Type "webhook.test". */
  sendTestWebhook: WebhookDelivery;
  updateWebhookEndpoint: WebhookEndpoint;
};


export type MutationAddSuppressionArgs = {
  address: Scalars['String']['input'];
  detail?: InputMaybe<Scalars['String']['input']>;
};


export type MutationCancelMessageArgs = {
  id: Scalars['ID']['input'];
};


export type MutationCancelMessagesArgs = {
  filter: MessageFilter;
};


export type MutationConfigureSmtpArgs = {
  input: ConfigureSmtpInput;
};


export type MutationConfigureSmtpProviderArgs = {
  input: ConfigureSmtpProviderInput;
};


export type MutationCreateApiTokenArgs = {
  name: Scalars['String']['input'];
  scope: ApiTokenScope;
};


export type MutationCreateWebhookEndpointArgs = {
  input: CreateWebhookEndpointInput;
};


export type MutationDeleteWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRedeliverWebhookArgs = {
  deliveryId: Scalars['ID']['input'];
};


export type MutationRemoveSuppressionArgs = {
  address: Scalars['String']['input'];
};


export type MutationRetryConfigurationFailuresArgs = {
  since?: InputMaybe<Scalars['String']['input']>;
};


export type MutationRetryMessageArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRetryMessagesArgs = {
  filter: MessageFilter;
};


export type MutationRevokeApiTokenArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRotateWebhookSecretArgs = {
  id: Scalars['ID']['input'];
};


export type MutationSendEmailArgs = {
  input: SendEmailInput;
};


export type MutationSendEmailsArgs = {
  inputs: Array<SendEmailInput>;
};


export type MutationSendTestEmailArgs = {
  to: Scalars['String']['input'];
};


export type MutationSendTestWebhookArgs = {
  id: Scalars['ID']['input'];
};


export type MutationUpdateWebhookEndpointArgs = {
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  events?: InputMaybe<Array<WebhookEventType>>;
  id: Scalars['ID']['input'];
  url?: InputMaybe<Scalars['String']['input']>;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type Query = {
  __typename?: 'Query';
  /** Every stored API token, newest first, revoked ones included; needs ADMIN (addition). */
  apiTokens: Array<ApiToken>;
  /**
   * What receivers will find in the sender domain's DNS — SPF, DKIM, DMARC, the return path and
   * alignment — with the record to publish for each item missing or wrong. `domain` defaults to
   * the domain of the configured fromAddress, `provider` (an id from smtpProviders) to the preset
   * the configuration was made with, else the one recognised from its host, else GENERIC.
   * SendGrid's DKIM selectors are s1 and s2; for Mailgun, Postmark and SES give them (SES: the
   * three Easy DKIM tokens) in `dkimSelectors`. Reads DNS only; stores nothing (addition).
   */
  checkSenderDomain: SenderDomainCheck;
  /**
   * Delivery figures over [since, until) (default: the last 24 hours), to the minute, from
   * counters maintained as mail flows, plus the queue as it is now (addition).
   */
  deliveryStats: DeliveryStats;
  /**
   * The newest event's cursor. Read it in the same request as a page of `messages`, then
   * subscribe to `messageEvents(after: it)`: every change after the page was read follows, with
   * no gap (addition).
   */
  eventCursor: Scalars['String']['output'];
  message?: Maybe<Message>;
  /** Newest first. `first` defaults to 50 and may not exceed 500. */
  messages: MessageConnection;
  /** The SMTP configuration in use: the newest stored one, else SMTP_CONNECTION_URI, else the embedded development server. */
  smtpConfig?: Maybe<SmtpConfig>;
  /** Every stored configuration version, newest first (addition). */
  smtpConfigHistory: Array<SmtpConfig>;
  /** Presets for common providers; use them with configureSmtpProvider (addition). */
  smtpProviders: Array<SmtpProvider>;
  /** Addresses nothing is sent to, newest first; `address` narrows to one (case-insensitively). `first` defaults to 50, at most 500. */
  suppressions: SuppressionConnection;
  /** Delivery reports that matched no message, newest first; `first` defaults to 50, at most 500. */
  unmatchedReports: Array<UnmatchedReport>;
  /**
   * Runs the SMTP conversation step by step without sending mail — DNS, TCP connect, greeting,
   * EHLO, TLS, AUTH — and reports each step's outcome and duration. Checks the stored
   * configuration when `connectionUri` is omitted (addition).
   */
  verifySmtp: SmtpVerification;
  /** Who is calling: the scope of the token used (ADMIN when no authentication is configured) (addition). */
  viewer: Viewer;
  webhookEndpoints: Array<WebhookEndpoint>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryCheckSenderDomainArgs = {
  dkimSelectors?: InputMaybe<Array<Scalars['String']['input']>>;
  domain?: InputMaybe<Scalars['String']['input']>;
  provider?: InputMaybe<Scalars['String']['input']>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryDeliveryStatsArgs = {
  since?: InputMaybe<Scalars['String']['input']>;
  until?: InputMaybe<Scalars['String']['input']>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryMessageArgs = {
  id: Scalars['ID']['input'];
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<MessageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QuerySuppressionsArgs = {
  address?: InputMaybe<Scalars['String']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryUnmatchedReportsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * mailscope's API. The names here are the public contract (see docs/CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryVerifySmtpArgs = {
  connectionUri?: InputMaybe<Scalars['String']['input']>;
};

export type SendEmailInput = {
  headers?: InputMaybe<Array<HeaderInput>>;
  html?: InputMaybe<Scalars['String']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  subject: Scalars['String']['input'];
  text?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['String']['input'];
};

export type SenderCheckName =
  | 'ALIGNMENT'
  | 'DKIM'
  | 'DMARC'
  | 'MX'
  | 'RETURN_PATH'
  | 'SPF';

export type SenderCheckStatus =
  | 'INVALID'
  | 'MISSING'
  | 'OK'
  | 'SKIPPED'
  /** A DNS time-out or SERVFAIL: nothing is known, try again. */
  | 'TEMPFAIL'
  | 'WARNING';

export type SenderDomainCheck = {
  __typename?: 'SenderDomainCheck';
  checks: Array<SenderDomainCheckItem>;
  domain: Scalars['String']['output'];
  /** True when no check is MISSING, INVALID or TEMPFAIL (WARNING and SKIPPED do not block it). */
  ready: Scalars['Boolean']['output'];
};

export type SenderDomainCheckItem = {
  __typename?: 'SenderDomainCheckItem';
  detail: Scalars['String']['output'];
  /** The record to publish, when one is missing or wrong (one per line when several). */
  expected?: Maybe<Scalars['String']['output']>;
  /** The records as published, e.g. `example.com TXT "v=spf1 include:sendgrid.net ~all"`. */
  found: Array<Scalars['String']['output']>;
  hint?: Maybe<Scalars['String']['output']>;
  name: SenderCheckName;
  status: SenderCheckStatus;
};

export type SmtpAuthDetails = {
  __typename?: 'SmtpAuthDetails';
  accepted: Scalars['Boolean']['output'];
  mechanism: Scalars['String']['output'];
  response: Scalars['String']['output'];
};

export type SmtpConfig = {
  __typename?: 'SmtpConfig';
  /** Password replaced by "***"; never the secret. So is the user name when it is a credential too (Postmark's token, or a user name equal to the password). */
  connectionUri: Scalars['String']['output'];
  /** When this version was stored (addition). */
  createdAt?: Maybe<Scalars['String']['output']>;
  /** DKIM signing, with the DNS record to publish; null when mail is not signed (addition). */
  dkim?: Maybe<DkimInfo>;
  /** True while the embedded development server is in use (then this describes it). */
  embedded: Scalars['Boolean']['output'];
  fromAddress: Scalars['String']['output'];
  fromName?: Maybe<Scalars['String']['output']>;
  /** Headers added to every message (addition). */
  headers: Array<Header>;
  /** The provider preset this version was made with (an smtpProviders id, from configureSmtpProvider); null when it was made from a connection URI. Correlation stamps and checkSenderDomain follow it before the host (addition). */
  provider?: Maybe<Scalars['String']['output']>;
  /** Where this configuration comes from (addition). */
  source: SmtpConfigSource;
  /** The stored version; null for the environment or the embedded server (addition). */
  version?: Maybe<Scalars['Int']['output']>;
};

export type SmtpConfigSource =
  /** The embedded development SMTP server, used while nothing else is configured. */
  | 'EMBEDDED'
  /** Taken from SMTP_CONNECTION_URI because nothing is stored. */
  | 'ENVIRONMENT'
  /** Stored by configureSmtp. */
  | 'STORED';

export type SmtpProvider = {
  __typename?: 'SmtpProvider';
  documentationNote: Scalars['String']['output'];
  /** The user name every account uses, e.g. SendGrid's literal apikey. */
  fixedUsername?: Maybe<Scalars['String']['output']>;
  host?: Maybe<Scalars['String']['output']>;
  id: Scalars['String']['output'];
  name: Scalars['String']['output'];
  passwordRule: Scalars['String']['output'];
  port: Scalars['Int']['output'];
  /** STARTTLS or IMPLICIT_TLS. */
  security: Scalars['String']['output'];
  /** The user name is a credential itself (Postmark's server token): shown as *** like the password (addition). */
  usernameIsSecret: Scalars['Boolean']['output'];
  usernameRule: Scalars['String']['output'];
};

export type SmtpTlsDetails = {
  __typename?: 'SmtpTlsDetails';
  cipher?: Maybe<Scalars['String']['output']>;
  issuer?: Maybe<Scalars['String']['output']>;
  /** The name the certificate was checked against (server_name, else the host). */
  nameChecked: Scalars['String']['output'];
  nameMatches: Scalars['Boolean']['output'];
  protocol?: Maybe<Scalars['String']['output']>;
  subject?: Maybe<Scalars['String']['output']>;
  subjectAltNames: Array<Scalars['String']['output']>;
  trustError?: Maybe<Scalars['String']['output']>;
  /** The chain leads to a trusted root. */
  trusted: Scalars['Boolean']['output'];
  validFrom?: Maybe<Scalars['String']['output']>;
  validTo?: Maybe<Scalars['String']['output']>;
  /** skip_ssl_verify=true: reported, not enforced. */
  verificationSkipped: Scalars['Boolean']['output'];
};

export type SmtpVerification = {
  __typename?: 'SmtpVerification';
  /** The URI checked, password replaced by ***. */
  connectionUri: Scalars['String']['output'];
  /** True when every step succeeded. */
  ok: Scalars['Boolean']['output'];
  steps: Array<SmtpVerificationStep>;
  totalDurationMs: Scalars['Int']['output'];
};

export type SmtpVerificationStep = {
  __typename?: 'SmtpVerificationStep';
  /** DNS: the addresses found. */
  addresses?: Maybe<Array<Scalars['String']['output']>>;
  auth?: Maybe<SmtpAuthDetails>;
  authMechanisms?: Maybe<Array<Scalars['String']['output']>>;
  /** GREETING: the server's banner. */
  banner?: Maybe<Scalars['String']['output']>;
  /** One line for a person. */
  detail: Scalars['String']['output'];
  durationMs: Scalars['Int']['output'];
  /** Set on the step that failed. */
  error?: Maybe<DeliveryError>;
  /** EHLO: the advertised extensions. */
  extensions?: Maybe<Array<Scalars['String']['output']>>;
  maxMessageSize?: Maybe<Scalars['Int']['output']>;
  name: SmtpVerificationStepName;
  ok: Scalars['Boolean']['output'];
  pipelining?: Maybe<Scalars['Boolean']['output']>;
  smtpUtf8?: Maybe<Scalars['Boolean']['output']>;
  startTls?: Maybe<Scalars['Boolean']['output']>;
  tls?: Maybe<SmtpTlsDetails>;
};

export type SmtpVerificationStepName =
  | 'AUTH'
  | 'CONNECT'
  | 'DNS'
  | 'EHLO'
  | 'GREETING'
  | 'STARTTLS'
  | 'TLS';

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Events of every status change, oldest first. With `after` (an event cursor), the events after
   * it are replayed first, then live ones follow, with none lost or repeated in between.
   */
  messageEvents: MessageEvent;
  /**
   * deliveryStats over the trailing `windowSeconds` (default 3600), pushed when something changed,
   * at most once per `intervalMs` (default 1000, at least 250) (addition).
   */
  queueStats: DeliveryStats;
};


export type SubscriptionMessageEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<MessageFilter>;
};


export type SubscriptionQueueStatsArgs = {
  intervalMs?: InputMaybe<Scalars['Int']['input']>;
  windowSeconds?: InputMaybe<Scalars['Int']['input']>;
};

export type Suppression = {
  __typename?: 'Suppression';
  address: Scalars['String']['output'];
  createdAt: Scalars['String']['output'];
  detail?: Maybe<Scalars['String']['output']>;
  /** The message whose bounce or complaint added it; null for MANUAL. */
  message?: Maybe<Message>;
  reason: SuppressionReason;
};

export type SuppressionConnection = {
  __typename?: 'SuppressionConnection';
  edges: Array<SuppressionEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type SuppressionEdge = {
  __typename?: 'SuppressionEdge';
  cursor: Scalars['String']['output'];
  node: Suppression;
};

export type SuppressionReason =
  | 'COMPLAINT'
  | 'HARD_BOUNCE'
  | 'MANUAL';

export type UnmatchedReport = {
  __typename?: 'UnmatchedReport';
  at: Scalars['String']['output'];
  detail?: Maybe<Scalars['String']['output']>;
  outcome: DeliveryOutcome;
  recipient?: Maybe<Scalars['String']['output']>;
  source: DeliveryReportSource;
};

export type Viewer = {
  __typename?: 'Viewer';
  scope: ApiTokenScope;
  /** The token's name; "API_TOKEN" for the bootstrap token; null when no authentication is configured. */
  tokenName?: Maybe<Scalars['String']['output']>;
};

/**
 * One attempt. webhookId is the `webhook-id` header value (one per event, the same on every retry
 * and redelivery).
 */
export type WebhookDelivery = {
  __typename?: 'WebhookDelivery';
  at: Scalars['String']['output'];
  attempt: Scalars['Int']['output'];
  durationMs?: Maybe<Scalars['Int']['output']>;
  error?: Maybe<Scalars['String']['output']>;
  eventType: WebhookEventType;
  id: Scalars['ID']['output'];
  nextAttemptAt?: Maybe<Scalars['String']['output']>;
  /** The first 4 KB of the answer; null for a token that is not ADMIN (it may repeat the URL's path). */
  responseBody?: Maybe<Scalars['String']['output']>;
  statusCode?: Maybe<Scalars['Int']['output']>;
  succeeded: Scalars['Boolean']['output'];
  webhookId: Scalars['String']['output'];
};

export type WebhookEndpoint = {
  __typename?: 'WebhookEndpoint';
  createdAt: Scalars['String']['output'];
  /** Newest first; 20 unless given, at most 100. */
  deliveries: Array<WebhookDelivery>;
  description?: Maybe<Scalars['String']['output']>;
  enabled: Scalars['Boolean']['output'];
  events: Array<WebhookEventType>;
  id: Scalars['ID']['output'];
  url: Scalars['String']['output'];
};


export type WebhookEndpointDeliveriesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type WebhookEventType =
  /** The notice that another endpoint was disabled (body type `endpoint.disabled`); sent to every enabled endpoint, not subscribable (addition). */
  | 'ENDPOINT_DISABLED'
  | 'MESSAGE_ABANDONED'
  | 'MESSAGE_BOUNCED'
  | 'MESSAGE_CANCELLED'
  | 'MESSAGE_COMPLAINED'
  | 'MESSAGE_DEFERRED'
  | 'MESSAGE_DELIVERED'
  | 'MESSAGE_QUEUED'
  | 'MESSAGE_SENT'
  | 'MESSAGE_SUPPRESSED'
  /** A delivery of sendTestWebhook (body type `webhook.test`); not an event an endpoint can subscribe to (addition). */
  | 'WEBHOOK_TEST';



export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  ApiToken: ResolverTypeWrapper<ApiTokenModel>;
  ApiTokenCreator: ApiTokenCreator;
  ApiTokenScope: ApiTokenScope;
  AttemptsCount: ResolverTypeWrapper<AttemptsCount>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  BounceType: BounceType;
  BulkActionResult: ResolverTypeWrapper<BulkActionResult>;
  ConfigureSmtpInput: ConfigureSmtpInput;
  ConfigureSmtpProviderInput: ConfigureSmtpProviderInput;
  CreateWebhookEndpointInput: CreateWebhookEndpointInput;
  CreatedApiToken: ResolverTypeWrapper<Omit<CreatedApiToken, 'apiToken'> & { apiToken: ResolversTypes['ApiToken'] }>;
  CreatedWebhookEndpoint: ResolverTypeWrapper<CreatedWebhookEndpointModel>;
  DeliveryError: ResolverTypeWrapper<DeliveryErrorModel>;
  DeliveryErrorCode: DeliveryErrorCode;
  DeliveryOutcome: DeliveryOutcome;
  DeliveryReport: ResolverTypeWrapper<DeliveryReportModel>;
  DeliveryReportSource: DeliveryReportSource;
  DeliveryStats: ResolverTypeWrapper<DeliveryStatsModel>;
  Dispatch: ResolverTypeWrapper<DispatchModel>;
  DkimInfo: ResolverTypeWrapper<DkimInfo>;
  DkimInput: DkimInput;
  DomainCount: ResolverTypeWrapper<DomainCount>;
  ErrorCodeCount: ResolverTypeWrapper<ErrorCodeCount>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  Header: ResolverTypeWrapper<Header>;
  HeaderInput: HeaderInput;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  LatencySummary: ResolverTypeWrapper<LatencySummary>;
  Message: ResolverTypeWrapper<MessageModel>;
  MessageConnection: ResolverTypeWrapper<MessageConnectionModel>;
  MessageEdge: ResolverTypeWrapper<Omit<MessageEdge, 'node'> & { node: ResolversTypes['Message'] }>;
  MessageEvent: ResolverTypeWrapper<MessageEventModel>;
  MessageFilter: MessageFilter;
  MessageStatus: MessageStatus;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SendEmailInput: SendEmailInput;
  SenderCheckName: SenderCheckName;
  SenderCheckStatus: SenderCheckStatus;
  SenderDomainCheck: ResolverTypeWrapper<SenderDomainCheck>;
  SenderDomainCheckItem: ResolverTypeWrapper<SenderDomainCheckItem>;
  SmtpAuthDetails: ResolverTypeWrapper<SmtpAuthDetails>;
  SmtpConfig: ResolverTypeWrapper<SmtpConfigModel>;
  SmtpConfigSource: SmtpConfigSource;
  SmtpProvider: ResolverTypeWrapper<SmtpProviderModel>;
  SmtpTlsDetails: ResolverTypeWrapper<SmtpTlsDetails>;
  SmtpVerification: ResolverTypeWrapper<SmtpVerificationModel>;
  SmtpVerificationStep: ResolverTypeWrapper<Omit<SmtpVerificationStep, 'error'> & { error?: Maybe<ResolversTypes['DeliveryError']> }>;
  SmtpVerificationStepName: SmtpVerificationStepName;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Suppression: ResolverTypeWrapper<SuppressionModel>;
  SuppressionConnection: ResolverTypeWrapper<SuppressionConnectionModel>;
  SuppressionEdge: ResolverTypeWrapper<SuppressionEdgeModel>;
  SuppressionReason: SuppressionReason;
  UnmatchedReport: ResolverTypeWrapper<UnmatchedReportModel>;
  Viewer: ResolverTypeWrapper<ViewerModel>;
  WebhookDelivery: ResolverTypeWrapper<WebhookDeliveryModel>;
  WebhookEndpoint: ResolverTypeWrapper<WebhookEndpointModel>;
  WebhookEventType: WebhookEventType;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  ApiToken: ApiTokenModel;
  AttemptsCount: AttemptsCount;
  Boolean: Scalars['Boolean']['output'];
  BulkActionResult: BulkActionResult;
  ConfigureSmtpInput: ConfigureSmtpInput;
  ConfigureSmtpProviderInput: ConfigureSmtpProviderInput;
  CreateWebhookEndpointInput: CreateWebhookEndpointInput;
  CreatedApiToken: Omit<CreatedApiToken, 'apiToken'> & { apiToken: ResolversParentTypes['ApiToken'] };
  CreatedWebhookEndpoint: CreatedWebhookEndpointModel;
  DeliveryError: DeliveryErrorModel;
  DeliveryReport: DeliveryReportModel;
  DeliveryStats: DeliveryStatsModel;
  Dispatch: DispatchModel;
  DkimInfo: DkimInfo;
  DkimInput: DkimInput;
  DomainCount: DomainCount;
  ErrorCodeCount: ErrorCodeCount;
  Float: Scalars['Float']['output'];
  Header: Header;
  HeaderInput: HeaderInput;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  LatencySummary: LatencySummary;
  Message: MessageModel;
  MessageConnection: MessageConnectionModel;
  MessageEdge: Omit<MessageEdge, 'node'> & { node: ResolversParentTypes['Message'] };
  MessageEvent: MessageEventModel;
  MessageFilter: MessageFilter;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  SendEmailInput: SendEmailInput;
  SenderDomainCheck: SenderDomainCheck;
  SenderDomainCheckItem: SenderDomainCheckItem;
  SmtpAuthDetails: SmtpAuthDetails;
  SmtpConfig: SmtpConfigModel;
  SmtpProvider: SmtpProviderModel;
  SmtpTlsDetails: SmtpTlsDetails;
  SmtpVerification: SmtpVerificationModel;
  SmtpVerificationStep: Omit<SmtpVerificationStep, 'error'> & { error?: Maybe<ResolversParentTypes['DeliveryError']> };
  String: Scalars['String']['output'];
  Subscription: Record<PropertyKey, never>;
  Suppression: SuppressionModel;
  SuppressionConnection: SuppressionConnectionModel;
  SuppressionEdge: SuppressionEdgeModel;
  UnmatchedReport: UnmatchedReportModel;
  Viewer: ViewerModel;
  WebhookDelivery: WebhookDeliveryModel;
  WebhookEndpoint: WebhookEndpointModel;
};

export type ApiTokenResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ApiToken'] = ResolversParentTypes['ApiToken']> = {
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdByTokenId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  createdVia?: Resolver<Maybe<ResolversTypes['ApiTokenCreator']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastUsedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revokedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  scope?: Resolver<ResolversTypes['ApiTokenScope'], ParentType, ContextType>;
};

export type AttemptsCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AttemptsCount'] = ResolversParentTypes['AttemptsCount']> = {
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  messages?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type BulkActionResultResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['BulkActionResult'] = ResolversParentTypes['BulkActionResult']> = {
  affected?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  skipped?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type CreatedApiTokenResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['CreatedApiToken'] = ResolversParentTypes['CreatedApiToken']> = {
  apiToken?: Resolver<ResolversTypes['ApiToken'], ParentType, ContextType>;
  token?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type CreatedWebhookEndpointResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['CreatedWebhookEndpoint'] = ResolversParentTypes['CreatedWebhookEndpoint']> = {
  endpoint?: Resolver<ResolversTypes['WebhookEndpoint'], ParentType, ContextType>;
  secret?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type DeliveryErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeliveryError'] = ResolversParentTypes['DeliveryError']> = {
  code?: Resolver<ResolversTypes['DeliveryErrorCode'], ParentType, ContextType>;
  command?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  enhancedStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  permanent?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  response?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  responseCode?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type DeliveryReportResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeliveryReport'] = ResolversParentTypes['DeliveryReport']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  bounceType?: Resolver<Maybe<ResolversTypes['BounceType']>, ParentType, ContextType>;
  diagnostic?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  enhancedStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  outcome?: Resolver<ResolversTypes['DeliveryOutcome'], ParentType, ContextType>;
  remoteMta?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  source?: Resolver<ResolversTypes['DeliveryReportSource'], ParentType, ContextType>;
};

export type DeliveryStatsResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeliveryStats'] = ResolversParentTypes['DeliveryStats']> = {
  abandoned?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  attemptsPerMessage?: Resolver<Array<ResolversTypes['AttemptsCount']>, ParentType, ContextType>;
  bounceRate?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  bouncedHard?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  bouncedSoft?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  cancelled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  complained?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  complaintRate?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  deferred?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  delivered?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failedAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failuresByCode?: Resolver<Array<ResolversTypes['ErrorCodeCount']>, ParentType, ContextType>;
  failuresByDomain?: Resolver<Array<ResolversTypes['DomainCount']>, ParentType, ContextType>;
  oldestQueuedAgeMs?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  processing?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  queueDepth?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  queued?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  retried?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  retryScheduled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sent?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  since?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  suppressed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  timeToSent?: Resolver<ResolversTypes['LatencySummary'], ParentType, ContextType>;
  unmatchedReports?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  until?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type DispatchResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Dispatch'] = ResolversParentTypes['Dispatch']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  durationMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  response?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  smtpConfigVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  succeeded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  transcript?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type DkimInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DkimInfo'] = ResolversParentTypes['DkimInfo']> = {
  dnsRecordName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  dnsRecordValue?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  domain?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  selector?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type DomainCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DomainCount'] = ResolversParentTypes['DomainCount']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  domain?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type ErrorCodeCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ErrorCodeCount'] = ResolversParentTypes['ErrorCodeCount']> = {
  code?: Resolver<ResolversTypes['DeliveryErrorCode'], ParentType, ContextType>;
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type HeaderResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Header'] = ResolversParentTypes['Header']> = {
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type LatencySummaryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['LatencySummary'] = ResolversParentTypes['LatencySummary']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  p50Ms?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  p95Ms?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  p99Ms?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type MessageResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Message'] = ResolversParentTypes['Message']> = {
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  dispatches?: Resolver<Array<ResolversTypes['Dispatch']>, ParentType, ContextType>;
  events?: Resolver<Array<ResolversTypes['MessageEvent']>, ParentType, ContextType>;
  headers?: Resolver<Array<ResolversTypes['Header']>, ParentType, ContextType>;
  html?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  idempotencyKey?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  maxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  messageId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  outcome?: Resolver<Maybe<ResolversTypes['DeliveryOutcome']>, ParentType, ContextType>;
  recipient?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  reports?: Resolver<Array<ResolversTypes['DeliveryReport']>, ParentType, ContextType>;
  smtpConfigVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['MessageStatus'], ParentType, ContextType>;
  subject?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  submittedBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  submittedOverSmtp?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  text?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MessageConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageConnection'] = ResolversParentTypes['MessageConnection']> = {
  edges?: Resolver<Array<ResolversTypes['MessageEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type MessageEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageEdge'] = ResolversParentTypes['MessageEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
};

export type MessageEventResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageEvent'] = ResolversParentTypes['MessageEvent']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  attempt?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
  outcome?: Resolver<Maybe<ResolversTypes['DeliveryOutcome']>, ParentType, ContextType>;
  previousStatus?: Resolver<Maybe<ResolversTypes['MessageStatus']>, ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  smtpConfigVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['MessageStatus'], ParentType, ContextType>;
};

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  addSuppression?: Resolver<ResolversTypes['Suppression'], ParentType, ContextType, RequireFields<MutationAddSuppressionArgs, 'address'>>;
  cancelMessage?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationCancelMessageArgs, 'id'>>;
  cancelMessages?: Resolver<ResolversTypes['BulkActionResult'], ParentType, ContextType, RequireFields<MutationCancelMessagesArgs, 'filter'>>;
  configureSmtp?: Resolver<ResolversTypes['SmtpConfig'], ParentType, ContextType, RequireFields<MutationConfigureSmtpArgs, 'input'>>;
  configureSmtpProvider?: Resolver<ResolversTypes['SmtpConfig'], ParentType, ContextType, RequireFields<MutationConfigureSmtpProviderArgs, 'input'>>;
  createApiToken?: Resolver<ResolversTypes['CreatedApiToken'], ParentType, ContextType, RequireFields<MutationCreateApiTokenArgs, 'name' | 'scope'>>;
  createWebhookEndpoint?: Resolver<ResolversTypes['CreatedWebhookEndpoint'], ParentType, ContextType, RequireFields<MutationCreateWebhookEndpointArgs, 'input'>>;
  deleteWebhookEndpoint?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteWebhookEndpointArgs, 'id'>>;
  redeliverWebhook?: Resolver<ResolversTypes['WebhookDelivery'], ParentType, ContextType, RequireFields<MutationRedeliverWebhookArgs, 'deliveryId'>>;
  removeSuppression?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationRemoveSuppressionArgs, 'address'>>;
  retryConfigurationFailures?: Resolver<ResolversTypes['BulkActionResult'], ParentType, ContextType, Partial<MutationRetryConfigurationFailuresArgs>>;
  retryMessage?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationRetryMessageArgs, 'id'>>;
  retryMessages?: Resolver<ResolversTypes['BulkActionResult'], ParentType, ContextType, RequireFields<MutationRetryMessagesArgs, 'filter'>>;
  revokeApiToken?: Resolver<ResolversTypes['ApiToken'], ParentType, ContextType, RequireFields<MutationRevokeApiTokenArgs, 'id'>>;
  rotateWebhookSecret?: Resolver<ResolversTypes['CreatedWebhookEndpoint'], ParentType, ContextType, RequireFields<MutationRotateWebhookSecretArgs, 'id'>>;
  sendEmail?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationSendEmailArgs, 'input'>>;
  sendEmails?: Resolver<Array<ResolversTypes['Message']>, ParentType, ContextType, RequireFields<MutationSendEmailsArgs, 'inputs'>>;
  sendTestEmail?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationSendTestEmailArgs, 'to'>>;
  sendTestWebhook?: Resolver<ResolversTypes['WebhookDelivery'], ParentType, ContextType, RequireFields<MutationSendTestWebhookArgs, 'id'>>;
  updateWebhookEndpoint?: Resolver<ResolversTypes['WebhookEndpoint'], ParentType, ContextType, RequireFields<MutationUpdateWebhookEndpointArgs, 'id'>>;
};

export type PageInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  apiTokens?: Resolver<Array<ResolversTypes['ApiToken']>, ParentType, ContextType>;
  checkSenderDomain?: Resolver<ResolversTypes['SenderDomainCheck'], ParentType, ContextType, Partial<QueryCheckSenderDomainArgs>>;
  deliveryStats?: Resolver<ResolversTypes['DeliveryStats'], ParentType, ContextType, Partial<QueryDeliveryStatsArgs>>;
  eventCursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  message?: Resolver<Maybe<ResolversTypes['Message']>, ParentType, ContextType, RequireFields<QueryMessageArgs, 'id'>>;
  messages?: Resolver<ResolversTypes['MessageConnection'], ParentType, ContextType, Partial<QueryMessagesArgs>>;
  smtpConfig?: Resolver<Maybe<ResolversTypes['SmtpConfig']>, ParentType, ContextType>;
  smtpConfigHistory?: Resolver<Array<ResolversTypes['SmtpConfig']>, ParentType, ContextType>;
  smtpProviders?: Resolver<Array<ResolversTypes['SmtpProvider']>, ParentType, ContextType>;
  suppressions?: Resolver<ResolversTypes['SuppressionConnection'], ParentType, ContextType, Partial<QuerySuppressionsArgs>>;
  unmatchedReports?: Resolver<Array<ResolversTypes['UnmatchedReport']>, ParentType, ContextType, Partial<QueryUnmatchedReportsArgs>>;
  verifySmtp?: Resolver<ResolversTypes['SmtpVerification'], ParentType, ContextType, Partial<QueryVerifySmtpArgs>>;
  viewer?: Resolver<ResolversTypes['Viewer'], ParentType, ContextType>;
  webhookEndpoints?: Resolver<Array<ResolversTypes['WebhookEndpoint']>, ParentType, ContextType>;
};

export type SenderDomainCheckResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SenderDomainCheck'] = ResolversParentTypes['SenderDomainCheck']> = {
  checks?: Resolver<Array<ResolversTypes['SenderDomainCheckItem']>, ParentType, ContextType>;
  domain?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ready?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type SenderDomainCheckItemResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SenderDomainCheckItem'] = ResolversParentTypes['SenderDomainCheckItem']> = {
  detail?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expected?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  found?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  hint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['SenderCheckName'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['SenderCheckStatus'], ParentType, ContextType>;
};

export type SmtpAuthDetailsResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpAuthDetails'] = ResolversParentTypes['SmtpAuthDetails']> = {
  accepted?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  mechanism?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  response?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type SmtpConfigResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpConfig'] = ResolversParentTypes['SmtpConfig']> = {
  connectionUri?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  dkim?: Resolver<Maybe<ResolversTypes['DkimInfo']>, ParentType, ContextType>;
  embedded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  fromAddress?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  fromName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  headers?: Resolver<Array<ResolversTypes['Header']>, ParentType, ContextType>;
  provider?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  source?: Resolver<ResolversTypes['SmtpConfigSource'], ParentType, ContextType>;
  version?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type SmtpProviderResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpProvider'] = ResolversParentTypes['SmtpProvider']> = {
  documentationNote?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  fixedUsername?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  host?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  passwordRule?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  port?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  security?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  usernameIsSecret?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  usernameRule?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type SmtpTlsDetailsResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpTlsDetails'] = ResolversParentTypes['SmtpTlsDetails']> = {
  cipher?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  issuer?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  nameChecked?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nameMatches?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  protocol?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  subject?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  subjectAltNames?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  trustError?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  trusted?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  validFrom?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  validTo?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  verificationSkipped?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type SmtpVerificationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpVerification'] = ResolversParentTypes['SmtpVerification']> = {
  connectionUri?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  steps?: Resolver<Array<ResolversTypes['SmtpVerificationStep']>, ParentType, ContextType>;
  totalDurationMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type SmtpVerificationStepResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpVerificationStep'] = ResolversParentTypes['SmtpVerificationStep']> = {
  addresses?: Resolver<Maybe<Array<ResolversTypes['String']>>, ParentType, ContextType>;
  auth?: Resolver<Maybe<ResolversTypes['SmtpAuthDetails']>, ParentType, ContextType>;
  authMechanisms?: Resolver<Maybe<Array<ResolversTypes['String']>>, ParentType, ContextType>;
  banner?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  detail?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  durationMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  extensions?: Resolver<Maybe<Array<ResolversTypes['String']>>, ParentType, ContextType>;
  maxMessageSize?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['SmtpVerificationStepName'], ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  pipelining?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  smtpUtf8?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  startTls?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  tls?: Resolver<Maybe<ResolversTypes['SmtpTlsDetails']>, ParentType, ContextType>;
};

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  messageEvents?: SubscriptionResolver<ResolversTypes['MessageEvent'], "messageEvents", ParentType, ContextType, Partial<SubscriptionMessageEventsArgs>>;
  queueStats?: SubscriptionResolver<ResolversTypes['DeliveryStats'], "queueStats", ParentType, ContextType, Partial<SubscriptionQueueStatsArgs>>;
};

export type SuppressionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Suppression'] = ResolversParentTypes['Suppression']> = {
  address?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  detail?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  message?: Resolver<Maybe<ResolversTypes['Message']>, ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['SuppressionReason'], ParentType, ContextType>;
};

export type SuppressionConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SuppressionConnection'] = ResolversParentTypes['SuppressionConnection']> = {
  edges?: Resolver<Array<ResolversTypes['SuppressionEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type SuppressionEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SuppressionEdge'] = ResolversParentTypes['SuppressionEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Suppression'], ParentType, ContextType>;
};

export type UnmatchedReportResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UnmatchedReport'] = ResolversParentTypes['UnmatchedReport']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  detail?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  outcome?: Resolver<ResolversTypes['DeliveryOutcome'], ParentType, ContextType>;
  recipient?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  source?: Resolver<ResolversTypes['DeliveryReportSource'], ParentType, ContextType>;
};

export type ViewerResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Viewer'] = ResolversParentTypes['Viewer']> = {
  scope?: Resolver<ResolversTypes['ApiTokenScope'], ParentType, ContextType>;
  tokenName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type WebhookDeliveryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['WebhookDelivery'] = ResolversParentTypes['WebhookDelivery']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  durationMs?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  eventType?: Resolver<ResolversTypes['WebhookEventType'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  responseBody?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  statusCode?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  succeeded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  webhookId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type WebhookEndpointResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['WebhookEndpoint'] = ResolversParentTypes['WebhookEndpoint']> = {
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  deliveries?: Resolver<Array<ResolversTypes['WebhookDelivery']>, ParentType, ContextType, Partial<WebhookEndpointDeliveriesArgs>>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  enabled?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  events?: Resolver<Array<ResolversTypes['WebhookEventType']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type Resolvers<ContextType = GraphQLContext> = {
  ApiToken?: ApiTokenResolvers<ContextType>;
  AttemptsCount?: AttemptsCountResolvers<ContextType>;
  BulkActionResult?: BulkActionResultResolvers<ContextType>;
  CreatedApiToken?: CreatedApiTokenResolvers<ContextType>;
  CreatedWebhookEndpoint?: CreatedWebhookEndpointResolvers<ContextType>;
  DeliveryError?: DeliveryErrorResolvers<ContextType>;
  DeliveryReport?: DeliveryReportResolvers<ContextType>;
  DeliveryStats?: DeliveryStatsResolvers<ContextType>;
  Dispatch?: DispatchResolvers<ContextType>;
  DkimInfo?: DkimInfoResolvers<ContextType>;
  DomainCount?: DomainCountResolvers<ContextType>;
  ErrorCodeCount?: ErrorCodeCountResolvers<ContextType>;
  Header?: HeaderResolvers<ContextType>;
  LatencySummary?: LatencySummaryResolvers<ContextType>;
  Message?: MessageResolvers<ContextType>;
  MessageConnection?: MessageConnectionResolvers<ContextType>;
  MessageEdge?: MessageEdgeResolvers<ContextType>;
  MessageEvent?: MessageEventResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  SenderDomainCheck?: SenderDomainCheckResolvers<ContextType>;
  SenderDomainCheckItem?: SenderDomainCheckItemResolvers<ContextType>;
  SmtpAuthDetails?: SmtpAuthDetailsResolvers<ContextType>;
  SmtpConfig?: SmtpConfigResolvers<ContextType>;
  SmtpProvider?: SmtpProviderResolvers<ContextType>;
  SmtpTlsDetails?: SmtpTlsDetailsResolvers<ContextType>;
  SmtpVerification?: SmtpVerificationResolvers<ContextType>;
  SmtpVerificationStep?: SmtpVerificationStepResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  Suppression?: SuppressionResolvers<ContextType>;
  SuppressionConnection?: SuppressionConnectionResolvers<ContextType>;
  SuppressionEdge?: SuppressionEdgeResolvers<ContextType>;
  UnmatchedReport?: UnmatchedReportResolvers<ContextType>;
  Viewer?: ViewerResolvers<ContextType>;
  WebhookDelivery?: WebhookDeliveryResolvers<ContextType>;
  WebhookEndpoint?: WebhookEndpointResolvers<ContextType>;
};

