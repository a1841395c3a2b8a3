import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { DeliveryError } from '../domain/delivery-error.ts';
import { classifySmtpError } from './classify.ts';
import { composeMessage, type ComposedMessage } from './compose.ts';
import { signMessage, type DkimKey } from './dkim.ts';
import {
  createConnectionPool,
  type ConnectionPool,
  type ConnectionPoolOptions,
} from './connection-pool.ts';
import { guardedSocketFactory, type DestinationPolicy } from './destination-guard.ts';
import type { SmtpEndpoint } from './endpoint.ts';
import { secretRedactor } from './redact.ts';
import { formatTranscript, type TranscriptParts } from './transcript.ts';
import type { OutgoingMail } from './outgoing-mail.ts';

export type { OutgoingMail } from './outgoing-mail.ts';

/**
 * `transcript` is the SMTP dialogue of this attempt (see `SmtpTransportsOptions.transcripts`),
 * or null when it is not kept.
 */
export type SendOutcome =
  | { ok: true; response: string; durationMs: number; transcript: string | null }
  | { ok: false; error: DeliveryError; durationMs: number; transcript: string | null };

export interface SmtpTransports {
  /**
   * Sends one message. Never throws or rejects: every failure becomes `{ ok: false, error }`
   * classified by `classify.ts`. `key` identifies a configuration version; its pool is created
   * from `endpoint` on first use, and later calls with the same key reuse it.
   */
  send(key: string, endpoint: SmtpEndpoint, mail: OutgoingMail): Promise<SendOutcome>;
  /**
   * The same, asking `mayStart` once a connection is free for the message (it may wait behind
   * others for one): false answers null, and nothing was sent.
   */
  send(
    key: string,
    endpoint: SmtpEndpoint,
    mail: OutgoingMail,
    mayStart: () => boolean,
  ): Promise<SendOutcome | null>;
  /**
   * Retires pools whose key is not in `keep` (the configuration changed). A retired pool
   * finishes the sends it has and then closes.
   */
  retainOnly(keep: ReadonlySet<string>): void;
  /**
   * Closes all pools; waits for in-flight sends to finish or fail. Later sends fail. With
   * `force`, connections still delivering are cut (their sends fail): for a caller that has
   * already given them their grace period, as the worker does on shutdown.
   */
  close(options?: { force?: boolean }): Promise<void>;
  /** SMTP connections open now across every pool, for the metrics. */
  openConnections(): number;
}

export interface SmtpTransportsOptions {
  /**
   * Bounds every wait: DNS, connecting (through the greeting and any STARTTLS upgrade), and
   * each reply from the server.
   */
  timeoutMs: number;
  /** Connections per pool. @default 5 */
  maxConnections?: number;
  /**
   * PEM CA certificates trusted in addition to Node's built-in roots, like NODE_EXTRA_CA_CERTS
   * (which Node reads only at startup). Tests trust their own CA with it.
   * @default none
   */
  extraCaCertificates?: readonly string[];
  /**
   * Which sends return the SMTP transcript of their attempt: `'failures'`, `'all'` or `'off'`.
   * A transcript is the commands and replies in order, credentials and the message itself
   * replaced by placeholders, at most about 4 KB (head and tail kept). Each send's transcript
   * starts with the setup of its connection (greeting, EHLO, STARTTLS, AUTH), which a pooled
   * connection did once; a later send on it says `(connection #N reused: send K on it)` before
   * its own lines. `'off'` stores no lines at all; `'failures'` records lines but formats text
   * only for failures.
   * @default 'failures'
   */
  transcripts?: 'failures' | 'all' | 'off';
  /**
   * Where connections may go (SMTP_DISALLOW_PRIVATE_IPS, SMTP_ALLOWED_PORTS): checked on the
   * resolved address that is then dialled, see destination-guard.ts.
   * @default null (anywhere)
   */
  destination?: DestinationPolicy | null;
}

interface Pool {
  connections: ConnectionPool;
  inFlight: number;
  retired: boolean;
  redact: (text: string) => string;
}

/**
 * Connection pool options for an endpoint, built explicitly: no URL or `service` guessing.
 */
function poolOptions(
  endpoint: SmtpEndpoint,
  options: SmtpTransportsOptions,
  secureContext?: tls.SecureContext,
): ConnectionPoolOptions {
  const { timeoutMs } = options;
  const tlsOptions: tls.ConnectionOptions = {
    rejectUnauthorized: endpoint.verifyCertificate,
    ...(secureContext ? { secureContext } : {}),
  };
  const serverName = endpoint.serverName;
  let servername: string | undefined;
  if (serverName !== null) {
    // Node checks the certificate against the SNI name, but SNI may not carry an IP address.
    if (net.isIP(serverName)) {
      tlsOptions.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(serverName, cert);
    } else {
      servername = serverName;
    }
  }
  const credentials = endpoint.username !== null;
  const connection: SMTPConnection.Options = {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'implicit-tls',
    // requireTLS sends STARTTLS even when the server does not announce it, and fails rather
    // than continue in cleartext; it also overrides ignoreTLS and opportunisticTLS.
    requireTLS: endpoint.security === 'starttls',
    ignoreTLS: endpoint.security === 'cleartext',
    opportunisticTLS: false,
    ...(servername ? { servername } : {}),
    tls: tlsOptions,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // One ms after the setup deadline, so a server silent during setup is reported as the
    // greeting or handshake timeout (which says more) rather than as an idle socket.
    socketTimeout: timeoutMs + 1,
  } as SMTPConnection.Options;
  return {
    connection,
    // Configured credentials are used or the send fails; never silently dropped because the
    // server did not announce AUTH.
    auth: credentials ? { user: endpoint.username!, pass: endpoint.password ?? '' } : null,
    maxConnections: options.maxConnections ?? 5,
    // The delivery queue retries; the pool only re-sends once when a reused connection turns
    // out to be closed.
    maxRequeues: 1,
    keepTranscripts: (options.transcripts ?? 'failures') !== 'off',
    ...(options.destination
      ? { getSocket: guardedSocketFactory(options.destination, timeoutMs) }
      : {}),
  };
}

