import { createHash } from 'node:crypto';
import type { Attachment, ParsedMail, simpleParser as SimpleParser } from 'mailparser';
import type {
  BounceType,
  DeliveryOutcome,
  IncomingReport,
  ReportSource,
  ReportTarget,
} from '../domain/report.ts';
import type { Verp } from '../smtp/verp.ts';
import { bounceHint } from './hints.ts';

// Reads a report sent to the bounce domain: RFC 3464 delivery status notifications, RFC 5965
// complaint reports, and the common non-standard forms (Exim's and Exchange's
// X-Failed-Recipients, qmail's plain-text bounces, text-only delay warnings). mailparser gives
// the MIME structure; reading the fields is ours.

/** One report about one recipient, before it is matched to a message. */
export interface ParsedReport {
  outcome: DeliveryOutcome;
  source: ReportSource;
  bounceType: BounceType | null;
  recipient: string | null;
  enhancedStatus: string | null;
  diagnostic: string | null;
  remoteMta: string | null;
  /** The ENVID we sent (DSN Original-Envelope-Id). */
  envelopeId: string | null;
  /** The Message-ID quoted in the returned headers. */
  quotedMessageId: string | null;
}

type Fields = Map<string, string>;

/** RFC 822-style fields (folded lines joined), names lower-cased; the first of a name wins. */
function readFields(block: string): Fields {
  const fields: Fields = new Map();
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

/** The address of a DSN recipient field, e.g. "rfc822; user@example.com". */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const address = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  const trimmed = address.trim().replace(/^<|>$/g, '');
  return trimmed === '' ? null : trimmed;
}

const STATUS = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

function statusIn(text: string | null | undefined): string | null {
  const found = text ? STATUS.exec(text) : null;
  return found ? `${found[1]}.${found[2]}.${found[3]}` : null;
}

function bounceTypeOf(status: string | null, text: string): BounceType {
  if (status?.startsWith('5.')) return 'HARD';
  if (status?.startsWith('4.')) return 'SOFT';
  if (/permanent(ly)?|user unknown|no such user|does not exist/i.test(text)) return 'HARD';
  return 'UNDETERMINED';
}

function attachmentText(attachment: Attachment): string {
  return attachment.content.toString('utf8');
}

const MESSAGE_ID_LINE = /^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)/im;

/** The Message-ID of the returned message: its headers part, else the text after the report. */
function quotedMessageId(mail: ParsedMail): string | null {
  for (const attachment of mail.attachments) {
    if (
      /^(message\/rfc822|text\/rfc822-headers|message\/global(-headers)?)$/i.test(
        attachment.contentType,
      )
    ) {
      const found = MESSAGE_ID_LINE.exec(attachmentText(attachment));
      if (found) return found[1]!;
    }
  }
  const found = MESSAGE_ID_LINE.exec(mail.text ?? '');
  return found ? found[1]! : null;
}

function findPart(mail: ParsedMail, pattern: RegExp): Attachment | undefined {
  return mail.attachments.find((attachment) => pattern.test(attachment.contentType));
}

