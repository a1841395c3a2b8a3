import type { ReportIntake } from '../../delivery/report-intake.ts';
import type { BounceType, DeliveryOutcome, IncomingReport } from '../../domain/report.ts';
import { bounceHint } from '../hints.ts';
import {
  allowedSnsUrl,
  createCertificateCache,
  readSnsMessage,
  snsSignatureValid,
  type SnsFetcher,
} from './sns.ts';
import {
  acceptReports,
  isObject,
  malformed,
  parseJson,
  refused,
  STAMP_KEY,
  targetFor,
  text,
  type WebhookHandler,
} from './webhook.ts';

// Amazon SES events through SNS. Both shapes are read: notifications (`notificationType`) and
// event publishing (`eventType`, which adds DeliveryDelay and the message's tags). SES rewrites
// Message-ID, so our id comes back in the tags (X-SES-MESSAGE-TAGS), or, for notifications, in
// the original headers when the identity includes them.

type Entry = { recipient: string | null; status: string | null; diagnostic: string | null };

const BOUNCE_TYPES: Record<string, BounceType> = {
  Permanent: 'HARD',
  Transient: 'SOFT',
  Undetermined: 'UNDETERMINED',
};

function entries(list: unknown, address = 'emailAddress'): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) =>
    typeof item === 'string'
      ? { recipient: item, status: null, diagnostic: null }
      : isObject(item)
        ? {
            recipient: text(item[address]),
            status: text(item['status']),
            diagnostic: text(item['diagnosticCode']),
          }
        : { recipient: null, status: null, diagnostic: null },
  );
}

/** What one SES event says, per recipient: outcome, bounce type, its own id, the recipients. */
function readEvent(event: Record<string, unknown>): {
  outcome: DeliveryOutcome;
  bounceType: BounceType | null;
  eventId: string;
  remoteMta: string | null;
  recipients: Entry[];
} | null {
  const type = event['notificationType'] ?? event['eventType'];
  const mail = isObject(event['mail']) ? event['mail'] : {};
  const sesId = text(mail['messageId']) ?? '';
  const part = (name: string) => (isObject(event[name]) ? event[name] : {});
  switch (type) {
    case 'Delivery': {
      const delivery = part('delivery');
      return {
        outcome: 'DELIVERED',
        bounceType: null,
        eventId: `delivery:${sesId}`,
        remoteMta: text(delivery['remoteMtaIp']) ?? text(delivery['reportingMTA']),
        recipients: entries(delivery['recipients']).map((entry) => ({
          ...entry,
          diagnostic: text(delivery['smtpResponse']),
        })),
      };
    }
    case 'DeliveryDelay': {
      const delay = part('deliveryDelay');
      return {
        outcome: 'DEFERRED',
        bounceType: null,
        eventId: `delay:${sesId}:${text(delay['timestamp']) ?? ''}`,
        remoteMta: text(delay['reportingMTA']),
        recipients: entries(delay['delayedRecipients']),
      };
    }
    case 'Bounce': {
      const bounce = part('bounce');
      return {
        outcome: 'BOUNCED',
        bounceType: BOUNCE_TYPES[text(bounce['bounceType']) ?? ''] ?? 'UNDETERMINED',
        eventId: `bounce:${text(bounce['feedbackId']) ?? sesId}`,
        remoteMta: text(bounce['reportingMTA']) ?? text(bounce['remoteMtaIp']),
        recipients: entries(bounce['bouncedRecipients']),
      };
    }
    case 'Complaint': {
      const complaint = part('complaint');
      return {
        outcome: 'COMPLAINED',
        bounceType: null,
        eventId: `complaint:${text(complaint['feedbackId']) ?? sesId}`,
        remoteMta: null,
        recipients: entries(complaint['complainedRecipients']),
      };
    }
    default:
      return null;
  }
}