/** The message signed, or the delivery error that stops it from going out unsigned. */
async function signedMessage(
  message: ComposedMessage,
  key: DkimKey,
): Promise<ComposedMessage | { error: DeliveryError }> {
  const result = await signMessage(message.raw, key);
  if (result.ok) return { ...message, raw: result.raw };
  return {
    error: {
      code: 'CONFIG',
      message: `DKIM signing failed for ${key.selector}._domainkey.${key.domain}: ${result.reason}; the message was not sent unsigned`,
      responseCode: null,
      enhancedStatus: null,
      command: null,
      response: null,
      permanent: false,
      hint: 'Give configureSmtp a valid DKIM private key (input.dkim.privateKey), or turn signing off with dkim: null; retryConfigurationFailures then sends the message again.',
    },
  };
}

const CLOSED_ERROR: DeliveryError = {
  code: 'CONNECTION',
  message: 'SMTP transports are closed: the service is shutting down',
  responseCode: null,
  enhancedStatus: null,
  command: null,
  response: null,
  permanent: false,
  hint: 'The message stays queued and is sent after the restart.',
};

/** Pooled SMTP connections, one pool per configuration key. */
export function createSmtpTransports(options: SmtpTransportsOptions): SmtpTransports {
  const pools = new Map<string, Pool>();
  const extraCa = options.extraCaCertificates ?? [];
  // One context for every connection, rather than parsing all the roots again per handshake.
  const secureContext =
    extraCa.length > 0
      ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] })
      : undefined;
  const transcripts = options.transcripts ?? 'failures';
  let inFlight = 0;
  let closed = false;
  let closing: Promise<void> | null = null;
  let drained: (() => void) | null = null;

  function retire(pool: Pool): void {
    pool.retired = true;
    if (pool.inFlight === 0) pool.connections.close();
  }

  async function send(
    key: string,
    endpoint: SmtpEndpoint,
    mail: OutgoingMail,
    mayStart?: () => boolean,
  ): Promise<SendOutcome | null> {
    const startedAt = performance.now();
    if (closed) return { ok: false, error: CLOSED_ERROR, durationMs: 0, transcript: null };
    let pool = pools.get(key);
    try {
      if (pool === undefined) {
        pool = {
          connections: createConnectionPool(poolOptions(endpoint, options, secureContext)),
          inFlight: 0,
          retired: false,
          redact: secretRedactor(endpoint),
        };
        pools.set(key, pool);
      }
    } catch (err) {
      return {
        ok: false,
        error: classifySmtpError(err, endpoint),
        durationMs: 0,
        transcript: null,
      };
    }
    pool.inFlight++;
    inFlight++;
    try {
      const composed = await composeMessage(mail);
      const signed = mail.dkim ? await signedMessage(composed, mail.dkim) : composed;
      if ('error' in signed) {
        return {
          ok: false,
          error: signed.error,
          durationMs: performance.now() - startedAt,
          transcript: null,
        };
      }
      const result =
        mayStart === undefined
          ? await pool.connections.send(signed)
          : await pool.connections.send(signed, mayStart);
      if (result === null) return null;
      const parts = result.transcript;
      if (result.ok) {
        return {
          ok: true,
          response: result.response,
          durationMs: performance.now() - startedAt,
          transcript: parts !== null && transcripts === 'all' ? format(pool, parts, null) : null,
        };
      }
      const error = classifySmtpError(result.error, endpoint, result.phase ?? 'setup');
      return {
        ok: false,
        error,
        durationMs: performance.now() - startedAt,
        transcript: parts === null ? null : format(pool, parts, error),
      };
    } catch (err) {
      // Composing failed (nodemailer refused the message): nothing was sent.
      return {
        ok: false,
        error: classifySmtpError(err, endpoint),
        durationMs: performance.now() - startedAt,
        transcript: null,
      };
    } finally {
      pool.inFlight--;
      inFlight--;
      if (pool.retired && pool.inFlight === 0) pool.connections.close();
      // After this send's own promise settles, so its callers see the outcome before close()
      // returns.
      if (inFlight === 0 && drained) setImmediate(drained);
    }
  }

  function format(pool: Pool, parts: TranscriptParts, error: DeliveryError | null): string {
    // A failure the server did not state in a reply is said in a last line of its own.
    const outcome = error !== null && error.response === null ? `(failed: ${error.message})` : null;
    return formatTranscript({ ...parts, outcome }, pool.redact);
  }

  function retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, pool] of pools) {
      if (keep.has(key)) continue;
      pools.delete(key);
      retire(pool);
    }
  }

  function close(closeOptions: { force?: boolean } = {}): Promise<void> {
    if (closeOptions.force) {
      for (const pool of pools.values()) pool.connections.close({ force: true });
    }
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      retainOnly(new Set());
      if (inFlight === 0) resolve();
      else drained = resolve;
    });
    return closing;
  }

  function openConnections(): number {
    let open = 0;
    for (const pool of pools.values()) open += pool.connections.size;
    return open;
  }

  // One function for both overloads: null only ever answers a `mayStart`.
  return { send: send as SmtpTransports['send'], retainOnly, close, openConnections };
}
