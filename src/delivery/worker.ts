import type { AttemptRecord, ClaimedMessage, MessageRepository } from '../db/messages.ts';
import type { DeliveryError } from '../domain/delivery-error.ts';
import type { Message } from '../domain/message.ts';
import type { SendOutcome, SmtpTransports } from '../smtp/transport.ts';
import { retryDelayMs } from './backoff.ts';
import type { EventBus } from './event-bus.ts';
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
}

export interface WorkerDeps {
  messages: MessageRepository;
  settings: SmtpSettings;
  transports: SmtpTransports;
  bus: EventBus;
  options: WorkerOptions;
  now?: () => number;
  random?: () => number;
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

interface InFlight {
  claim: ClaimedMessage;
  done: Promise<void>;
}

/**
 * The queue's consumer: claims due messages with a lease, sends them concurrently through pooled
 * transports, and records each attempt. Results are written in batches (one transaction per
 * turn of the event loop) because per-message commits would cap throughput well below SMTP's.
 */
export function createDeliveryWorker(deps: WorkerDeps): DeliveryWorker {
  const { messages, settings, transports, bus, options } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const idlePollMs = options.idlePollMs ?? 1_000;
  const graceMs = options.shutdownGraceMs ?? 5_000;

  const inFlight = new Map<number, InFlight>();
  let pending: AttemptRecord[] = [];
  let flushScheduled = false;
  let tickScheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let closing = false;
  // Set once close() has released what was left: results arriving later belong to no one.
  let closed = false;

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
    const delay = retryDelayMs(attemptsInBudget, options.retryBaseMs, options.retryMaxMs, random);
    return {
      status: 'QUEUED',
      reason: 'retry_scheduled',
      nextAttemptAtMs: atMs + outcome.durationMs + delay,
    };
  }

  async function deliver(claim: ClaimedMessage, active: ActiveSmtpSettings | null): Promise<void> {
    const { message } = claim;
    const attempt = message.attempts + 1;
    const atMs = now();
    const outcome: SendOutcome =
      active === null
        ? { ok: false, error: NOT_CONFIGURED, durationMs: 0 }
        : await transports.send(active.key, active.endpoint, {
            from: { address: active.fromAddress, name: active.fromName },
            to: message.recipient,
            subject: message.subject,
            text: message.text,
            html: message.html,
            // Configuration headers first, so a message's own header wins where both set one.
            headers: [...active.headers, ...message.headers],
            messageId: message.messageId,
          });
    if (closed) return;
    pending.push({
      messageId: message.id,
      leaseExpiresAtMs: message.leaseExpiresAtMs!,
      attempt,
      atMs,
      durationMs: Math.round(outcome.durationMs),
      smtpConfigVersion: active?.version ?? null,
      response: outcome.ok ? outcome.response : null,
      error: outcome.ok ? null : outcome.error,
      next: decide(message, attempt, outcome, atMs),
    });
    scheduleFlush();
  }

  function flush(): void {
    flushScheduled = false;
    if (closed || pending.length === 0) return;
    const records = pending;
    pending = [];
    const events = messages.recordAttempts(records);
    for (const record of records) inFlight.delete(record.messageId);
    bus.publish(events);
    if (!closing) scheduleTick();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  function tick(): void {
    tickScheduled = false;
    if (closing) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const capacity = options.concurrency - inFlight.size;
    let claimed: ClaimedMessage[] = [];
    if (capacity > 0) {
      claimed = messages.claimDue(now(), options.leaseMs, capacity);
      bus.publish(claimed.map((claim) => claim.event));
      const active = claimed.length > 0 ? settings.current() : null;
      for (const claim of claimed) {
        const done = deliver(claim, active).catch((error: unknown) => {
          // transports.send never rejects; reaching here is a bug worth a loud line, and the
          // lease makes sure the message is tried again.
          console.error('delivery worker: unexpected error', error);
        });
        inFlight.set(claim.message.id, { claim, done });
      }
    }
    if (claimed.length > 0 && claimed.length === capacity) return; // flush() ticks again
    const nextDue = messages.nextDueAtMs();
    const wait = nextDue === null ? idlePollMs : Math.min(idlePollMs, nextDue - now());
    timer = setTimeout(tick, Math.max(1, wait));
  }

  function scheduleTick(): void {
    if (tickScheduled || closing) return;
    tickScheduled = true;
    setImmediate(tick);
  }

  scheduleTick();

  return {
    wake: scheduleTick,

    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const settled = Promise.all([...inFlight.values()].map((entry) => entry.done));
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, graceMs);
      });
      await Promise.race([settled, grace]);
      clearTimeout(graceTimer);
      flush();
      // Whatever is still sending is handed back to the queue now rather than after its lease:
      // the next start (or this one's successor) picks it up at once.
      const unfinished = [...inFlight.values()].map((entry) => ({
        messageId: entry.claim.message.id,
        leaseExpiresAtMs: entry.claim.message.leaseExpiresAtMs!,
      }));
      inFlight.clear();
      closed = true;
      bus.publish(messages.release(unfinished, now()));
    },
  };
}
