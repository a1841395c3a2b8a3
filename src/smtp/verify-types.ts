/** What a verification reports, step by step (verify.ts runs it; verify-steps.ts fills it in). */
import type { DeliveryError } from '../domain/delivery-error.ts';
import type { DestinationPolicy } from './destination-guard.ts';
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
