import type { DeliveryErrorCode } from '../domain/delivery-error.ts';
import { parseEnhancedStatus } from './enhanced-status.ts';

/**
 * What classify.ts reads from whatever nodemailer (or Node underneath it) failed with, and the
 * shape of what its classifiers make of it.
 *
 * Nodemailer replaces a socket error's `code` with its own (`ESOCKET`, `EDNS`, …) and keeps
 * Node's in `originalCode`, so both are read, along any `cause` chain.
 */
/**
 * Where an SMTP session was when it failed: 'setup' (connecting, greeting, EHLO, TLS, AUTH),
 * 'transaction' (MAIL FROM up to DATA's 354: nothing of the message sent) or 'message' (after
 * the 354: the server may have the message).
 */
export type SessionPhase = 'setup' | 'transaction' | 'message';

export interface Facts {
  /** Every `code` and `originalCode` along the error and its causes, outermost first. */
  codes: string[];
  message: string;
  /** Node's short TLS reason, e.g. "wrong version number". */
  reason: string | null;
  response: string | null;
  responseCode: number | null;
  enhancedStatus: string | null;
  /** Nodemailer's command, with its internal "API" (no SMTP command involved) dropped. */
  command: string | null;
  timeoutType: string | null;
  recipient: string | null;
  /** Names the server's certificate is valid for (DNS SANs, else its CN), when Node says. */
  certNames: string[];
  /** Where the session was, when the caller knows (a delivery does, a check does not). */
  phase: SessionPhase | null;
}

/** What a classifier makes of the facts; `classifySmtpError` turns it into a `DeliveryError`. */
export interface Classified {
  code: DeliveryErrorCode;
  message: string;
  hint: string | null;
  permanent?: boolean;
  /** Overrides the command nodemailer reported; `undefined` keeps it. */
  command?: string | null;
}

type ErrorLike = Record<string, unknown>;

export function readFacts(err: unknown, phase: SessionPhase | null = null): Facts {
  const chain: ErrorLike[] = [];
  for (let e: unknown = err; isObject(e) && chain.length < 5; e = e['cause']) chain.push(e);
  const outer: ErrorLike = chain[0] ?? {};
  const codes = chain.flatMap((e) => [e['code'], e['originalCode']]).filter(isString);
  const response = isString(outer['response']) ? outer['response'] : null;
  const responseCode =
    typeof outer['responseCode'] === 'number'
      ? outer['responseCode']
      : response
        ? Number(/^([2-5]\d\d)\b/.exec(response)?.[1]) || null
        : null;
  const command =
    isString(outer['command']) && outer['command'] !== 'API' ? outer['command'] : null;
  const rejected = Array.isArray(outer['rejectedErrors']) ? outer['rejectedErrors'] : [];
  const recipient = [
    outer['recipient'],
    ...rejected.map((r) => (isObject(r) ? r['recipient'] : null)),
  ].find(isString);
  return {
    codes,
    message: isString(outer['message']) ? outer['message'] : String(err),
    reason: chain.map((e) => e['reason']).find(isString) ?? null,
    response,
    responseCode,
    enhancedStatus: response ? parseEnhancedStatus(response) : null,
    command,
    timeoutType: isString(outer['timeoutType']) ? outer['timeoutType'] : null,
    recipient: recipient ?? null,
    certNames: chain.map((e) => certNames(e['cert'])).find((names) => names.length > 0) ?? [],
    phase,
  };
}

function certNames(cert: unknown): string[] {
  if (!isObject(cert)) return [];
  const sans = isString(cert['subjectaltname']) ? cert['subjectaltname'] : '';
  const dns = [...sans.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!);
  const ips = [...sans.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]!);
  if (dns.length + ips.length > 0) return [...dns, ...ips];
  const subject = cert['subject'];
  return isObject(subject) && isString(subject['CN']) ? [subject['CN']] : [];
}

function isObject(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null;
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
