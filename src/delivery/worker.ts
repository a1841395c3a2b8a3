import type { Verp } from '../smtp/verp.ts';
import { correlationStamps, stampRawMessage } from '../smtp/correlation-stamps.ts';
import type {
  AttemptRecord,
  ClaimedMessage,
  MessageStore,
  RecordAndClaimResult,
} from '../db/port.ts';
import type { DeliveryError } from '../domain/delivery-error.ts';
import type { Header, Message, MessageEvent } from '../domain/message.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { SendOutcome, SmtpTransports } from '../smtp/transport.ts';
import { retryDelayMs } from './backoff.ts';
import type { ActiveSmtpSettings, SmtpSettings } from './smtp-settings.ts';

export interface WorkerOptions {
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Sends in flight at once; also the largest claim batch. */
  concurrency: number;
  /** Longest wait between looks at the queue when nothing is due. @default 1_000 */
  idlePollMs?: number;
  /** How long close() lets in-flight sends finish before releasing them. @default 5_000 */
  shutdownGraceMs?: number;
  /** How long finished sends wait to be recorded together. @default 5 */
  batchWindowMs?: number;
  /**
   * First wait before writing again after the database refused a write (locked, disk full);
   * doubles up to 5 s. @default 100
   */
  storageRetryMs?: number;
}

export interface WorkerDeps {
  messages: MessageStore;
  settings: SmtpSettings;
  transports: SmtpTransports;
  /** Where committed events go (the worker never listens to any). */
  publish: (events: readonly MessageEvent[]) => void;
  options: WorkerOptions;
  /**
   * With BOUNCE_DOMAIN: each message's envelope sender (and DSN ENVID) names it, so its
   * bounces find it. @default null
   */
  verp?: Verp | null;
  /**
   * SES_CONFIGURATION_SET: sent with mail through SES, with the correlation stamps every known
   * provider gets (correlation-stamps.ts). @default null
   */
  sesConfigurationSet?: string | null;
  /** Where the worker reports its own bugs. @default an error-level logger on stdout */
  log?: Logger;
  /** Wall-clock time: due times and leases are stored as wall time, shared across restarts. */
  now?: () => number;
  random?: () => number;
  /** Told about each failed write of the worker's bookkeeping. @default logs it */
  onStorageError?: (error: unknown, unrecorded: number) => void;
  /**
   * Told when the worker's backlog begins or ends (only on a change, never per message):
   * backlogged while due mail waits that it had no room to claim. Outgoing webhooks yield to
   * mail meanwhile (webhooks/yield-to-mail.ts). @default nobody
   */
  onBacklog?: (backlogged: boolean) => void;
  /**
   * Told when a cycle is scheduled to run within the batch window, and when a cycle starts: from
   * the one to the other, whatever is committed will be claimed by that cycle, so the thread
   * that commits need not wake the worker (wake-signal.ts's `hold` and `caughtUp`). @default
   * nobody
   */
  onCycleScheduled?: () => void;
  onCycleStart?: () => void;
}

export interface DeliveryWorker {
  /** Something may be due now: look at the queue soon. */
  wake(): void;
  /** Stops claiming, lets in-flight sends finish (up to the grace period), releases the rest. */
  close(): Promise<void>;
}

const NOT_CONFIGURED: DeliveryError = {
  code: 'CONFIG',
  message: 'no SMTP server is configured and the embedded development server is off',
  responseCode: null,
  enhancedStatus: null,
  command: null,
  response: null,
  permanent: false,
  hint: 'Configure one with the configureSmtp mutation or SMTP_CONNECTION_URI; queued mail is sent once it is.',
};

