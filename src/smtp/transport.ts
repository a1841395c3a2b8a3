import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import type { SendMailOptions, SMTPPoolOptions, Transporter } from 'nodemailer';
import type { DeliveryError } from '../domain/delivery-error.ts';
import type { Header } from '../domain/message.ts';
import { classifySmtpError } from './classify.ts';
import { guardedSocketFactory, type DestinationPolicy } from './destination-guard.ts';
import type { SmtpEndpoint } from './endpoint.ts';
import { secretRedactor } from './redact.ts';
import { formatTranscript, type TranscriptParts } from './transcript.ts';
import {
  createTranscriptRecorder,
  type NodemailerLogger,
  type TranscriptRecorder,
} from './transcript-recorder.ts';

export interface OutgoingMail {
  from: { address: string; name: string | null };
  /** The one recipient: the `To` header and the envelope's RCPT TO. */
  to: string;
  subject: string;
  text: string | null;
  html: string | null;
  /** Extra headers, in order; a later header replaces an earlier one of the same name. */
  headers: Header[];
  /** The full Message-ID, "<…@…>". */
  messageId: string;
}

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
   * its own lines. `'off'` gives nodemailer no logger at all; `'failures'` records lines but
   * formats text only for failures.
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
  transporter: Transporter;
  inFlight: number;
  retired: boolean;
  recorder: TranscriptRecorder | null;
  redact: (text: string) => string;
}

/**
 * Nodemailer options for an endpoint, built explicitly: no URL or `service` guessing. With a
 * `logger`, nodemailer logs every command and reply to it (never the message itself).
 */
export function transportOptions(
  endpoint: SmtpEndpoint,
  options: SmtpTransportsOptions,
  secureContext?: tls.SecureContext,
  logger?: NodemailerLogger,
): SMTPPoolOptions & { pool: true } {
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
  return {
    pool: true,
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
    ...(credentials ? { auth: { user: endpoint.username!, pass: endpoint.password ?? '' } } : {}),
    // Configured credentials are used or the send fails; never silently dropped because the
    // server did not announce AUTH.
    forceAuth: credentials,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // One ms after the setup deadline, so a server silent during setup is reported as the
    // greeting or handshake timeout (which says more) rather than as an idle socket.
    socketTimeout: timeoutMs + 1,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: Infinity,
    // The delivery queue retries; the pool only re-sends once when a reused connection turns
    // out to be closed, instead of five times with back-off.
    maxRequeues: 1,
    logger: logger ?? false,
    // debug would log the message content too.
    debug: false,
    transactionLog: logger !== undefined,
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(options.destination
      ? { getSocket: guardedSocketFactory(options.destination, timeoutMs) }
      : {}),
  };
}

function mailOptions(mail: OutgoingMail): SendMailOptions {
  const options: SendMailOptions = {
    from: { name: mail.from.name ?? '', address: mail.from.address },
    to: mail.to,
    subject: mail.subject,
    messageId: mail.messageId,
    envelope: { from: mail.from.address, to: [mail.to] },
  };
  if (mail.text !== null) options.text = mail.text;
  if (mail.html !== null) options.html = mail.html;
  if (mail.headers.length > 0) {
    const byName = new Map<string, { key: string; value: string }>();
    for (const { name, value } of mail.headers)
      byName.set(name.toLowerCase(), { key: name, value });
    options.headers = [...byName.values()];
  }
  return options;
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

/** Pooled nodemailer transports, one pool per configuration key. */
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
    if (pool.inFlight === 0) pool.transporter.close();
  }

  async function send(
    key: string,
    endpoint: SmtpEndpoint,
    mail: OutgoingMail,
  ): Promise<SendOutcome> {
    const startedAt = performance.now();
    if (closed) return { ok: false, error: CLOSED_ERROR, durationMs: 0, transcript: null };
    let pool = pools.get(key);
    try {
      if (pool === undefined) {
        const recorder = transcripts === 'off' ? null : createTranscriptRecorder();
        const transporter = nodemailer.createTransport(
          transportOptions(endpoint, options, secureContext, recorder?.logger),
        );
        // Failures reach each send's promise; an 'error' event without a listener would
        // instead crash the process.
        transporter.on('error', () => {});
        pool = {
          transporter,
          inFlight: 0,
          retired: false,
          recorder,
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
    const followed = pool.recorder?.follow(mail.messageId) ?? null;
    try {
      const info = await pool.transporter.sendMail(mailOptions(mail));
      const parts = followed?.finish() ?? null;
      return {
        ok: true,
        response: String(info.response ?? ''),
        durationMs: performance.now() - startedAt,
        transcript: parts !== null && transcripts === 'all' ? format(pool, parts, null) : null,
      };
    } catch (err) {
      const parts = followed?.finish(err) ?? null;
      const error = classifySmtpError(err, endpoint);
      return {
        ok: false,
        error,
        durationMs: performance.now() - startedAt,
        transcript: parts === null ? null : format(pool, parts, error),
      };
    } finally {
      pool.inFlight--;
      inFlight--;
      if (pool.retired && pool.inFlight === 0) pool.transporter.close();
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
      for (const pool of pools.values()) pool.transporter.close({ force: true });
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
    for (const pool of pools.values()) {
      // nodemailer does not expose its pool's size; `_connections` is the SMTPPool's own list.
      // Reading it is a metric only: if a release renames it, the gauge reads 0, nothing breaks.
      const internals = (
        pool.transporter as unknown as { transporter?: { _connections?: unknown } }
      ).transporter;
      if (Array.isArray(internals?._connections)) open += internals._connections.length;
    }
    return open;
  }

  return { send, retainOnly, close, openConnections };
}