function fromDeliveryStatus(mail: ParsedMail, status: string): ParsedReport[] {
  const blocks = status
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .filter((block) => block.trim() !== '');
  const perMessage = readFields(blocks[0] ?? '');
  const quoted = quotedMessageId(mail);
  const reports: ParsedReport[] = [];
  for (const block of blocks.slice(1)) {
    const fields = readFields(block);
    const action = (fields.get('action') ?? '').toLowerCase().split(/[\s(]/)[0] ?? '';
    const recipient = addressOf(fields.get('original-recipient') ?? fields.get('final-recipient'));
    if (!fields.has('final-recipient') || !action) continue;
    const diagnostic = fields.get('diagnostic-code') ?? null;
    const enhancedStatus = statusIn(fields.get('status')) ?? statusIn(diagnostic);
    let outcome: DeliveryOutcome;
    let bounceType: BounceType | null = null;
    if (action === 'failed') {
      outcome = 'BOUNCED';
      bounceType = bounceTypeOf(enhancedStatus, diagnostic ?? '');
    } else if (action === 'delayed') {
      outcome = 'DEFERRED';
    } else if (action === 'delivered' || action === 'relayed' || action === 'expanded') {
      outcome = 'DELIVERED';
    } else {
      continue;
    }
    reports.push({
      outcome,
      source: 'DSN',
      bounceType,
      recipient,
      enhancedStatus,
      diagnostic,
      remoteMta: fields.get('remote-mta') ?? perMessage.get('reporting-mta') ?? null,
      envelopeId: perMessage.get('original-envelope-id') ?? null,
      quotedMessageId: quoted,
    });
  }
  return reports;
}

function fromFeedbackReport(mail: ParsedMail, report: string): ParsedReport[] {
  const fields = readFields(report);
  const recipient = addressOf(fields.get('original-rcpt-to'));
  return [
    {
      outcome: 'COMPLAINED',
      source: 'ARF',
      bounceType: null,
      recipient,
      enhancedStatus: null,
      diagnostic: `feedback-type: ${fields.get('feedback-type') ?? 'abuse'}`,
      remoteMta: fields.get('reporting-mta') ?? fields.get('source-ip') ?? null,
      envelopeId: null,
      quotedMessageId: quotedMessageId(mail),
    },
  ];
}

/** qmail: "<address>:" then the remote server's words, paragraph by paragraph. */
function fromQmail(mail: ParsedMail, text: string): ParsedReport[] {
  const body = text.split(
    /^--- Below this line is a copy of the message\.|^--- Enclosed are the original headers/m,
  )[0]!;
  const reports: ParsedReport[] = [];
  for (const paragraph of body.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    const found = /^<([^<>\s]+@[^<>\s]+)>:\s*\n?([\s\S]*)$/.exec(paragraph.trim());
    if (!found) continue;
    const diagnostic = found[2]!.replace(/\s+/g, ' ').trim() || null;
    const enhancedStatus = statusIn(diagnostic);
    const deferred = /will keep trying|still trying/i.test(text);
    reports.push({
      outcome: deferred ? 'DEFERRED' : 'BOUNCED',
      source: 'DSN',
      bounceType: deferred ? null : bounceTypeOf(enhancedStatus, `${diagnostic} permanent`),
      recipient: found[1]!,
      enhancedStatus,
      diagnostic,
      remoteMta: null,
      envelopeId: null,
      quotedMessageId: quotedMessageId(mail),
    });
  }
  return reports;
}

/** The remote server's words in a text bounce: the paragraph that quotes them. */
function diagnosticIn(text: string): string | null {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const start = lines.findIndex((line) =>
    /SMTP error from remote|Remote Server returned|\bsaid:|Remote host said/i.test(line),
  );
  if (start < 0) return lines.find((line) => /\b[245]\d\d[ -][245]\.\d/.test(line))?.trim() ?? null;
  const paragraph: string[] = [];
  for (const line of lines.slice(start)) {
    if (line.trim() === '') break;
    paragraph.push(line.trim());
  }
  return paragraph.join(' ');
}

/** Exim's and Exchange's X-Failed-Recipients, with the status found in the text. */
function fromFailedRecipients(mail: ParsedMail, header: string): ParsedReport[] {
  const text = mail.text ?? '';
  const enhancedStatus = statusIn(text);
  const diagnosticLine = diagnosticIn(text);
  return header
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address.includes('@'))
    .map((recipient) => ({
      outcome: 'BOUNCED' as const,
      source: 'DSN' as const,
      bounceType: bounceTypeOf(enhancedStatus, text),
      recipient,
      enhancedStatus,
      diagnostic: diagnosticLine,
      remoteMta: null,
      envelopeId: null,
      quotedMessageId: quotedMessageId(mail),
    }));
}

const DELAY_SUBJECT = /delay|still (trying|being retried)|not (yet )?been delivered|warning/i;
const DELAY_TEXT =
  /will (keep|continue) trying|still trying|has not (yet )?been delivered|delivery (is|has been) delayed|temporar/i;

