import type { ReportIntake } from '../../delivery/report-intake.ts';
import type { BounceType, DeliveryOutcome, IncomingReport } from '../../domain/report.ts';
import { bounceHint } from '../hints.ts';
import {
  acceptReports,
  isObject,
  malformed,
  parseJson,
  refused,
  sameSecret,
  STAMP_KEY,
  text,
  targetFor,
  type WebhookHandler,
} from './webhook.ts';

// Postmark's webhooks: one JSON record per request (RecordType Delivery, Bounce, SpamComplaint),
// authenticated with the basic-auth credentials set in the webhook's URL. Postmark echoes
// X-PM-Metadata-mailscope-id as Metadata["mailscope-id"]; it does not echo our Message-ID.

const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
const SOFT = new Set(['SoftBounce', 'Transient', 'DnsError']);
/** Bounce records that are not about delivery failing. */
const NOT_FAILURES = new Set([
  'AutoResponder',
  'Subscribe',
  'Unsubscribe',
  'OpenRelayTest',
  'ChallengeVerification',
]);

export function postmarkOutcome(
  record: Record<string, unknown>,
): { outcome: DeliveryOutcome; bounceType: BounceType | null } | null {
  const type = text(record['Type']) ?? '';
  switch (record['RecordType']) {
    case 'Delivery':
      return { outcome: 'DELIVERED', bounceType: null };
    case 'SpamComplaint':
      return { outcome: 'COMPLAINED', bounceType: null };
    case 'Bounce':
      if (type === 'SpamComplaint') return { outcome: 'COMPLAINED', bounceType: null };
      if (NOT_FAILURES.has(type)) return null;
      return {
        outcome: 'BOUNCED',
        bounceType: HARD.has(type) ? 'HARD' : SOFT.has(type) ? 'SOFT' : 'UNDETERMINED',
      };
    default:
      return null;
  }
}

function toReport(record: Record<string, unknown>): IncomingReport | null {
  const mapped = postmarkOutcome(record);
  if (mapped === null) return null;
  const recipient = text(record['Recipient']) ?? text(record['Email']);
  const metadata = isObject(record['Metadata']) ? record['Metadata'] : {};
  const diagnostic = text(record['Details']) ?? text(record['Description']);
  // Delivery records carry no id of their own: Postmark's message id and the recipient name it.
  const id = text(record['ID']) ?? `${text(record['MessageID']) ?? ''}/${recipient ?? ''}`;
  return {
    target: targetFor(metadata[STAMP_KEY], null, recipient),
    outcome: mapped.outcome,
    detail: {
      source: 'POSTMARK',
      bounceType: mapped.bounceType,
      enhancedStatus: null,
      diagnostic,
      remoteMta: null,
      hint: mapped.outcome === 'BOUNCED' ? bounceHint(null, diagnostic) : null,
    },
    sourceEventId: `${String(record['RecordType'])}:${id}`,
    recipient,
  };
}

/** "Basic base64(user:password)", compared in constant time. */
function authorized(header: string | undefined, user: string, password: string): boolean {
  const expected = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  return header !== undefined && sameSecret(header, expected);
}

export function createPostmarkWebhook(deps: {
  user: string;
  password: string;
  intake: ReportIntake;
}): WebhookHandler {
  return async ({ headers, body }) => {
    if (!authorized(headers.authorization, deps.user, deps.password)) {
      return refused('missing or wrong basic-auth credentials');
    }
    const parsed = parseJson(body);
    if (!parsed.ok || !isObject(parsed.value) || text(parsed.value['RecordType']) === null) {
      return malformed('expected a Postmark webhook record (JSON with RecordType)');
    }
    const report = toReport(parsed.value);
    return acceptReports(deps.intake, report === null ? [] : [report]);
  };
}
