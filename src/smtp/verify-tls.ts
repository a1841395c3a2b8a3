/**
 * TLS for `verify.ts`: the handshake always completes (`rejectUnauthorized: false`) so that the
 * certificate can be shown, and the verdict is then reached here, the way a verifying client
 * would reach it: chain to a trusted root, then the name.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SmtpEndpoint } from './endpoint.ts';

export interface TlsDetails {
  /** e.g. "TLSv1.3". */
  protocol: string | null;
  /** e.g. "TLS_AES_256_GCM_SHA384". */
  cipher: string | null;
  /** The certificate's subject CN, else its whole subject. */
  subject: string | null;
  /** DNS names and IP addresses from subjectAltName, e.g. `["mail.example.com", "127.0.0.1"]`. */
  subjectAltNames: string[];
  /** The issuer's CN, else its O. */
  issuer: string | null;
  /** ISO 8601. */
  validFrom: string | null;
  /** ISO 8601. */
  validTo: string | null;
  /** The chain leads to a trusted root (Node's, plus the extra CAs given to the check). */
  trusted: boolean;
  /** Why the chain is not trusted, as OpenSSL names it, e.g. "DEPTH_ZERO_SELF_SIGNED_CERT". */
  trustError: string | null;
  /** The name the certificate was checked against: `server_name`, else the host. */
  nameChecked: string;
  nameMatches: boolean;
  /** `skip_ssl_verify=true`: the details are reported, but a failed check is not fatal. */
  verificationSkipped: boolean;
}

/** Trusted roots as in `transport.ts`: Node's, plus the extra CAs when there are any. */
export function secureContextFor(
  extraCaCertificates: readonly string[],
): tls.SecureContext | undefined {
  return extraCaCertificates.length > 0
    ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCaCertificates] })
    : undefined;
}

export function nameToCheck(endpoint: SmtpEndpoint): string {
  return endpoint.serverName ?? endpoint.host;
}

export function tlsConnectionOptions(
  endpoint: SmtpEndpoint,
  secureContext: tls.SecureContext | undefined,
): tls.ConnectionOptions {
  const name = nameToCheck(endpoint);
  return {
    // SNI may not carry an IP address.
    ...(net.isIP(name) ? {} : { servername: name }),
    ...(secureContext ? { secureContext } : {}),
    rejectUnauthorized: false,
    // Keeps `authorized` about the chain alone; the name is checked separately in inspectTls.
    checkServerIdentity: () => undefined,
  };
}

/** OpenSSL's wording for the usual reasons (Node gives only the code once the handshake is done). */
const TRUST_ERROR_TEXT: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REVOKED: 'certificate revoked',
};

export interface TlsInspection {
  details: TlsDetails;
  /** One line for a person. */
  summary: string;
  /** Errors shaped for `classifySmtpError`, in the order a verifying client meets them. */
  problems: Error[];
}

export function inspectTls(socket: tls.TLSSocket, endpoint: SmtpEndpoint): TlsInspection {
  const cert = socket.getPeerCertificate();
  const hasCert = Object.keys(cert).length > 0;
  const subject = cert.subject as unknown as CertName | undefined;
  const issuer = cert.issuer as unknown as CertName | undefined;
  const nameChecked = nameToCheck(endpoint);
  const authorizationError = socket.authorizationError as unknown;
  const trustError = socket.authorized
    ? null
    : String(
        authorizationError instanceof Error
          ? ((authorizationError as Error & { code?: string }).code ?? authorizationError.message)
          : (authorizationError ?? 'UNKNOWN'),
      );
  const nameError = hasCert
    ? (tls.checkServerIdentity(nameChecked, cert) ?? null)
    : new Error('the server sent no certificate');
  const cipher = socket.getCipher() as
    (tls.CipherNameAndProtocol & { standardName?: string }) | null;
  const details: TlsDetails = {
    protocol: socket.getProtocol(),
    cipher: cipher ? (cipher.standardName ?? cipher.name) : null,
    subject: hasCert ? (field(subject, 'CN') ?? wholeName(subject)) : null,
    subjectAltNames: hasCert ? altNames(cert.subjectaltname) : [],
    issuer: hasCert ? (field(issuer, 'CN') ?? field(issuer, 'O') ?? wholeName(issuer)) : null,
    validFrom: hasCert ? isoDate(cert.valid_from) : null,
    validTo: hasCert ? isoDate(cert.valid_to) : null,
    trusted: socket.authorized,
    trustError,
    nameChecked,
    nameMatches: nameError === null,
    verificationSkipped: !endpoint.verifyCertificate,
  };

  const problems: Error[] = [];
  if (trustError !== null) {
    const text = TRUST_ERROR_TEXT[trustError] ?? trustError;
    problems.push(Object.assign(new Error(text), { code: trustError }));
  }
  if (nameError) problems.push(nameError);
  return { details, summary: summarize(details), problems };
}

function summarize(d: TlsDetails): string {
  const names = d.subjectAltNames.length > 0 ? d.subjectAltNames.join(', ') : (d.subject ?? '?');
  const parts = [
    `${d.protocol ?? 'TLS'}${d.cipher ? ` ${d.cipher}` : ''}`,
    `certificate for ${names}${d.issuer ? ` issued by ${d.issuer}` : ''}${d.validTo ? `, valid until ${d.validTo}` : ''}`,
    d.trusted ? 'trusted' : `not trusted (${TRUST_ERROR_TEXT[d.trustError ?? ''] ?? d.trustError})`,
    d.nameMatches ? `valid for ${d.nameChecked}` : `not valid for ${d.nameChecked}`,
  ];
  if (d.verificationSkipped) parts.push('verification skipped (skip_ssl_verify=true)');
  return parts.join('; ');
}

type CertName = Record<string, string | string[] | undefined>;

/** A certificate field may repeat (then Node gives an array). */
function field(name: CertName | undefined, key: string): string | null {
  const value = name?.[key];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function wholeName(name: CertName | undefined): string | null {
  const text = Object.entries(name ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
  return text === '' ? null : text;
}

function altNames(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
    .filter((entry) => entry !== '');
}

function isoDate(text: string | undefined): string | null {
  if (!text) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
