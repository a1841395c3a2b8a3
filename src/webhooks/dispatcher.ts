import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { ChangeSignals, WebhookAttemptRecord, WebhookStore } from '../db/port.ts';
import {
  ENDPOINT_DISABLED_TYPE,
  type ClaimedWebhook,
  type DisabledReason,
  type StoredWebhookEndpoint,
  type WebhookDelivery,
} from '../domain/webhook.ts';
import type { MailBacklog } from '../domain/mail-backlog.ts';
import type { Logger } from '../logger.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { postWebhook, type PostResult } from './post.ts';
import { nextRetryDelayMs, parseRetryAfter } from './schedule.ts';
import { openSecret } from './secret.ts';
import { signedHeaders } from './sign.ts';
import { paceWebhooks } from './yield-to-mail.ts';
import { urlForReader } from './url-for-reader.ts';

/** How a delivery attempt ended, for the metrics. */
export type WebhookResult = 'succeeded' | 'failed' | 'timed_out' | 'unreachable' | 'gone';

export interface WebhookDispatcherDeps {
  store: WebhookStore;
  /**
   * Endpoint changes, here or on another instance (`webhook-endpoints`): while none is enabled
   * the dispatcher looks for no work at all. The dispatcher announces the disables it makes.
   */
  signals: Pick<ChangeSignals, 'announce' | 'subscribe'>;
  secrets: SecretBox | null;
  /** WEBHOOK_RETRY_BASE_MS. */
  retryBaseMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_URLS. */
  allowPrivateUrls: boolean;
  log: Logger;
  onResult?: (result: WebhookResult, durationMs: number) => void;
  /** One request, connecting included (CONTRACT.md). @default 15_000 */
  timeoutMs?: number;
  /** How long a claim is ours before another instance may take it. @default 60_000 */
  leaseMs?: number;
  /** Requests in flight per endpoint, so a slow one holds back only itself. @default 16 */
  perEndpointConcurrency?: number;
  /** How often due work is looked for without a wake-up (retries, other instances). @default 250 */
  pollMs?: number;
  /**
   * This instance's mail backlog: while mail waits, the dispatcher runs at the floor pace of
   * yield-to-mail.ts and resumes full pace when it is gone. @default none (always full pace)
   */
  mailBacklog?: MailBacklog;
  now?: () => number;
}

/** After failing this long without a success, an endpoint is disabled (CONTRACT.md). */
export const FAILING_DISABLES_AFTER_MS = 3 * 86_400_000;

/**
 * The least time between two of the dispatcher's writes: answers that come in meanwhile are
 * recorded together (fewer transactions at the write lock mail delivery and the API need too).
 */
const WRITE_INTERVAL_MS = 5;

/** How long close waits for requests in flight; their leases cover the rest. */
const CLOSE_WAIT_MS = 5_000;

export interface WebhookDispatcher {
  /** New work may be due (events were committed). */
  wake(): void;
  /** Running at the floor pace because mail is backlogged (yield-to-mail.ts). */
  yielding(): boolean;
  /** Sends one outbox row now, whatever its state (redelivery, test); null if it is held. */
  sendNow(outboxId: number): Promise<WebhookDelivery | null>;
  close(): Promise<void>;
}

function resultOf(post: PostResult, timeoutMs: number): WebhookResult {
  if (post.statusCode === 410) return 'gone';
  if (post.statusCode !== null) {
    return post.statusCode >= 200 && post.statusCode < 300 ? 'succeeded' : 'failed';
  }
  return post.error?.startsWith(`no answer within ${timeoutMs}`) ? 'timed_out' : 'unreachable';
}

type Recorded = Awaited<ReturnType<WebhookStore['recordAndClaim']>>['recorded'][number];

