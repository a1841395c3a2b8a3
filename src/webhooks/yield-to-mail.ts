import type { MailBacklog } from '../domain/mail-backlog.ts';

/**
 * A scheduling policy: outgoing webhooks yield to mail. While mail waits to be delivered on this
 * instance (the delivery worker's backlog), the dispatcher runs at a floor pace, few requests in
 * flight per endpoint and writes further apart, and it returns to full pace as soon as the
 * backlog is gone. Both compete for the same CPUs (the POSTs, their signatures, the attempt
 * records and the outbox writes against the mail's claims, sends and records), and the issue's
 * isolation rule says webhooks must never hold mail back; the events are durable in the outbox,
 * so waiting costs them latency, never an event. The floor keeps them flowing under sustained
 * mail load (no starvation), and mail that merely flows, without a backlog, never throttles
 * them.
 */

export interface WebhookPace {
  /** Requests in flight per endpoint. */
  concurrency: number;
  /** Least time between two of the dispatcher's writes (records and claims). */
  writeIntervalMs: number;
}

/**
 * The floor: 2 requests in flight per endpoint, writes at least 50 ms apart (full pace: 16 and
 * 5 ms), so a fast endpoint still gets about 2 per 50 ms, some 40 events/s, and a single slow
 * answer does not halt it. Measured with `npm run bench -- webhooks` (bench/README.md,
 * "Outgoing webhooks"): floors of 1 per 100 ms, 2 per 50 ms and 4 per 25 ms gave mail ratios
 * that the machine's noise does not tell apart (0.79-0.94 ×), while the events a fast endpoint
 * got during the mail went from ~150 to ~600; a near-stop (1 per 100 s) gained nothing
 * visible either, so what is left of the gap lies outside the dispatcher's pace (the outbox
 * rows written with every event, the receivers on the same CPUs). The middle floor keeps
 * progress steady at a tenth of the full pace's writes, each of which takes the SQLite write
 * lock that mail's records need too.
 */
export const YIELDING_PACE: WebhookPace = { concurrency: 2, writeIntervalMs: 50 };

export interface WebhookPacing {
  /** Mail is backlogged: the floor pace is in force. */
  yielding(): boolean;
  pace(): WebhookPace;
  /** Calls `listener` whenever the pace changes; returns a stop. */
  onChange(listener: () => void): () => void;
}

/**
 * The pace in force: `full` while mail flows freely (or with no signal at all), the floor while
 * it is backlogged. The floor never runs faster than full pace (a dispatcher configured with
 * fewer requests in flight keeps its own limit).
 */
export function paceWebhooks(
  mail: MailBacklog | null,
  full: WebhookPace,
  floor: WebhookPace = YIELDING_PACE,
): WebhookPacing {
  const slow: WebhookPace = {
    concurrency: Math.max(1, Math.min(full.concurrency, floor.concurrency)),
    writeIntervalMs: Math.max(full.writeIntervalMs, floor.writeIntervalMs),
  };
  const yielding = () => mail?.backlogged() ?? false;
  return {
    yielding,
    pace: () => (yielding() ? slow : full),
    onChange: (listener) => mail?.onChange(() => listener()) ?? (() => {}),
  };
}
