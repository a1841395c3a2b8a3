/**
 * "Verify before sending": walks an SMTP endpoint step by step (DNS, TCP, TLS, greeting, EHLO,
 * STARTTLS, AUTH) and reports what each step saw, without sending mail. A small client of our
 * own rather than nodemailer's `verify()`, which reports only the first error and hides the
 * certificate, the extensions and where the time went.
 *
 * Expected failures are data (`ok: false` on the step, with a `DeliveryError` classified by
 * `classify.ts`, so the hints match those of a failed delivery); the promise never rejects.
 */
import { performance } from 'node:perf_hooks';
import type { DeliveryError } from '../domain/delivery-error.ts';
import type { DestinationPolicy } from './destination-guard.ts';
import type { SmtpEndpoint } from './endpoint.ts';
import { secretVariants } from './redact.ts';
import { Verification } from './verify-steps.ts';
import type { TlsDetails } from './verify-tls.ts';

export type { TlsDetails } from './verify-tls.ts';

export type VerifyStepName = 'DNS' | 'CONNECT' | 'GREETING' | 'EHLO' | 'STARTTLS' | 'TLS' | 'AUTH';

export interface VerifyStep {
  name: VerifyStepName;
  ok: boolean;
  /** Whole milliseconds. */
  durationMs: number;
  /** One line for a person, e.g. "220 mx.example.com ESMTP". Never contains the password. */
  detail: string;
  /** DNS: the addresses, in the order they are tried. */
  addresses?: string[];
  /** GREETING: the whole greeting reply, lines joined with "\n". */
  banner?: string;
  /** EHLO: advertised keywords with parameters, e.g. ["SIZE 10240000", "AUTH PLAIN LOGIN"]. */
  extensions?: string[];
  authMechanisms?: string[];
  maxMessageSize?: number | null;
  startTls?: boolean;
  smtpUtf8?: boolean;
  pipelining?: boolean;
  /** TLS: protocol, certificate and the verdict on it; also present when the step failed. */
  tls?: TlsDetails;
  /** AUTH: the mechanism used and the server's final reply; never the credentials. */
  auth?: { mechanism: string; accepted: boolean; response: string };
  /** Set on the failing step, which is always the last one. */
  error?: DeliveryError;
}

export interface VerifyReport {
  ok: boolean;
  steps: VerifyStep[];
  /** Whole milliseconds, including QUIT and closing the connection. */
  totalDurationMs: number;
}

export interface VerifyOptions {
  /**
   * Bounds each step: the DNS lookup, connecting (all addresses together), the TLS handshake
   * and each reply awaited; QUIT at the end waits at most this long too.
   */
  timeoutMs: number;
  /** PEM CA certificates trusted in addition to Node's roots, as for the transports. */
  extraCaCertificates?: readonly string[];
  /** Where connections may go (SMTP_DISALLOW_PRIVATE_IPS, SMTP_ALLOWED_PORTS). @default null (anywhere) */
  destination?: DestinationPolicy | null;
  /** The name sent with EHLO. @default this machine's FQDN, else "[127.0.0.1]" (as nodemailer) */
  clientName?: string;
}

/**
 * Checks the endpoint without sending mail. Stops at the first failing step; ends with QUIT
 * (when the conversation allows it) and always closes the connection. AUTH runs only when the
 * endpoint has a user name; otherwise there is no AUTH step.
 */
export async function verifySmtpEndpoint(
  endpoint: SmtpEndpoint,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const startedAt = performance.now();
  const verification = new Verification(endpoint, options);
  try {
    await verification.run();
  } finally {
    await verification.close();
  }
  const steps = redactSecrets(verification.steps, endpoint);
  return {
    ok: steps.every((step) => step.ok),
    steps,
    totalDurationMs: Math.round(performance.now() - startedAt),
  };
}

/**
 * Nothing here builds text from the password, but a server may echo what it was sent (a LOGIN
 * or PLAIN payload in an error reply). The secrets are those of redact.ts.
 */
function redactSecrets(steps: VerifyStep[], endpoint: SmtpEndpoint): VerifyStep[] {
  const secrets = secretVariants(endpoint);
  if (secrets.length === 0) return steps;
  const redact = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return secrets.reduce((text, secret) => text.split(secret).join('***'), value);
    }
    if (Array.isArray(value)) return value.map(redact);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, redact(v)]));
    }
    return value;
  };
  return redact(steps) as VerifyStep[];
}