/**
 * Delivers the outbox: per endpoint, up to `perEndpointConcurrency` requests at once, claimed
 * with leases (on PostgreSQL, shared with the other instances). It runs on the main thread apart
 * from mail delivery, which has a thread of its own.
 *
 * Its writes go through one loop: the answers that came in since the last write are recorded
 * and the endpoints with room are claimed for again in the same transaction, one at a time. On
 * SQLite every write takes the lock from mail delivery and the API, so the fewer the better.
 *
 * While mail is backlogged on this instance it yields: fewer requests in flight, writes further
 * apart (yield-to-mail.ts).
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const leaseMs = deps.leaseMs ?? 60_000;
  const concurrency = deps.perEndpointConcurrency ?? 16;
  const pollMs = deps.pollMs ?? 250;
  const pacing = paceWebhooks(deps.mailBacklog ?? null, {
    concurrency,
    writeIntervalMs: WRITE_INTERVAL_MS,
  });
  const inFlight = new Map<number, number>();
  const sends = new Set<Promise<unknown>>();
  const agents = new Map<number, { url: string; agent: http.Agent }>();
  let closing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  /** Answers to record at the next write, with the send each one resolves. */
  let answers: {
    record: WebhookAttemptRecord;
    resolve: (recorded: Recorded) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** Endpoints to claim for at the next write: due ones, and those whose last claim was full. */
  const wanted = new Set<number>();
  let writing = false;
  let writeScheduled = false;
  /** The wait for the next write, when one was needed. */
  let writeTimer: NodeJS.Timeout | null = null;
  let lastWriteAt = -Infinity;

  /**
   * The enabled endpoints as last read; null: to be read again (an endpoint changed here or on
   * another instance, and a read begun before the change is not kept).
   */
  let enabled: Promise<ReadonlySet<number>> | null = null;
  let ticking = false;
  let tickAgain = false;
  let tickScheduled = false;

  function enabledEndpoints(): Promise<ReadonlySet<number>> {
    if (enabled !== null) return enabled;
    const reading = deps.store
      .listEndpoints()
      .then((endpoints) => new Set(endpoints.filter((e) => e.enabled).map((e) => e.id)));
    enabled = reading;
    reading.catch(() => {
      if (enabled === reading) enabled = null;
    });
    return reading;
  }

  const stopListening = deps.signals.subscribe((change) => {
    if (change.kind !== 'webhook-endpoints') return;
    enabled = null;
    wake();
  });

  function agentFor(endpoint: StoredWebhookEndpoint): http.Agent {
    const known = agents.get(endpoint.id);
    if (known?.url === endpoint.url) return known.agent;
    known?.agent.destroy();
    const options = { keepAlive: true, maxSockets: concurrency };
    const agent = endpoint.url.startsWith('https:')
      ? new https.Agent(options)
      : new http.Agent(options);
    agents.set(endpoint.id, { url: endpoint.url, agent });
    return agent;
  }

  /** The secrets that sign now: the previous one too during the 24 h after a rotation. */
  function signingSecrets(endpoint: StoredWebhookEndpoint, atMs: number): string[] {
    const current = openSecret(endpoint.secret, deps.secrets);
    if (endpoint.previousSecret === null || (endpoint.previousSecretUntilMs ?? 0) <= atMs) {
      return [current];
    }
    return [openSecret(endpoint.previousSecret, deps.secrets), current];
  }

  async function disable(endpoint: StoredWebhookEndpoint, reason: DisabledReason) {
    const atMs = now();
    const payload = JSON.stringify({
      type: ENDPOINT_DISABLED_TYPE,
      timestamp: new Date(atMs).toISOString(),
      // The other endpoints are other apps: the URL's path and query may carry this one's
      // credentials, so they see where it pointed, not those.
      data: { endpoint: { id: String(endpoint.id), url: urlForReader(endpoint.url) }, reason },
    });
    const webhookId = `msg_${randomBytes(12).toString('hex')}`;
    const disabled = await deps.store.disableEndpoint(
      endpoint.id,
      reason,
      { webhookId, eventType: ENDPOINT_DISABLED_TYPE, payload },
      atMs,
    );
    if (disabled) {
      deps.log.warn({ endpointId: endpoint.id, reason }, 'webhook endpoint disabled');
      // Heard here too (and wakes the dispatcher for the notices to the others).
      deps.signals.announce({ kind: 'webhook-endpoints' });
    }
  }

  /** Records an answer at the next write; what it came to (null: the lease was lost). */
  function record(entry: WebhookAttemptRecord): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      answers.push({ record: entry, resolve, reject });
      scheduleWrite();
    });
  }

  /**
   * After the answers that are in now are read (a SQLite write blocks the thread), and no sooner
   * than the pace's write interval after the last write began.
   */
  function scheduleWrite(): void {
    if (writeScheduled || writing) return;
    writeScheduled = true;
    const run = () => {
      writeScheduled = false;
      writeTimer = null;
      void write();
    };
    const waitMs = lastWriteAt + pacing.pace().writeIntervalMs - performance.now();
    if (waitMs > 0) writeTimer = setTimeout(run, waitMs);
    else setImmediate(run);
  }

  // The pace changed: the next write is scheduled afresh. Back at full pace, a write waiting out
  // the floor's longer interval is brought forward, and the endpoints held to the floor are
  // claimed for with their full room at once.
  const stopPacing = pacing.onChange(() => {
    if (writeTimer !== null) {
      clearTimeout(writeTimer);
      writeTimer = null;
      writeScheduled = false;
    }
    if (!closing) scheduleWrite();
  });

  /**
   * Room to claim for: at least half the endpoint's, so that a busy endpoint is claimed for in
   * batches rather than a row or two at every write.
   */
  const roomOf = (endpointId: number) => {
    const limit = pacing.pace().concurrency;
    const room = limit - (inFlight.get(endpointId) ?? 0);
    return room >= Math.max(1, limit / 2) ? room : 0;
  };

  async function write(): Promise<void> {
    if (writing || stopped) return;
    const batch = answers;
    answers = [];
    const claims = closing
      ? []
      : [...wanted].flatMap((endpointId) => {
          const limit = roomOf(endpointId);
          return limit > 0 ? [{ endpointId, limit }] : [];
        });
    if (batch.length === 0 && claims.length === 0) return;
    for (const { endpointId } of claims) wanted.delete(endpointId);
    writing = true;
    lastWriteAt = performance.now();
    try {
      const { recorded, claimed } = await deps.store.recordAndClaim(
        batch.map((entry) => entry.record),
        claims,
        now(),
        leaseMs,
      );
      batch.forEach((entry, index) => entry.resolve(recorded[index] ?? null));
      for (const { endpoint, rows } of claimed) {
        // Full: there may be more, claimed as room comes free.
        if (rows.length === claims.find((c) => c.endpointId === endpoint.id)?.limit) {
          wanted.add(endpoint.id);
        }
        if (!stopped) start(endpoint, rows);
      }
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      // The claims are asked for again by the next look for due work.
      if (batch.length === 0) onError(error);
    } finally {
      writing = false;
      if (answers.length > 0 || [...wanted].some((endpointId) => roomOf(endpointId) > 0)) {
        scheduleWrite();
      }
    }
  }

  /** Sends claimed rows, each endpoint's room counting them until they are answered. */
  function start(endpoint: StoredWebhookEndpoint, rows: readonly ClaimedWebhook[]): void {
    for (const claim of rows) {
      inFlight.set(endpoint.id, (inFlight.get(endpoint.id) ?? 0) + 1);
      let answered = false;
      const release = () => {
        if (answered) return;
        answered = true;
        inFlight.set(endpoint.id, (inFlight.get(endpoint.id) ?? 1) - 1);
      };
      void track(send(claim, endpoint, release))
        .catch((error: unknown) =>
          deps.log.error(
            { err: error, endpointId: endpoint.id },
            'webhook delivery failed to record',
          ),
        )
        .finally(release);
    }
  }

  /**
   * Sends one claimed row to `endpoint`, read with the claim (so a rotation or a new URL, made on
   * any instance, is in force from the next batch on); the attempt's id once recorded.
   * `onAnswered` frees its room before the record, so that the write recording it claims again.
   */
  async function send(
    claim: ClaimedWebhook,
    endpoint: StoredWebhookEndpoint,
    onAnswered?: () => void,
  ): Promise<number | null> {
    const atMs = now();
    const headers = signedHeaders(
      claim.webhookId,
      Math.floor(atMs / 1_000),
      claim.payload,
      signingSecrets(endpoint, atMs),
    );
    const post = await postWebhook({
      url: endpoint.url,
      headers,
      body: claim.payload,
      timeoutMs,
      allowPrivate: deps.allowPrivateUrls,
      agent: agentFor(endpoint),
    });
    onAnswered?.();
    const result = resultOf(post, timeoutMs);
    deps.onResult?.(result, post.durationMs);
    const attempt = claim.attempts + 1;
    const delay =
      result === 'succeeded' || result === 'gone'
        ? null
        : nextRetryDelayMs(attempt, deps.retryBaseMs, parseRetryAfter(post.retryAfter, now()));
    if (stopped) return null; // closed while it was in flight: its lease brings it back
    const recorded = await record({
      claim,
      atMs,
      durationMs: post.durationMs,
      statusCode: post.statusCode,
      error: post.error,
      responseBody: post.responseBody,
      succeeded: result === 'succeeded',
      nextAttemptAtMs: delay === null ? null : atMs + post.durationMs + delay,
    });
    if (recorded === null) return null;
    if (result === 'gone') await disable(endpoint, 'gone');
    else if (
      recorded.failingSinceMs !== null &&
      now() - recorded.failingSinceMs >= FAILING_DISABLES_AFTER_MS
    ) {
      await disable(endpoint, 'failing');
    }
    return recorded.attemptId;
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    sends.add(promise);
    void promise.finally(() => sends.delete(promise)).catch(() => {});
    return promise;
  }

  const onError = (error: unknown) =>
    deps.log.warn({ err: error }, 'webhook dispatcher could not read its work; trying again');

  /** Looks for endpoints with due work and has them claimed for. */
  async function tick(): Promise<void> {
    if (closing) return;
    if (ticking) {
      tickAgain = true;
      return;
    }
    ticking = true;
    try {
      const endpoints = await enabledEndpoints();
      // Nothing to look for, or every endpoint known to have more already.
      if (endpoints.size === 0) return;
      let unknown = false;
      for (const id of endpoints) if (!wanted.has(id)) unknown = true;
      const due = unknown ? await deps.store.dueEndpoints(now()) : [];
      for (const id of due) wanted.add(id);
      scheduleWrite();
    } catch (error) {
      onError(error);
    } finally {
      ticking = false;
      if (tickAgain && !closing) {
        tickAgain = false;
        wake();
      }
    }
  }

  /** Wake-ups in one turn of the event loop (a commit each) make one look. */
  function wake(): void {
    if (closing || tickScheduled) return;
    tickScheduled = true;
    setImmediate(() => {
      tickScheduled = false;
      void tick();
    });
  }

  timer = setInterval(wake, pollMs);
  timer.unref();
  wake();

  return {
    wake,
    yielding: pacing.yielding,
    async sendNow(outboxId) {
      const claim = await deps.store.claimRow(outboxId, now(), leaseMs);
      if (claim === null) return null;
      const endpoint = await deps.store.findEndpoint(claim.endpointId);
      if (endpoint === null) return null;
      const attemptId = await track(send(claim, endpoint));
      return attemptId === null ? null : deps.store.findDelivery(attemptId);
    },
    async close() {
      if (closing) return;
      closing = true;
      stopListening();
      stopPacing();
      if (timer) clearInterval(timer);
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...sends]),
        new Promise((resolve) => (waited = setTimeout(resolve, CLOSE_WAIT_MS))),
      ]);
      clearTimeout(waited);
      stopped = true;
      for (const { agent } of agents.values()) agent.destroy();
    },
  };
}
