import { scopedIdempotencyKey } from './idempotency-scope.ts';
import { createHash } from 'node:crypto';
import type {
  EnqueueResult,
  MessageListFilter,
  MessageStore,
  NewMessage,
  StoredTransition,
} from '../db/port.ts';
import type { DeliveryErrorCode } from '../domain/delivery-error.ts';
import {
  MESSAGE_STATUSES,
  type Header,
  type Message,
  type MessageEvent,
  type MessageStatus,
} from '../domain/message.ts';
import {
  addressProblem,
  headerProblems,
  isReservedHeader,
  LIMITS,
  singleLineProblem,
  type InputProblem,
} from './input-rules.ts';
import type { SmtpSettings } from './smtp-settings.ts';
import { timeOrderedMessageId } from './message-id.ts';

/** Who sends: shown with the message, and the scope its idempotency keys live in. */
export interface Caller {
  /** The caller's API token's name; null for none. */
  name: string | null;
  /** The caller's rate-limit key (auth/principal.ts's principalKey): one per token. */
  keyScope: string;
}
const NO_CALLER: Caller = { name: null, keyScope: 'anonymous' };

export interface SendEmailInput {
  to: string;
  subject: string;
  text?: string | null | undefined;
  html?: string | null | undefined;
  headers?: readonly Header[] | null | undefined;
  idempotencyKey?: string | null | undefined;
}

/** A message submitted over SMTP, read by smtp/submitted-mime.ts. */
export interface Submission {
  /** The accepted RCPT TO addresses: one message each. */
  recipients: readonly string[];
  /** The bytes to send (Bcc removed), shared by every recipient's message. */
  raw: Buffer;
  messageId: string;
  subject: string;
  text: string | null;
  html: string | null;
  /** The message's top-level headers; those the API would show as custom headers are kept. */
  headers: readonly Header[];
  /** The name of the token the client authenticated with. */
  submittedBy: string;
}

/** How many messages one sendEmails call may carry. */
export const MAX_MESSAGES_PER_CALL = 1_000;

export type SendManyResult =
  | { ok: true; messages: Message[] }
  | { ok: false; kind: 'invalid'; problems: InputProblem[] }
  | { ok: false; kind: 'idempotency_conflict'; index: number; message: Message }
  /** Two inputs of the call carry one key with different input: nothing was stored. */
  | { ok: false; kind: 'idempotency_conflict_in_call'; index: number; earlierIndex: number };

export type SendResult =
  | { ok: true; message: Message }
  | { ok: false; kind: 'invalid'; problems: InputProblem[] }
  | { ok: false; kind: 'idempotency_conflict'; message: Message };

export type TransitionResult =
  | { ok: true; message: Message }
  | { ok: false; kind: 'not_found' }
  | { ok: false; kind: 'conflict'; message: Message };

export interface OutboxDeps {
  /** Stores a listed address's message SUPPRESSED and sends nothing (NewMessage.suppressed). */
  messages: MessageStore;
  /** Where the events of each committed change go (the storage's feed, in log order). */
  publish: (events: readonly MessageEvent[]) => void;
  settings: SmtpSettings;
  maxAttempts: number;
  /** Called after something became due, so the worker need not wait for its next poll. */
  wakeWorker: () => void;
  /** sendEmail commits that may run at once (the storage's `concurrentWrites`). @default 1 */
  concurrentCommits?: number;
  now?: () => number;
}