/** A text-only "still trying" warning: a delay, never a failure. */
function fromDelayText(mail: ParsedMail, recipients: string[]): ParsedReport[] {
  const text = mail.text ?? '';
  const address = /<([^<>\s]+@[^<>\s]+)>/.exec(text)?.[1] ?? recipients[0] ?? null;
  return [
    {
      outcome: 'DEFERRED',
      source: 'DSN',
      bounceType: null,
      recipient: address,
      enhancedStatus: statusIn(text),
      diagnostic: null,
      remoteMta: null,
      envelopeId: null,
      quotedMessageId: quotedMessageId(mail),
    },
  ];
}

/** Every report one message carries; empty when it is not a report at all. */
export async function parseReportMail(raw: Buffer): Promise<ParsedReport[]> {
  // Loaded with the first report: mailparser took ~0.4 s to load, and most installations run no
  // bounce listener.
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextLinks: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    // The delivery-status part as a part of its own, not folded into the text.
    keepDeliveryStatus: true,
  } as Parameters<typeof SimpleParser>[1]);
  const feedback = findPart(mail, /^message\/feedback-report$/i);
  if (feedback) return fromFeedbackReport(mail, attachmentText(feedback));
  const status = findPart(mail, /^message\/(global-)?delivery-status$/i);
  if (status) return fromDeliveryStatus(mail, attachmentText(status));
  const text = mail.text ?? '';
  if (
    /qmail-send program|^<[^<>\s]+@[^<>\s]+>:\s*$/m.test(text) &&
    /^Hi\. This is the/m.test(text)
  ) {
    return fromQmail(mail, text);
  }
  const failed = mail.headers.get('x-failed-recipients');
  if (typeof failed === 'string' && failed.trim() !== '') return fromFailedRecipients(mail, failed);
  if (DELAY_SUBJECT.test(mail.subject ?? '') && DELAY_TEXT.test(text)) {
    return fromDelayText(mail, []);
  }
  if (/^Hi\. This is the/m.test(text)) return fromQmail(mail, text);
  return [];
}

/**
 * How a report names its message: the VERP token of the address it was sent to, else our ENVID,
 * else the quoted Message-ID (with the failed recipient). A VERP token or an ENVID that does not
 * verify matches nothing: no fall-back, so a forged one cannot be steered onto another message.
 */
export function targetOf(report: ParsedReport, rcptTo: string, verp: Verp): ReportTarget {
  const byAddress = verp.match(rcptTo);
  if (byAddress.kind === 'valid') return { kind: 'id', id: byAddress.messageId };
  if (byAddress.kind === 'invalid') return { kind: 'none' };
  if (report.envelopeId) {
    const byEnvid = verp.verifyToken(report.envelopeId);
    if (byEnvid.kind === 'valid') return { kind: 'id', id: byEnvid.messageId };
    // An ENVID that is ours in form but does not verify is a forgery, as a bad VERP token is.
    if (byEnvid.kind === 'invalid') return { kind: 'none' };
  }
  if (report.quotedMessageId) {
    return { kind: 'message_id', messageId: report.quotedMessageId, recipient: report.recipient };
  }
  return { kind: 'none' };
}

/**
 * The report as stored. Its event id is a digest of what makes it this report (the report
 * message's own Message-ID, else its bytes, with the recipient and what was said), so the same
 * report delivered twice counts once.
 */
export function toIncomingReport(
  report: ParsedReport,
  target: ReportTarget,
  reportIdentity: string,
): IncomingReport {
  const sourceEventId = createHash('sha256')
    .update(
      [
        reportIdentity,
        report.recipient ?? '',
        report.outcome,
        report.enhancedStatus ?? '',
        report.diagnostic ?? '',
      ].join('\n'),
    )
    .digest('base64url');
  return {
    target,
    outcome: report.outcome,
    sourceEventId,
    recipient: report.recipient,
    detail: {
      source: report.source,
      bounceType: report.bounceType,
      enhancedStatus: report.enhancedStatus,
      diagnostic: report.diagnostic,
      remoteMta: report.remoteMta,
      hint:
        report.outcome === 'BOUNCED' || report.outcome === 'DEFERRED'
          ? bounceHint(report.enhancedStatus, report.diagnostic)
          : null,
    },
  };
}