/** Adds what happens next to the hint: when the retry is due, or that the budget ran out. */
function withOutlook(
  error: DeliveryError,
  next: AttemptRecord['next'],
  message: Message,
  attempt: number,
): DeliveryError {
  let outlook: string;
  if (next.status === 'QUEUED') {
    const budgetEnd = message.attemptsAtRetry + message.maxAttempts;
    outlook = `Will retry at ${new Date(next.nextAttemptAtMs).toISOString()} (attempt ${attempt + 1} of ${budgetEnd}).`;
  } else if (next.status === 'ABANDONED' && next.reason === 'attempts_exhausted') {
    outlook = `Gave up after ${attempt} attempts; retryMessage sends it again with a fresh budget.`;
  } else {
    return error;
  }
  return { ...error, hint: error.hint ? `${error.hint} ${outlook}` : outlook };
}

interface InFlight {
  claim: ClaimedMessage;
  done: Promise<void>;
  /**
   * When (performance.now()) the transaction that granted or last renewed its lease began: the
   * lease runs at least `leaseMs` from then, whatever either clock says.
   */
  leaseConfirmedAtMs: number;
  /** Its SMTP transaction started (mayStart said yes): the server may have it, whatever follows. */
  transactionStarted?: true;
}

/**
 * The queue's consumer: claims due messages with a lease, sends them concurrently through pooled
 * transports, and records each attempt. Results are written in batches (one transaction per
 * turn of the event loop) because per-message commits would cap throughput well below SMTP's.
 *
 * Faults it is built to survive (test/faults/ proves each):
 * - The database refuses a write (locked past busy_timeout, disk full): the outcomes of sends
 *   that already happened stay in memory and the write is retried with back-off; their messages
 *   stay in `inFlight`, so this process never claims and sends them again. A message is never
 *   SENT unless that was recorded. If the process dies before the write succeeds, the message
 *   is still PROCESSING and is sent again once its lease runs out: at least once, never lost.
 * - Clock jumps. Leases and due times are wall time stored in SQLite (they must outlive the
 *   process); waits between cycles are setTimeout (monotonic). The lease value a claim granted
 *   is its token: a record or release only applies while the row still carries it, so a lease
 *   re-claimed by someone else can never be recorded twice. Own sends are excluded from
 *   re-claiming whatever the clock says, so a forward jump cannot steal a live lease here. A
 *   lease or due time further ahead than this worker could ever have set means the clock went
 *   back: the claim treats it as due now instead of stranding the message (message-queue-
 *   statements.ts). That reading assumes one delivery worker per database file, as SQLite
 *   runs; on PostgreSQL leases and due times are on the database's clock instead, so several
 *   instances with skewed clocks never take each other's live leases.
 */