/** Our Message-ID as the original headers show it (notifications with headers included). */
function originalMessageId(mail: Record<string, unknown>): string | null {
  if (Array.isArray(mail['headers'])) {
    for (const header of mail['headers']) {
      if (isObject(header) && String(header['name']).toLowerCase() === 'message-id') {
        return text(header['value']);
      }
    }
  }
  const common = isObject(mail['commonHeaders']) ? mail['commonHeaders'] : {};
  return text(common['messageId']);
}

export function sesReports(event: Record<string, unknown>): IncomingReport[] {
  const read = readEvent(event);
  if (read === null) return [];
  const mail = isObject(event['mail']) ? event['mail'] : {};
  const tags = isObject(mail['tags']) ? mail['tags'] : {};
  const messageId = originalMessageId(mail);
  return read.recipients.map((entry) => {
    const status =
      entry.status !== null && /^[245]\.\d{1,3}\.\d{1,3}$/.test(entry.status) ? entry.status : null;
    return {
      target: targetFor(tags[STAMP_KEY], messageId, entry.recipient),
      outcome: read.outcome,
      detail: {
        source: 'SES',
        bounceType: read.bounceType,
        enhancedStatus: status,
        diagnostic: entry.diagnostic,
        remoteMta: read.remoteMta,
        hint:
          read.outcome === 'BOUNCED' || read.outcome === 'DEFERRED'
            ? bounceHint(status, entry.diagnostic)
            : null,
      },
      sourceEventId: `${read.eventId}:${(entry.recipient ?? '').toLowerCase()}`,
      recipient: entry.recipient,
    };
  });
}

export function createSesWebhook(deps: {
  topicArns: readonly string[];
  /** SNS_CERT_HOSTS, or null for Amazon's SNS hosts. */
  certHosts: readonly string[] | null;
  fetcher: SnsFetcher;
  intake: ReportIntake;
}): WebhookHandler {
  const certificates = createCertificateCache(deps.fetcher);
  return async ({ body }) => {
    const parsed = parseJson(body);
    if (!parsed.ok) return malformed('expected an Amazon SNS message (JSON)');
    const message = readSnsMessage(parsed.value);
    if (message === null) return refused('unsigned: not a signed Amazon SNS message');
    if (!deps.topicArns.includes(message.TopicArn)) {
      return refused('the topic is not one of SES_SNS_TOPIC_ARNS');
    }
    const certUrl = allowedSnsUrl(message.SigningCertURL, deps.certHosts);
    if (certUrl === null) return refused('SigningCertURL is not an Amazon SNS host');
    const certificate = await certificates.get(certUrl);
    if (!certificate.ok) {
      // A certificate we could not fetch may be there next time: SNS retries on 5xx.
      return certificate.unreachable
        ? { status: 503, body: { error: 'the signing certificate could not be fetched' } }
        : refused('the signing certificate is not a valid certificate');
    }
    if (!snsSignatureValid(message, certificate.key)) {
      return refused('the SNS signature does not verify');
    }
    if (message.Type === 'SubscriptionConfirmation') {
      const subscribe = allowedSnsUrl(message.SubscribeURL ?? '', deps.certHosts);
      if (subscribe === null) return refused('SubscribeURL is not an Amazon SNS host');
      const answer = await deps.fetcher.get(subscribe).catch(() => null);
      if (answer === null || answer.status < 200 || answer.status > 299) {
        return { status: 502, body: { error: 'the subscription could not be confirmed' } };
      }
      return { status: 200, body: { subscribed: true } };
    }
    if (message.Type !== 'Notification') return { status: 200, body: { received: 0 } };
    const inner = parseJson(Buffer.from(message.Message, 'utf8'));
    // Not an SES event (e.g. SES's own test notice): nothing to record.
    if (!inner.ok || !isObject(inner.value)) return { status: 200, body: { received: 0 } };
    return acceptReports(deps.intake, sesReports(inner.value));
  };
}
