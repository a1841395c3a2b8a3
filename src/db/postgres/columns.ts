// Select lists that name columns as the shared row types do (rows.ts), so a row read here maps
// to domain types through the same functions as SQLite's. `prefix` qualifies them in joins.

const list = (columns: Record<string, string>, prefix: string) =>
  Object.entries(columns)
    .map(([alias, column]) => `${prefix}${column} AS "${alias}"`)
    .join(', ');

const MESSAGE = {
  id: 'id',
  recipient: 'recipient',
  subject: 'subject',
  text: 'text',
  html: 'html',
  headers: 'headers',
  status: 'status',
  attempts: 'attempts',
  maxAttempts: 'max_attempts',
  attemptsAtRetry: 'attempts_at_retry',
  messageId: 'message_id',
  idempotencyKey: 'idempotency_key',
  requestHash: 'request_hash',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  nextAttemptAt: 'next_attempt_at',
  leaseExpiresAt: 'lease_expires_at',
  lastError: 'last_error',
  smtpConfigVersion: 'smtp_config_version',
  outcome: 'outcome',
  submissionId: 'submission_id',
  submittedBy: 'submitted_by',
};

const EVENT = {
  seq: 'seq',
  xid: 'xid',
  messageId: 'message_id',
  at: 'at',
  status: 'status',
  previousStatus: 'previous_status',
  reason: 'reason',
  attempt: 'attempt',
  error: 'error',
  smtpConfigVersion: 'smtp_config_version',
  outcome: 'outcome',
  report: 'report',
};

const DISPATCH = {
  messageId: 'message_id',
  attempt: 'attempt',
  succeeded: 'succeeded',
  at: 'at',
  durationMs: 'duration_ms',
  response: 'response',
  error: 'error',
  smtpConfigVersion: 'smtp_config_version',
  transcript: 'transcript',
};

/**
 * A message as reads see it. The submitted bytes live in `submissions` (up to
 * SUBMISSION_MAX_BYTES each, stored once per submission): a page of messages, or the feed's
 * reads, never carry them.
 */
export const messageColumns = (prefix = '') => list(MESSAGE, prefix);
/** With the submitted MIME bytes: only where the message is about to be sent (its claim). */
export const messageColumnsWithRaw = (prefix = '') =>
  `${messageColumns(prefix)}, (SELECT s.raw FROM submissions s WHERE s.id = ${prefix}submission_id) AS "rawMime"`;
export const eventColumns = (prefix = '') => list(EVENT, prefix);
export const dispatchColumns = (prefix = '') => list(DISPATCH, prefix);
