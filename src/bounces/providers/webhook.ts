import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ReportIntake } from '../../delivery/report-intake.ts';
import type { IncomingReport, ReportTarget } from '../../domain/report.ts';

// What the four provider webhooks share: the request as received (raw bytes, verified before
// anything is parsed into reports), the answer, and how a provider's event names our message.

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received: signatures are checked against these bytes. */
  body: Buffer;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

export type WebhookHandler = (request: WebhookRequest) => Promise<WebhookAnswer>;

/** The name our id goes by in every provider's stamp (correlation-stamps.ts writes it). */
export const STAMP_KEY = 'mailscope-id';

/** SendGrid and Mailgun timestamps older (or further ahead) than this are refused. */
export const MAX_AGE_MS = 10 * 60_000;

export const refused = (problem: string): WebhookAnswer => ({
  status: 401,
  body: { error: problem },
});
export const malformed = (problem: string): WebhookAnswer => ({
  status: 400,
  body: { error: problem },
});

/** Equal strings, in time that does not depend on where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(quoteLongIntegers(body.toString('utf8'))) };
  } catch {
    return { ok: false };
  }
}

/**
 * Integers of 16 digits or more, outside strings, made strings: JSON.parse rounds those past
 * 2^53, and providers' event ids are int64 (Postmark's `ID`): two bounces whose ids differ in
 * the last digits were read as one, and the second dropped as a repeat.
 */
export function quoteLongIntegers(json: string): string {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i]!;
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      continue;
    }
    if ((char === '-' || (char >= '0' && char <= '9')) && !/[\d.eE+-]/.test(json[i - 1] ?? '')) {
      const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(json.slice(i, i + 40))![0];
      if (/^-?\d{16,}$/.test(number)) {
        out += `${json.slice(from, i)}"${number}"`;
        from = i + number.length;
      }
      i += number.length - 1;
    }
  }
  return from === 0 ? json : out + json.slice(from);
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : null;

/**
 * The message an event names: our id from the stamp, else the Message-ID the provider echoes
 * (with the recipient, which tells apart the messages of one submission), else none.
 */
export function targetFor(
  stamp: unknown,
  messageId: string | null,
  recipient: string | null,
): ReportTarget {
  const id = text(Array.isArray(stamp) ? stamp[0] : stamp);
  if (id !== null && /^\d{1,15}$/.test(id) && Number(id) > 0) return { kind: 'id', id: Number(id) };
  if (messageId !== null) {
    const bare = messageId.trim().replace(/^<|>$/g, '');
    if (/^[^<>\s]+@[^<>\s]+$/.test(bare)) {
      return { kind: 'message_id', messageId: `<${bare}>`, recipient };
    }
  }
  return { kind: 'none' };
}

/** Hands each report to the intake; the answer says what became of them. */
export async function acceptReports(
  intake: ReportIntake,
  reports: readonly IncomingReport[],
): Promise<WebhookAnswer> {
  const counts = { recorded: 0, duplicate: 0, unmatched: 0 };
  for (const report of reports) counts[(await intake.accept(report)).kind] += 1;
  return { status: 200, body: { received: reports.length, ...counts } };
}
