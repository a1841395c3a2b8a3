import { createHmac } from 'node:crypto';
import type { WebhookTokenStore } from '../../db/port.ts';
import type { ReportIntake } from '../../delivery/report-intake.ts';
import type { BounceType, DeliveryOutcome, IncomingReport } from '../../domain/report.ts';
import { bounceHint } from '../hints.ts';
import {
  acceptReports,
  isObject,
  malformed,
  MAX_AGE_MS,
  parseJson,
  refused,
  sameSecret,
  STAMP_KEY,
  targetFor,
  text,
  type WebhookHandler,
} from './webhook.ts';

// Mailgun's webhooks (JSON): `signature` {timestamp, token, signature: hex HMAC-SHA256 of
// timestamp + token under the webhook signing key} and one event in `event-data`. The signature
// does not cover the event, so a token is good once: the same token with another event is a
// replay and refused, on every instance (the tokens are kept in the database).

export function mailgunOutcome(
  event: Record<string, unknown>,
): { outcome: DeliveryOutcome; bounceType: BounceType | null } | null {
  switch (event['event']) {
    case 'delivered':
      return { outcome: 'DELIVERED', bounceType: null };
    case 'failed':
      return event['severity'] === 'temporary'
        ? { outcome: 'DEFERRED', bounceType: null }
        : { outcome: 'BOUNCED', bounceType: 'HARD' };
    case 'complained':
      return { outcome: 'COMPLAINED', bounceType: null };
    default:
      return null;
  }
}

function toReport(event: Record<string, unknown>, eventId: string): IncomingReport | null {
  const mapped = mailgunOutcome(event);
  if (mapped === null) return null;
  const status = isObject(event['delivery-status']) ? event['delivery-status'] : {};
  const message = isObject(event['message']) ? event['message'] : {};
  const headers = isObject(message['headers']) ? message['headers'] : {};
  const variables = isObject(event['user-variables']) ? event['user-variables'] : {};
  const recipient = text(event['recipient']);
  const code = text(status['enhanced-code']);
  const enhancedStatus = code !== null && /^[245]\.\d{1,3}\.\d{1,3}$/.test(code) ? code : null;
  const diagnostic =
    text(status['message']) ?? text(status['description']) ?? text(event['reason']);
  return {
    target: targetFor(variables[STAMP_KEY], text(headers['message-id']), recipient),
    outcome: mapped.outcome,
    detail: {
      source: 'MAILGUN',
      bounceType: mapped.bounceType,
      enhancedStatus,
      diagnostic,
      remoteMta: text(status['mx-host']),
      hint:
        mapped.outcome === 'BOUNCED' || mapped.outcome === 'DEFERRED'
          ? bounceHint(enhancedStatus, diagnostic)
          : null,
    },
    sourceEventId: eventId,
    recipient,
  };
}

export function createMailgunWebhook(deps: {
  signingKey: string;
  tokens: WebhookTokenStore;
  intake: ReportIntake;
  now?: () => number;
}): WebhookHandler {
  const now = deps.now ?? Date.now;
  return async ({ body }) => {
    const parsed = parseJson(body);
    const signature = parsed.ok && isObject(parsed.value) ? parsed.value['signature'] : null;
    if (!isObject(signature)) return refused('unsigned: no Mailgun signature in the body');
    const timestamp = text(signature['timestamp']);
    const token = text(signature['token']);
    const given = text(signature['signature']);
    if (timestamp === null || token === null || given === null) {
      return refused('unsigned: the Mailgun signature is incomplete');
    }
    const expected = createHmac('sha256', deps.signingKey)
      .update(timestamp + token)
      .digest('hex');
    if (!sameSecret(given.toLowerCase(), expected)) {
      return refused('the Mailgun signature does not verify');
    }
    const nowMs = now();
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs - Number(timestamp) * 1000) > MAX_AGE_MS) {
      return refused('the Mailgun timestamp is older than 10 minutes');
    }
    const event = (parsed as { value: Record<string, unknown> }).value['event-data'];
    if (!isObject(event)) return malformed('expected a Mailgun event in "event-data"');
    const eventId = text(event['id']);
    if (eventId === null) return malformed('the Mailgun event has no id');
    // Kept twice as long as a timestamp is accepted either side of now: past that, age refuses.
    const use = await deps.tokens.claim(token, eventId, nowMs, nowMs - 4 * MAX_AGE_MS);
    if (use === 'reused') return refused('this Mailgun token was already used for another event');
    const report = toReport(event, eventId);
    return acceptReports(deps.intake, report === null ? [] : [report]);
  };
}
