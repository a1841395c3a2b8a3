import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { WebhookStore } from '../db/port.ts';
import {
  ENDPOINT_DISABLED_TYPE,
  type ClaimedWebhook,
  type DisabledReason,
  type StoredWebhookEndpoint,
  type WebhookDelivery,
} from '../domain/webhook.ts';
import type { Logger } from '../logger.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { createAttemptRecorder } from './attempt-recorder.ts';
import { postWebhook, type PostResult } from './post.ts';
import { nextRetryDelayMs, parseRetryAfter } from './schedule.ts';
import { openSecret } from './secret.ts';
import { signedHeaders } from './sign.ts';

/** How a delivery attempt ended, for the metrics. */
export type WebhookResult = 'succeeded' | 'failed' | 'timed_out' | 'unreachable' | 'gone';

export interface WebhookDispatcherDeps {
  store: WebhookStore;
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
  now?: () => number;
}

/** After failing this long without a success, an endpoint is disabled (CONTRACT.md). */
export const FAILING_DISABLES_AFTER_MS = 3 * 86_400_000;

/** How long close waits for requests in flight; their leases cover the rest. */
const CLOSE_WAIT_MS = 5_000;

export interface WebhookDispatcher {
  /** New work may be due (events were committed). */
  wake(): void;
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

/**
 * Delivers the outbox: per endpoint, up to `perEndpointConcurrency` requests at once, claimed
 * with leases (on PostgreSQL, shared with the other instances). It runs on the main thread apart
 * from mail delivery, which has a thread of its own.
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const leaseMs = deps.leaseMs ?? 60_000;
  const concurrency = deps.perEndpointConcurrency ?? 16;
  const pollMs = deps.pollMs ?? 250;
  const inFlight = new Map<number, number>();
  const claiming = new Set<number>();
  const sends = new Set<Promise<unknown>>();
  const agents = new Map<number, { url: string; agent: http.Agent }>();
  const recorder = createAttemptRecorder(deps.store);
  let closing = false;
  let stopped = false;
  /** Endpoints asked to fill while a claim of theirs ran: filled again when it ends. */
  const refill = new Set<number>();
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;
  let wakeAgain = false;

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
      data: { endpoint: { id: String(endpoint.id), url: endpoint.url }, reason },
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
      wake();
    }
  }

  /**
   * Sends one claimed row to `endpoint`, read after the claim (so a rotation or a new URL, made on
   * any instance, is in force from the next batch on).
   */
  async function send(
    claim: ClaimedWebhook,
    endpoint: StoredWebhookEndpoint,
  ): Promise<WebhookDelivery | null> {
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
    const result = resultOf(post, timeoutMs);
    deps.onResult?.(result, post.durationMs);
    const attempt = claim.attempts + 1;
    const delay =
      result === 'succeeded' || result === 'gone'
        ? null
        : nextRetryDelayMs(attempt, deps.retryBaseMs, parseRetryAfter(post.retryAfter, now()));
    if (stopped) return null; // closed while it was in flight: its lease brings it back
    const recorded = await recorder.record({
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
    return recorded.delivery;
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    sends.add(promise);
    void promise.finally(() => sends.delete(promise)).catch(() => {});
    return promise;
  }

  /** Claims what the endpoint has room for and sends it; again as sends finish. */
  async function fill(endpointId: number): Promise<void> {
    if (closing) return;
    if (claiming.has(endpointId)) {
      refill.add(endpointId);
      return;
    }
    const room = concurrency - (inFlight.get(endpointId) ?? 0);
    if (room <= 0) return;
    claiming.add(endpointId);
    let claimed: ClaimedWebhook[];
    try {
      claimed = await deps.store.claim(endpointId, room, now(), leaseMs);
    } finally {
      claiming.delete(endpointId);
    }
    if (refill.delete(endpointId) && claimed.length > 0) {
      setImmediate(() => fill(endpointId).catch(onError));
    }
    const endpoint = claimed.length > 0 ? await deps.store.findEndpoint(endpointId) : null;
    // Deleted meanwhile: its rows went with it.
    if (endpoint === null) return;
    for (const claim of claimed) {
      inFlight.set(endpointId, (inFlight.get(endpointId) ?? 0) + 1);
      void track(send(claim, endpoint))
        .catch((error: unknown) =>
          deps.log.error({ err: error, endpointId }, 'webhook delivery failed to record'),
        )
        .finally(() => {
          inFlight.set(endpointId, (inFlight.get(endpointId) ?? 1) - 1);
          // A busy endpoint is refilled as its requests finish, without waiting for a poll, in
          // batches of half its room (a claim is a write transaction).
          const left = inFlight.get(endpointId) ?? 0;
          if (claimed.length > 0 && left <= concurrency / 2) fill(endpointId).catch(onError);
        });
    }
  }

  const onError = (error: unknown) =>
    deps.log.warn({ err: error }, 'webhook dispatcher could not read its work; trying again');

  async function tick(): Promise<void> {
    if (closing) return;
    if (ticking) {
      wakeAgain = true;
      return;
    }
    ticking = true;
    try {
      const due = await deps.store.dueEndpoints(now());
      await Promise.all(due.map((id) => fill(id)));
    } catch (error) {
      onError(error);
    } finally {
      ticking = false;
      if (wakeAgain && !closing) {
        wakeAgain = false;
        setImmediate(() => void tick());
      }
    }
  }

  function wake(): void {
    if (!closing) void tick();
  }

  timer = setInterval(wake, pollMs);
  timer.unref();
  wake();

  return {
    wake,
    async sendNow(outboxId) {
      const claim = await deps.store.claimRow(outboxId, now(), leaseMs);
      if (claim === null) return null;
      const endpoint = await deps.store.findEndpoint(claim.endpointId);
      return endpoint === null ? null : track(send(claim, endpoint));
    },
    async close() {
      if (closing) return;
      closing = true;
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