/** Problems with one input, each naming its field within the input. */
export function sendInputProblems(input: SendEmailInput): InputProblem[] {
  const problems: InputProblem[] = [];
  const toProblem = addressProblem(input.to);
  if (toProblem) problems.push({ field: 'to', problem: toProblem });
  const subjectProblem = singleLineProblem(input.subject, LIMITS.subjectLength);
  if (subjectProblem) problems.push({ field: 'subject', problem: subjectProblem });
  const text = input.text ?? null;
  const html = input.html ?? null;
  if (text === null && html === null) {
    problems.push({ field: 'text', problem: 'give text, html or both' });
  }
  for (const [field, body] of [
    ['text', text],
    ['html', html],
  ] as const) {
    if (body !== null && Buffer.byteLength(body) > LIMITS.bodyBytes) {
      problems.push({ field, problem: `must be at most ${LIMITS.bodyBytes} bytes` });
    }
    // NUL cannot travel in an SMTP DATA section; servers cut or reject the message at it.
    if (body !== null && body.includes('\u0000')) {
      problems.push({ field, problem: 'must not contain NUL characters' });
    }
  }
  problems.push(...headerProblems(input.headers ?? [], 'headers'));
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > LIMITS.idempotencyKeyLength)) {
    problems.push({
      field: 'idempotencyKey',
      problem: `must be 1 to ${LIMITS.idempotencyKeyLength} characters`,
    });
  }
  return problems;
}

/** Problems with a sendEmails batch: its size, then each input's, with its index. */
export function sendManyInputProblems(inputs: readonly SendEmailInput[]): InputProblem[] {
  if (inputs.length === 0 || inputs.length > MAX_MESSAGES_PER_CALL) {
    const problem = `give 1 to ${MAX_MESSAGES_PER_CALL} messages, not ${inputs.length}`;
    return [{ field: '', problem }];
  }
  return inputs.flatMap((input, index) =>
    sendInputProblems(input).map((problem) => ({ ...problem, index })),
  );
}