export function createDeliveryWorker(deps: WorkerDeps): DeliveryWorker {
  const { messages, settings, transports, publish, options } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const log = deps.log ?? createLogger({ level: 'error', name: 'delivery' });
  const idlePollMs = options.idlePollMs ?? 1_000;
  const graceMs = options.shutdownGraceMs ?? 5_000;
  const storageRetryMs = options.storageRetryMs ?? 100;
  /** The wait before the next try after `failures` failed reads or writes in a row. */
  const backOffMs = (failures: number) => Math.min(5_000, storageRetryMs * 2 ** (failures - 1));
  const verp = deps.verp ?? null;
  const sesConfigurationSet = deps.sesConfigurationSet ?? null;
  /** The correlation stamps for message `id` sent with `via`, given the headers it carries. */
  const stampsFor = (via: ActiveSmtpSettings, id: number, headers: readonly Header[]) =>
    correlationStamps(via.endpoint.host, id, headers, {
      sesConfigurationSet,
      preset: via.provider,
    });
  const onStorageError =
    deps.onStorageError ??
    ((error: unknown, unrecorded: number) =>
      log.error(
        { err: error instanceof Error ? error.message : error, unrecorded },
        'delivery worker: could not write to the database; attempt outcomes kept, retrying',
      ));
  // No due time this worker sets lies further ahead than this (longest backoff with its jitter,
  // after a send that took at most its lease): one that does was set before the clock went back.
  const horizonMs = options.retryMaxMs + options.leaseMs;
  // Leases of sends in flight are renewed this often, so a slow send never loses its message
  // to another instance (or, after a crash, the message waits at most one lease).
  const renewEveryMs = Math.max(1, Math.floor(options.leaseMs / 3));
  let renewedAtMs = Number.NEGATIVE_INFINITY;

  const inFlight = new Map<number, InFlight>();
  let pending: AttemptRecord[] = [];
  let cycleScheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let closing = false;
  let activeKey: string | null = null;
  // Set once close() has released what was left: results arriving later belong to no one.
  let closed = false;
  // Consecutive failed writes; while above zero, only the back-off timer runs a cycle.
  let storageFailures = 0;
  // One cycle at a time: a cycle asked for while one runs follows it. close() takes over.
  let running: Promise<void> | null = null;
  let again = false;
  let closeOwnsCycles = false;
  let backlogged = false;

  /**
   * A claim that filled every free slot may have left due mail behind (the claim is a LIMIT),
   * and a cycle with no free slot while mail is due certainly has; a claim with room to spare
   * took everything due. So the state follows each cycle's claim: it changes at most once a
   * cycle, not with every message.
   */
  function setBacklogged(value: boolean): void {
    if (value === backlogged) return;
    backlogged = value;
    deps.onBacklog?.(value);
  }

  function runCycle(): void {
    if (closeOwnsCycles) return;
    if (running) {
      again = true;
      return;
    }
    running = cycle()
      .catch((error: unknown) => log.error({ err: error }, 'delivery worker: cycle failed'))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          runCycle();
        }
      });
  }

  function decide(
    message: Message,
    attempt: number,
    outcome: SendOutcome,
    atMs: number,
  ): AttemptRecord['next'] {
    if (outcome.ok) return { status: 'SENT', reason: 'sent' };
    if (outcome.error.permanent) return { status: 'ABANDONED', reason: 'failed_permanently' };
    const attemptsInBudget = attempt - message.attemptsAtRetry;
    if (attemptsInBudget >= message.maxAttempts) {
      return { status: 'ABANDONED', reason: 'attempts_exhausted' };
    }
    const delayMs = retryDelayMs(attemptsInBudget, options.retryBaseMs, options.retryMaxMs, random);
    return {
      status: 'QUEUED',
      reason: 'retry_scheduled',
      delayMs,
      nextAttemptAtMs: atMs + outcome.durationMs + delayMs,
    };
  }

  /**
   * Whether the SMTP transaction for `claim` may start now: the claim is still this worker's,
   * and its lease was granted or renewed within half a lease. While the database does not
   * answer, renewals fail; a send that waited that long for a connection could otherwise start
   * after the lease ran out, while another instance that claimed the message sends it too.
   */
  function mayStart(claim: ClaimedMessage): boolean {
    const entry = inFlight.get(claim.message.id);
    const may =
      // Once close() has begun nothing new starts: a send begun in the grace period may not end
      // in it, and what is released unfinished is sent again by the next start.
      !closing &&
      entry !== undefined &&
      entry.claim === claim &&
      performance.now() - entry.leaseConfirmedAtMs < options.leaseMs / 2;
    if (may) entry.transactionStarted = true;
    return may;
  }

  async function deliver(claim: ClaimedMessage, active: ActiveSmtpSettings | null): Promise<void> {
    const { message } = claim;
    const attempt = message.attempts + 1;
    const atMs = now();
    const outcome: SendOutcome | null =
      active === null
        ? { ok: false, error: NOT_CONFIGURED, durationMs: 0, transcript: null }
        : await transports.send(
            active.key,
            active.endpoint,
            {
              from: { address: active.fromAddress, name: active.fromName },
              to: message.recipient,
              subject: message.subject,
              text: message.text,
              html: message.html,
              // Configuration headers first, so a message's own header wins where both set one.
              headers: [...active.headers, ...message.headers],
              stamps: stampsFor(active, message.id, [...active.headers, ...message.headers]),
              messageId: message.messageId,
              raw:
                message.rawMime &&
                stampRawMessage(message.rawMime, stampsFor(active, message.id, [])),
              dkim: active.dkimKey,
              returnPath: verp
                ? { address: verp.address(message.id), envid: verp.token(message.id) }
                : null,
            },
            () => mayStart(claim),
          );
    if (closed) return;
    // Not started because the worker is closing: close() releases it with the others.
    if (outcome === null && closing) return;
    if (outcome === null) {
      // Not sent: left PROCESSING under its lease, which runs out and lets it be claimed again
      // (here or elsewhere). Nothing to record: no attempt was made.
      if (inFlight.get(message.id)?.claim === claim) inFlight.delete(message.id);
      log.warn(
        { id: message.id, attempt },
        `message ${message.id}: not sent, its lease went unrenewed for half its length (the database did not answer); it is sent once claimed again`,
      );
      return;
    }
    const next = decide(message, attempt, outcome, atMs);
    pending.push({
      messageId: message.id,
      leaseExpiresAtMs: message.leaseExpiresAtMs!,
      attempt,
      atMs,
      durationMs: Math.round(outcome.durationMs),
      smtpConfigVersion: active?.version ?? null,
      response: outcome.ok ? outcome.response : null,
      error: outcome.ok ? null : withOutlook(outcome.error, next, message, attempt),
      transcript: outcome.transcript ?? null,
      claimed: { createdAtMs: message.createdAtMs, recipient: message.recipient },
      next,
    });
    scheduleCycle();
  }

  /**
   * Attempts the store did not record (each recorded one has its event): their message had
   * been claimed again after the lease ran out, so that claim owns it and the outcome here is
   * dropped. The recipient may get the message twice; the log is where that shows.
   */
  function reportUnrecorded(records: readonly AttemptRecord[], events: readonly MessageEvent[]) {
    if (records.length === 0) return;
    const recorded = new Set(events.map((event) => event.messageId));
    for (const record of records) {
      if (recorded.has(record.messageId)) continue;
      const outcome = record.error === null ? 'sent' : `failed (${record.error.code})`;
      log.warn(
        { id: record.messageId, attempt: record.attempt, errorCode: record.error?.code ?? null },
        `message ${record.messageId}: attempt ${record.attempt} ${outcome} but not recorded: its lease ran out meanwhile and the message was claimed again, so it may be delivered twice`,
      );
    }
  }

  /**
   * One turn of the worker: record the attempts that finished since the last turn and claim as
   * many due messages as there is room for, in one transaction; then start sending the claims.
   */
  async function cycle(): Promise<void> {
    cycleScheduled = false;
    if (closed) return;
    // Before the claim below: it sees everything committed until now.
    deps.onCycleStart?.();
    if (timer) clearTimeout(timer);
    timer = null;
    const records = pending;
    pending = [];
    let active = closing ? null : settings.current();
    // The recorded messages leave inFlight only once the write commits.
    const capacity = closing ? 0 : options.concurrency - (inFlight.size - records.length);
    const nowMs = now();
    const renewing = !closing && performance.now() - renewedAtMs >= renewEveryMs;
    const recorded = new Set(records.map((record) => record.messageId));
    const renew = renewing
      ? [...inFlight.values()]
          .filter((entry) => !recorded.has(entry.claim.message.id))
          .map(({ claim }) => ({
            messageId: claim.message.id,
            leaseExpiresAtMs: claim.message.leaseExpiresAtMs!,
          }))
      : [];
    let written: RecordAndClaimResult;
    const transactionBeganAtMs = performance.now();
    try {
      written = await messages.recordAndClaim(records, {
        nowMs,
        leaseMs: options.leaseMs,
        limit: capacity,
        smtpConfigVersion: active?.version ?? null,
        excludeIds: [...inFlight.keys()],
        horizonMs,
        ...(renew.length > 0 ? { renew } : {}),
      });
    } catch (error) {
      // Nothing of the transaction was written. The outcomes are kept, and their messages stay
      // in inFlight (so they are not claimed and sent again): the write is retried, not the send.
      pending = [...records, ...pending];
      storageFailures++;
      onStorageError(error, pending.length);
      if (timer) clearTimeout(timer);
      timer = setTimeout(runCycle, backOffMs(storageFailures));
      return;
    }
    storageFailures = 0;
    if (renewing) renewedAtMs = performance.now();
    for (const record of records) inFlight.delete(record.messageId);
    if (written.renewed.length > 0) {
      // The new lease is the token from now on: for the send still going, and for an outcome
      // that came in while this cycle ran.
      const renewed = new Map(written.renewed.map((r) => [r.messageId, r.leaseExpiresAtMs]));
      for (const [id, entry] of inFlight) {
        const lease = renewed.get(id);
        if (lease === undefined) continue;
        entry.claim.message.leaseExpiresAtMs = lease;
        entry.leaseConfirmedAtMs = transactionBeganAtMs;
      }
      for (const record of pending) {
        record.leaseExpiresAtMs = renewed.get(record.messageId) ?? record.leaseExpiresAtMs;
      }
    }
    const { events, claimed } = written;
    reportUnrecorded(records, events);
    // In the log's order: messages the suppression list stopped during the claim have their
    // events among the claims'.
    publish(
      [...events, ...claimed.map((claim) => claim.event)].sort(
        (a, b) => a.xid - b.xid || a.seq - b.seq,
      ),
    );
    if (closing) return;
    // Claims that must wait for a configuration this worker could not read yet; else null.
    let readable: Promise<ActiveSmtpSettings | null> | null = null;
    if (written.configVersion !== null && written.configVersion !== (active?.version ?? null)) {
      // A configuration newer than ours was stored (on another instance, or before our news
      // of it arrived): what was just claimed may only go out with it.
      try {
        await settings.refresh();
        active = settings.current();
      } catch (error) {
        log.error({ err: error }, 'delivery worker: could not read the new SMTP configuration');
        readable = untilConfigReadable();
      }
    }
    if (active && active.key !== activeKey) {
      // The configuration changed: connections of older versions are closed once idle.
      activeKey = active.key;
      transports.retainOnly(new Set([active.key]));
    }
    for (const claim of claimed) {
      const sent =
        readable === null
          ? deliver(claim, active)
          : readable.then((read) => (closing ? undefined : deliver(claim, read)));
      const done = sent.catch((error: unknown) => {
        // transports.send never rejects; reaching here is a bug worth a loud line, and the
        // lease makes sure the message is tried again.
        log.error({ err: error, id: claim.message.id }, 'delivery worker: unexpected error');
      });
      inFlight.set(claim.message.id, { claim, done, leaseConfirmedAtMs: transactionBeganAtMs });
    }
    // A full batch means more may be waiting: finishing sends will run the next cycle, or,
    // should they all take long, the renewal of their leases.
    if (claimed.length > 0 && claimed.length === capacity) {
      setBacklogged(true);
      if (timer) clearTimeout(timer);
      timer = setTimeout(runCycle, renewEveryMs);
      return;
    }
    let dueInMs: number | null = null;
    if (written.dueInMs !== undefined) dueInMs = written.dueInMs;
    else {
      try {
        dueInMs = await messages.nextDueInMs(nowMs);
      } catch (error) {
        onStorageError(error, 0); // only a read: the next poll looks again
      }
    }
    if (closed || closing) return;
    // No room, and mail is due: it waits for our sends. Room and a short claim: nothing waits
    // (what is due and unclaimed then is one of our own sends, below).
    setBacklogged(capacity <= 0 && dueInMs !== null && dueInMs <= 0);
    // Something due that this cycle did not claim is one of our own sends whose lease ran out
    // (a slow send, or the clock jumped forward): its completion runs the next cycle, so
    // polling for it would only spin.
    const stale = dueInMs !== null && dueInMs <= 0 && claimed.length === 0;
    let wait = dueInMs === null || stale ? idlePollMs : Math.min(idlePollMs, dueInMs);
    if (inFlight.size > 0) wait = Math.min(wait, renewEveryMs);
    if (timer) clearTimeout(timer);
    timer = setTimeout(runCycle, Math.max(1, wait));
  }

  /**
   * The newest configuration once it can be read, or once the worker closes (then nothing is
   * sent with it, and the claims are released as on any shutdown). Claims whose events name a
   * configuration this worker could not read (the database failed right after the claim) wait
   * for it in flight, their leases renewed like any send's: sent with an older one they would
   * reach a server the operator has just replaced, under a version their events do not name;
   * handed back, a failure that lasts would claim and release them again and again. One wait
   * for all of them, read again with the storage back-off.
   */
  let configWait: Promise<ActiveSmtpSettings | null> | null = null;
  function untilConfigReadable(): Promise<ActiveSmtpSettings | null> {
    configWait ??= (async () => {
      for (let failures = 1; ; failures++) {
        await new Promise((resolve) => setTimeout(resolve, backOffMs(failures)));
        if (closing) return null;
        try {
          await settings.refresh();
          return settings.current();
        } catch (error) {
          log.error({ err: error }, 'delivery worker: could not read the new SMTP configuration');
        }
      }
    })().finally(() => {
      configWait = null;
    });
    return configWait;
  }

  function scheduleCycle(): void {
    // While writes are failing, only the back-off timer retries them.
    if (cycleScheduled || closed || storageFailures > 0) return;
    cycleScheduled = true;
    deps.onCycleScheduled?.();
    // Sends finish one by one; gathering those of the next few milliseconds into one commit
    // writes each hot page (indexes, counters) once per batch instead of once per message.
    setTimeout(runCycle, options.batchWindowMs ?? 5);
  }

  scheduleCycle();

  return {
    wake: () => {
      if (!closing) scheduleCycle();
    },

    async close() {
      closing = true;
      log.info(
        { inFlight: inFlight.size, graceMs },
        `delivery: stopping; no new SMTP transaction starts, ${inFlight.size} claimed message(s) get up to ${graceMs} ms`,
      );
      setBacklogged(false); // nothing more is claimed: nothing to yield to
      if (timer) clearTimeout(timer);
      timer = null;
      const settled = Promise.all([...inFlight.values()].map((entry) => entry.done));
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, graceMs);
      });
      await Promise.race([settled, grace]);
      clearTimeout(graceTimer);
      // From here on close() runs the cycles itself, after the one in progress.
      closeOwnsCycles = true;
      await running;
      const stopTimer = () => {
        if (timer) clearTimeout(timer);
        timer = null;
      };
      stopTimer();
      await cycle(); // records what finished; claims nothing while closing
      if (storageFailures > 0) {
        // The database refuses writes: keep trying within one more grace period, then leave
        // the messages PROCESSING; they are sent again after their lease (at least once).
        const deadline = performance.now() + graceMs;
        while (storageFailures > 0 && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, storageRetryMs));
          stopTimer();
          await cycle();
        }
      }
      stopTimer();
      // Whatever is still sending is handed back to the queue now rather than after its lease:
      // the next start (or this one's successor) picks it up at once.
      const unrecorded = new Set(pending.map((record) => record.messageId));
      const unfinishedEntries = [...inFlight.values()].filter(
        (entry) => !unrecorded.has(entry.claim.message.id),
      );
      for (const entry of unfinishedEntries.filter((e) => e.transactionStarted)) {
        const id = entry.claim.message.id;
        log.warn(
          { id, attempt: entry.claim.message.attempts + 1 },
          `message ${id}: its SMTP transaction was still running when the shutdown grace period ended; it is released and sent again, so it may be delivered twice`,
        );
      }
      const unfinished = unfinishedEntries.map((entry) => ({
        messageId: entry.claim.message.id,
        leaseExpiresAtMs: entry.claim.message.leaseExpiresAtMs!,
      }));
      inFlight.clear();
      pending = [];
      closed = true;
      try {
        publish(await messages.release(unfinished, now(), settings.current()?.version ?? null));
      } catch (error) {
        onStorageError(error, unrecorded.size);
      }
    },
  };
}
