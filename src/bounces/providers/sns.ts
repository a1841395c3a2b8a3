import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';

// Amazon SNS message signatures: version 1 (RSA-SHA1) and 2 (RSA-SHA256) over the canonical
// string of the message's fields, with the certificate at SigningCertURL, which is fetched only
// from Amazon's SNS hosts (or the SNS_CERT_HOSTS entries, when set).

export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
}

const REQUIRED = [
  'Type',
  'MessageId',
  'TopicArn',
  'Message',
  'Timestamp',
  'SignatureVersion',
  'Signature',
  'SigningCertURL',
] as const;

/** The fields of an SNS message, or null when it is not one. */
export function readSnsMessage(value: unknown): SnsMessage | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  for (const name of REQUIRED) if (typeof record[name] !== 'string') return null;
  for (const name of ['Subject', 'Token', 'SubscribeURL']) {
    if (record[name] !== undefined && typeof record[name] !== 'string') return null;
  }
  return record as unknown as SnsMessage;
}

/** The string SNS signs: `name\nvalue\n` for each field of the message's type, in this order. */
export function canonicalString(message: SnsMessage): string {
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let out = '';
  for (const name of names) {
    const value = (message as unknown as Record<string, string | undefined>)[name];
    if (value !== undefined) out += `${name}\n${value}\n`;
  }
  return out;
}

const AMAZON_SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/**
 * Whether a SigningCertURL or SubscribeURL may be fetched: https, no credentials, and from
 * `sns.<region>.amazonaws.com[.cn]` on the default port, or, when `allowedHosts` is set, from one
 * of its `host[:port]` entries instead.
 */
export function allowedSnsUrl(text: string, allowedHosts: readonly string[] | null): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null;
  if (allowedHosts !== null) return allowedHosts.includes(url.host) ? url : null;
  return url.port === '' && AMAZON_SNS_HOST.test(url.hostname) ? url : null;
}

const FETCH_TIMEOUT_MS = 5_000;
const MAX_FETCH_BYTES = 64 * 1024;

export interface SnsFetcher {
  /** GETs an allowed URL; the body (at most 64 KiB) and the status. */
  get(url: URL): Promise<{ status: number; body: Buffer }>;
}

/**
 * HTTPS GETs with a time and size limit, trusting Node's roots (and NODE_EXTRA_CA_CERTS, which
 * Node reads at start) plus `extraCaCertificates` (PEM), as the SMTP transports do.
 */
export function createSnsFetcher(extraCaCertificates: readonly string[] = []): SnsFetcher {
  const ca =
    extraCaCertificates.length > 0 ? [...tls.rootCertificates, ...extraCaCertificates] : undefined;
  return {
    get: (url) =>
      new Promise((resolve, reject) => {
        const request = https.get(url, { ca, timeout: FETCH_TIMEOUT_MS }, (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_FETCH_BYTES) {
              request.destroy(new Error(`more than ${MAX_FETCH_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
          );
          response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error('timed out')));
        request.on('error', reject);
      }),
  };
}

export type CertificateResult = { ok: true; key: KeyObject } | { ok: false; unreachable: boolean };

/** Signing certificates by URL: each is fetched once (SNS signs with few). */
export function createCertificateCache(fetcher: SnsFetcher, maxEntries = 32) {
  const keys = new Map<string, Promise<CertificateResult>>();
  async function load(url: URL): Promise<CertificateResult> {
    let response: { status: number; body: Buffer };
    try {
      response = await fetcher.get(url);
    } catch {
      return { ok: false, unreachable: true };
    }
    if (response.status !== 200) return { ok: false, unreachable: true };
    try {
      const certificate = new X509Certificate(response.body);
      const nowMs = Date.now();
      if (Date.parse(certificate.validFrom) > nowMs || Date.parse(certificate.validTo) < nowMs) {
        return { ok: false, unreachable: false };
      }
      return {
        ok: true,
        key: createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' })),
      };
    } catch {
      return { ok: false, unreachable: false };
    }
  }
  return {
    get(url: URL): Promise<CertificateResult> {
      const cached = keys.get(url.href);
      if (cached) return cached;
      const loading = load(url).then((result) => {
        // Only good certificates are kept: a failed fetch is tried again next time.
        if (!result.ok) keys.delete(url.href);
        return result;
      });
      if (keys.size >= maxEntries) keys.delete(keys.keys().next().value!);
      keys.set(url.href, loading);
      return loading;
    },
  };
}

/** Whether the message's signature verifies under `key`. */
export function snsSignatureValid(message: SnsMessage, key: KeyObject): boolean {
  const algorithm =
    message.SignatureVersion === '1' ? 'sha1' : message.SignatureVersion === '2' ? 'sha256' : null;
  if (algorithm === null) return false;
  try {
    return verify(
      algorithm,
      Buffer.from(canonicalString(message), 'utf8'),
      key,
      Buffer.from(message.Signature, 'base64'),
    );
  } catch {
    return false;
  }
}
