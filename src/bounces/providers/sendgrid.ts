import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
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
  STAMP_KEY,
  targetFor,
  text,
  type WebhookHandler,
} from './webhook.ts';

// SendGrid's signed event webhook: a JSON array of events, signed with ECDSA P-256 over the
// timestamp header followed by the raw body (X-Twilio-Email-Event-Webhook-Signature, base64 DER).

const SIGNATURE = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';

/** SendGrid's event → our outcome (CONTRACT.md); null: not about delivery (opens, clicks, …). */
export function sendgridOutcome(
  event: Record<string, unknown>,
): { outcome: DeliveryOutcome; bounceType: BounceType | null } | null {
  switch (event['event']) {
    case 'delivered':
      return { outcome: 'DELIVERED', bounceType: null };
    case 'deferred':
      return { outcome: 'DEFERRED', bounceType: null };
    case 'bounce':
      return { outcome: 'BOUNCED', bounceType: event['type'] === 'blocked' ? 'SOFT' : 'HARD' };
    case 'dropped':
      return { outcome: 'BOUNCED', bounceType: 'HARD' };
    case 'spamreport':
      return { outcome: 'COMPLAINED', bounceType: null };
    default:
      return null;
  }
}

function toReport(event: Record<string, unknown>): IncomingReport | null {
  const mapped = sendgridOutcome(event);
  if (mapped === null) return null;
  const recipient = text(event['email']);
  const status = text(event['status']);
  const enhancedStatus =
    status !== null && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) ? status : null;
  const diagnostic = text(event['reason']) ?? text(event['response']);
  return {
    target: targetFor(event[STAMP_KEY], text(event['smtp-id']), recipient),
    outcome: mapped.outcome,
    detail: {
      source: 'SENDGRID',
      bounceType: mapped.bounceType,
      enhancedStatus,
      diagnostic,
      remoteMta: null,
      hint: mapped.outcome === 'BOUNCED' ? bounceHint(enhancedStatus, diagnostic) : null,
    },
    sourceEventId:
      text(event['sg_event_id']) ??
      createHash('sha256').update(JSON.stringify(event)).digest('base64url'),
    recipient,
  };
}

export function createSendgridWebhook(deps: {
  publicKey: string;
  intake: ReportIntake;
  now?: () => number;
}): WebhookHandler {
  const key: KeyObject = createPublicKey({
    key: Buffer.from(deps.publicKey, 'base64'),
    format: 'der',
    type: 'spki',
  });
  const now = deps.now ?? Date.now;
  return async ({ headers, body }) => {
    const signature = headers[SIGNATURE];
    const timestamp = headers[TIMESTAMP];
    if (typeof signature !== 'string' || typeof timestamp !== 'string') {
      return refused('unsigned: the SendGrid signature headers are missing');
    }
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
    let valid = false;
    try {
      valid = verify('sha256', signed, key, Buffer.from(signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) return refused('the SendGrid signature does not verify');
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now() - Number(timestamp) * 1000) > MAX_AGE_MS) {
      return refused('the SendGrid timestamp is older than 10 minutes');
    }
    const parsed = parseJson(body);
    if (!parsed.ok || !Array.isArray(parsed.value) || !parsed.value.every(isObject)) {
      return malformed('expected a JSON array of SendGrid events');
    }
    const reports = parsed.value.map(toReport).filter((r): r is IncomingReport => r !== null);
    return acceptReports(deps.intake, reports);
  };
}