/** Same input, same hash: tells a retried request from a different one reusing the key. */
function requestHash(input: SendEmailInput): string {
  const canonical = JSON.stringify([
    input.to,
    input.subject,
    input.text ?? null,
    input.html ?? null,
    (input.headers ?? []).map((header) => [header.name, header.value]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

export interface BulkResult {
  affected: number;
  skipped: number;
}

const BULK_CHUNK = 500;

/** Failures a configuration change may fix. */
const CONFIGURATION_FAILURES: DeliveryErrorCode[] = [
  'AUTH',
  'TLS',
  'CONNECTION',
  'TIMEOUT',
  'CONFIG',
];

function notChanged(result: Exclude<StoredTransition, { kind: 'changed' }>): TransitionResult {
  return result.kind === 'not_found'
    ? { ok: false, kind: 'not_found' }
    : { ok: false, kind: 'conflict', message: result.message };
}

/** Where messages enter and where people act on them: send, retry, cancel. */
export function createOutbox(deps: OutboxDeps) {
  const now = deps.now ?? Date.now;

  function messageIdDomain(): string {
    const from = deps.settings.current()?.fromAddress ?? 'mailscope.localhost';
    return from.slice(from.lastIndexOf('@') + 1);
  }

  // sendEmail calls share transactions (group commit): a commit per message would cap intake
  // well below what SMTP can carry. An idle outbox commits a call at once; calls that arrive
  // while the commits in flight run (or wait for the write lock or the WAL flush) go together
  // in the next one. SQLite has one writer, so one commit at a time; PostgreSQL takes several at
  // once, but each costs a WAL flush: another one starts only once enough calls wait to fill
  // it, so batches stay large at modest concurrency.
  const maxCommits = deps.concurrentCommits ?? 1;
  const PARALLEL_BATCH = 16;
  type Entry = { input: NewMessage; settle: (result: EnqueueResult | Error) => void };
  let gathering: Entry[] = [];
  let committing = 0;
  // Recipient and Message-ID of the submissions in `gathering`: one batch never holds the same
  // pair twice (a client sending a message again before the first copy is stored), since the
  // storage tells a batch's rows apart by that pair (db/postgres/queue.ts).
  let gatheringKeys = new Set<string>();
  let onBatchTaken: (() => void)[] = [];

  // What a commit sets off that no caller waits for: its events to the feed (counted, sent to
  // subscribers and webhooks) and the worker's wake. Run after the answers are on their way:
  // the callers' promises settle first, and their responses are written within the same turn
  // (microtasks), before this callback's turn comes. Batches keep their order (setImmediate
  // runs callbacks first in, first out), and the feed puts events of either thread in the
  // log's order whatever order they reach it in.
  let afterCommits: (readonly MessageEvent[])[] = [];
  function afterAnswers(events: readonly MessageEvent[]): void {
    if (afterCommits.push(events) > 1) return;
    setImmediate(() => {
      const committed = afterCommits;
      afterCommits = [];
      for (const batch of committed) deps.publish(batch);
      deps.wakeWorker();
    });
  }

  async function commitGathered(): Promise<void> {
    committing++;
    try {
      while (gathering.length > 0) {
        const batch = gathering;
        gathering = [];
        gatheringKeys = new Set();
        for (const taken of onBatchTaken.splice(0)) taken();
        let results: EnqueueResult[];
        try {
          // The storage looks the recipients up on the suppression list in the enqueue itself
          // (no round trip of its own); checked again when each message is claimed, so an
          // address listed in between is caught before anything is sent.
          results = await deps.messages.enqueueMany(
            batch.map((entry) => entry.input),
            now(),
          );
        } catch (error) {
          for (const entry of batch) entry.settle(error as Error);
          continue;
        }
        results.forEach((result, index) => batch[index]!.settle(result));
        const events = results.flatMap((result) =>
          result.kind === 'queued' ? [result.event] : [],
        );
        if (events.length > 0) afterAnswers(events);
      }
    } finally {
      committing--;
    }
  }

  /** Adds `inputs` to the next batch, all to the same one: they are stored together or not at all. */
  function gather(inputs: readonly NewMessage[]): Promise<EnqueueResult>[] {
    const results = inputs.map(
      (input) =>
        new Promise<EnqueueResult>((resolve, reject) =>
          gathering.push({
            input,
            settle: (result) => (result instanceof Error ? reject(result) : resolve(result)),
          }),
        ),
    );
    if (committing === 0) {
      // Idle: at once. Waiting for the end of the event loop's turn (setImmediate) gathered the
      // requests parsed in the same turn, but made a lone call wait behind every other callback
      // of the turn; those that come meanwhile share the next commit anyway.
      void commitGathered();
    } else if (committing < maxCommits && gathering.length >= PARALLEL_BATCH) {
      // Joins the next batch of a running commit, or starts one beside it when enough wait.
      void commitGathered();
    }
    return results;
  }

  function enqueue(input: NewMessage): Promise<EnqueueResult> {
    return gather([input])[0]!;
  }

  /**
   * Applies a bulk action in chunks of one transaction each, so a large action never holds the
   * write lock for long and sendEmail keeps flowing meanwhile.
   */
  async function applyInChunks(
    filter: MessageListFilter,
    applicable: readonly MessageStatus[],
    apply: (ids: readonly number[]) => Promise<{ event: MessageEvent }[]>,
  ): Promise<BulkResult> {
    const requested = filter.statuses ?? MESSAGE_STATUSES;
    const statuses = requested.filter((status) => applicable.includes(status));
    const matched = await deps.messages.countMatching(filter);
    let affected = 0;
    if (statuses.length > 0) {
      let afterId = 0;
      for (;;) {
        const ids = await deps.messages.idsMatching({ ...filter, statuses }, BULK_CHUNK, afterId);
        if (ids.length === 0) break;
        const changed = await apply(ids);
        deps.publish(changed.map((entry) => entry.event));
        affected += changed.length;
        afterId = ids.at(-1)!;
      }
    }
    return { affected, skipped: Math.max(0, matched - affected) };
  }

  function currentVersion(): number | null {
    return deps.settings.current()?.version ?? null;
  }

  function toNewMessage(
    input: SendEmailInput,
    domain: string,
    smtpConfigVersion: number | null,
    caller: Caller,
  ): NewMessage {
    const given = input.idempotencyKey ?? null;
    const key = given === null ? null : scopedIdempotencyKey(caller.keyScope, given);
    return {
      recipient: input.to,
      subject: input.subject,
      text: input.text ?? null,
      html: input.html ?? null,
      headers: [...(input.headers ?? [])],
      // Fixed now so every attempt (and any duplicate after a crash) carries the same id and
      // receivers can de-duplicate.
      messageId: timeOrderedMessageId(domain, now()),
      maxAttempts: deps.maxAttempts,
      idempotencyKey: key,
      requestHash: key === null ? null : requestHash(input),
      smtpConfigVersion,
      submittedBy: caller.name,
    };
  }

  async function retryMatching(filter: MessageListFilter): Promise<BulkResult> {
    const result = await applyInChunks(filter, ['ABANDONED', 'CANCELLED', 'SUPPRESSED'], (ids) =>
      deps.messages.retryMany(ids, deps.maxAttempts, now(), currentVersion()),
    );
    if (result.affected > 0) deps.wakeWorker();
    return result;
  }

  /** QUEUED messages held back by a configuration failure go now instead of after backoff. */
  async function expediteConfigurationFailures(): Promise<number> {
    const expedited = await deps.messages.expediteFailedWith(CONFIGURATION_FAILURES, now());
    if (expedited > 0) deps.wakeWorker();
    return expedited;
  }

  return {
    async send(input: SendEmailInput, caller: Caller = NO_CALLER): Promise<SendResult> {
      const problems = sendInputProblems(input);
      if (problems.length > 0) return { ok: false, kind: 'invalid', problems };
      // A refused write (database locked or full) rejects the whole batch: nothing of it was
      // stored, and the GraphQL edge reports it as SERVICE_UNAVAILABLE (storage-failure.ts).
      const result = await enqueue(
        toNewMessage(input, messageIdDomain(), currentVersion(), caller),
      );
      if (result.kind === 'conflict') {
        return { ok: false, kind: 'idempotency_conflict', message: result.message };
      }
      return { ok: true, message: result.message };
    },

    /**
     * send() for up to MAX_MESSAGES_PER_CALL inputs in one transaction, all or nothing: any
     * invalid input, or a key reused with different input, stores none of them.
     */
    async sendMany(
      inputs: readonly SendEmailInput[],
      caller: Caller = NO_CALLER,
    ): Promise<SendManyResult> {
      const problems = sendManyInputProblems(inputs);
      if (problems.length > 0) return { ok: false, kind: 'invalid', problems };
      // Caught before storing: the storage would find the first one's message, which the
      // rollback then removes, and the error would name a message that never existed.
      const firstWithKey = new Map<string, { index: number; hash: string }>();
      for (const [index, input] of inputs.entries()) {
        const key = input.idempotencyKey ?? null;
        if (key === null) continue;
        const hash = requestHash(input);
        const earlier = firstWithKey.get(key);
        if (earlier === undefined) firstWithKey.set(key, { index, hash });
        else if (earlier.hash !== hash) {
          return {
            ok: false,
            kind: 'idempotency_conflict_in_call',
            index,
            earlierIndex: earlier.index,
          };
        }
      }
      const domain = messageIdDomain();
      const version = currentVersion();
      // Listed recipients are stored SUPPRESSED by the storage (NewMessage.suppressed).
      const stored = await deps.messages.enqueueAll(
        inputs.map((input) => toNewMessage(input, domain, version, caller)),
        now(),
      );
      if (!stored.ok) {
        return {
          ok: false,
          kind: 'idempotency_conflict',
          index: stored.conflictIndex,
          message: stored.message,
        };
      }
      const events = stored.results.flatMap((result) =>
        result.kind === 'queued' ? [result.event] : [],
      );
      deps.publish(events);
      if (events.length > 0) deps.wakeWorker();
      return { ok: true, messages: stored.results.map((result) => result.message) };
    },

    /**
     * Stores one QUEUED message per recipient of a message submitted over SMTP, all in one
     * transaction: once this resolves, nothing of it can be lost. Rejects when storage refuses.
     */
    async submit(submission: Submission): Promise<Message[]> {
      const version = currentVersion();
      // What the API shows as custom headers: those sendEmail could have set, within its limits.
      const headers = submission.headers
        .filter((h) => h.name.toLowerCase() !== 'subject' && !isReservedHeader(h.name))
        .filter((h) => headerProblems([h], 'h').length === 0)
        .slice(0, LIMITS.headerCount);
      const subject = submission.subject.replace(/[\r\n]+/g, ' ').slice(0, LIMITS.subjectLength);
      const seen = new Set<string>();
      const recipients = submission.recipients.filter((to) => {
        const key = to.toLowerCase();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const keys = recipients.map((to) => `${to.toLowerCase()}\n${submission.messageId}`);
      while (keys.some((key) => gatheringKeys.has(key))) {
        await new Promise<void>((resolve) => onBatchTaken.push(resolve));
      }
      for (const key of keys) gatheringKeys.add(key);
      // Group commit, as sendEmail: one transaction per submission would cap intake at a few
      // hundred a second (one WAL flush each).
      const stored = await Promise.all(
        gather(
          recipients.map((to) => ({
            recipient: to,
            subject,
            text: submission.text,
            html: submission.html,
            headers,
            messageId: submission.messageId,
            maxAttempts: deps.maxAttempts,
            idempotencyKey: null,
            requestHash: null,
            smtpConfigVersion: version,
            rawMime: submission.raw,
            submittedBy: submission.submittedBy,
          })),
        ),
      );
      // The batch's commit published the events and woke the worker.
      return stored.map((result) => result.message);
    },

    /** A Message-ID in the domain messages are sent from, for a submission that has none. */
    newMessageId(): string {
      return timeOrderedMessageId(messageIdDomain(), now());
    },

    /** ABANDONED, CANCELLED, or SUPPRESSED once the address is off the list -> QUEUED. */
    async retry(id: number): Promise<TransitionResult> {
      const result = await deps.messages.retry(id, deps.maxAttempts, now(), currentVersion());
      if (result.kind !== 'changed') return notChanged(result);
      deps.publish([result.event]);
      deps.wakeWorker();
      return { ok: true, message: result.message };
    },

    /** retry() for every ABANDONED or CANCELLED message matching `filter`. */
    retryMatching,

    /** cancel() for every QUEUED message matching `filter`. */
    cancelMatching(filter: MessageListFilter): Promise<BulkResult> {
      return applyInChunks(filter, ['QUEUED'], (ids) =>
        deps.messages.cancelMany(ids, now(), currentVersion()),
      );
    },

    /**
     * After a configuration fix: retries ABANDONED messages whose last attempt failed in a way
     * the configuration may have caused, at or after `sinceMs` (default: when the configuration
     * before the current one was stored, i.e. failures under the old one).
     */
    async retryConfigurationFailures(sinceMs: number | null): Promise<BulkResult> {
      const since = sinceMs ?? (await deps.settings.history())[1]?.createdAtMs ?? 0;
      const expedited = await expediteConfigurationFailures();
      // Only ABANDONED: a CANCELLED message was stopped on purpose, whatever it failed with.
      const retried = await retryMatching({
        statuses: ['ABANDONED'],
        lastErrorCodes: CONFIGURATION_FAILURES,
        updatedAfterMs: since,
      });
      return { affected: retried.affected + expedited, skipped: 0 };
    },

    /**
     * A new SMTP configuration is in use: messages whose last attempt failed in a way the
     * configuration may have caused go now instead of waiting out their backoff.
     */
    configurationChanged(): Promise<number> {
      return expediteConfigurationFailures();
    },

    async cancel(id: number): Promise<TransitionResult> {
      const result = await deps.messages.cancel(id, now(), currentVersion());
      if (result.kind !== 'changed') return notChanged(result);
      deps.publish([result.event]);
      return { ok: true, message: result.message };
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
