import { isIP, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { describeListenError } from '../listen-error.ts';
import { sendGathered } from './gathered-replies.ts';

/** MAIL FROM and RCPT TO of one submitted message. */
export interface SubmittedEnvelope {
  /** The MAIL FROM address; null for the null sender `<>`. */
  sender: string | null;
  recipients: string[];
  /** The submitting client's address, for the log. */
  remoteAddress: string;
}

/** Who authenticated on a submission connection. */
export interface Submitter {
  /** The token's name, for logs. */
  name: string;
  /** What the per-token send limit counts against. */
  rateKey: string;
  /** False once the token was revoked: a pooled connection outlives AUTH by hours. */
  stillValid(): Promise<boolean>;
}

/**
 * Why a submission was refused, as /metrics and the logs name it: an operator's answer to "why
 * did my application's mail never reach mailscope?".
 */
export const SUBMISSION_REFUSAL_REASONS = [
  /** AUTH in cleartext from off this machine (530 5.7.0). */
  'starttls_required',
  /** AUTH with a token that is wrong, or may not send (535 5.7.8). */
  'bad_credentials',
  /** The token was revoked while its connection stayed open (535 5.7.8). */
  'token_revoked',
  /** MAIL or RCPT before AUTH (530 5.7.0). */
  'auth_required',
  /** The token could not be checked: the database was unreachable (454 4.7.0). */
  'auth_unavailable',
  /** An RCPT TO address mailscope does not send to (553 5.1.3). */
  'recipient_rejected',
  /** More RCPT TO than one message may have (452 4.5.3). */
  'too_many_recipients',
  /** Over SUBMISSION_MAX_BYTES (552 5.3.4). */
  'too_big',
  /** No From address and no envelope sender (550 5.6.0). */
  'no_sender',
  /** More than one From header, or a bare CR in the header section (550 5.6.0). */
  'malformed_headers',
  /** A From domain outside SENDER_DOMAIN_ALLOWLIST (550 5.7.1). */
  'sender_not_allowed',
  /** The token's send rate limit, for now (451 4.7.1). */
  'rate_limited',
  /** More recipients than the token may send in a minute, ever (550 5.7.1). */
  'over_rate_capacity',
  /** Nothing could be stored (451 4.3.0). */
  'storage_unavailable',
  /** A failure of mailscope's own while reading or storing (451 4.3.0). */
  'local_error',
  /** A command smtp-server refused: bad syntax, out of order, unknown (5xx). */
  'command_rejected',
] as const;
export type SubmissionRefusalReason = (typeof SUBMISSION_REFUSAL_REASONS)[number];

/** One refusal, as the client was answered (never with a secret in it). */
export interface SubmissionRefusal {
  reason: SubmissionRefusalReason;
  code: number;
  /** The RFC 3463 status, or '' where smtp-server's own reply carries none we know. */
  enhancedStatus: string;
  /** The reply's text after the codes. */
  text: string;
  remoteAddress: string;
  /** The authenticated token's name, or null before AUTH. */
  tokenName: string | null;
  /** What went wrong inside, for `local_error`, `auth_unavailable` and `storage_unavailable`. */
  error?: unknown;
}

/** What became of a submitted message: the reply the SMTP client gets. */
export type SubmissionReply =
  | { ok: true; message: string }
  | {
      ok: false;
      reason: SubmissionRefusalReason;
      code: number;
      enhancedStatus: string;
      message: string;
      error?: unknown;
    };

export interface SubmissionServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate and key; STARTTLS is offered when given. */
  tls: { cert: string; key: string } | null;
  /** TLS from the first byte (needs `tls`). */
  implicitTls: boolean;
  /** Announced in EHLO (SIZE) and enforced while the message is read. */
  maxBytes: number;
  /** RCPT TO beyond this many is answered 452 4.5.3. */
  maxRecipients: number;
  /** The token the AUTH password is, when it may submit (SEND or ADMIN); null otherwise. */
  authenticate(password: string): Promise<Submitter | null>;
  /** Why an RCPT TO address is not one mailscope sends to, or null. */
  recipientProblem(address: string): string | null;
  /** Stores the message (one per recipient) and says what to answer; 250 only once stored. */
  accept(
    submitter: Submitter,
    envelope: SubmittedEnvelope,
    message: Buffer,
  ): Promise<SubmissionReply>;
  /** Told of each connection-level failure (TLS handshakes, sockets); never of secrets. */
  onError?(error: Error): void;
  /** Told of each refusal the client is answered with (4xx and 5xx but 421's goodbyes). */
  onRefusal?(refusal: SubmissionRefusal): void;
}

export interface SubmissionServer {
  host: string;
  port: number;
  /** A renewed certificate and key (already checked to match) for the connections to come. */
  updateTls(pair: { cert: string; key: string }): void;
  /** Stops listening and waits for open sessions to end (they are cut after a few seconds). */
  close(): Promise<void>;
}

/** A refusal with its enhanced status code first, as the reply text starts (RFC 3463). */
function refusal(code: number, enhancedStatus: string, message: string): Error {
  return Object.assign(new Error(`${enhancedStatus} ${message}`), { responseCode: code });
}

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/** Loopback clients (127.0.0.0/8, ::1, and their IPv4-mapped forms) may AUTH before TLS. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const bare = address.replace(/^::ffff:/i, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

type Connection = {
  send(code: number, data: unknown, context?: unknown): void;
  secure: boolean;
  remoteAddress: string;
  session?: SMTPServerSession;
  /** smtp-server's socket for the connection (the TLS one after STARTTLS). */
  _socket?: Socket;
  /** smtp-server's choice of enhanced status for a reply of its own. */
  _getEnhancedStatusCode?(code: number, context: unknown): unknown;
  /** smtp-server's handler of the AUTH command (looked up on the connection by name). */
  handler_AUTH(command: Buffer, callback: () => void): void;
};

/** What a refusal said, to tell onRefusal about it. */
type RefusalReply = Pick<SubmissionRefusal, 'reason' | 'code' | 'enhancedStatus' | 'text'>;

/** A refusal smtp-server answers on its own, by the reply code it chose. */
function ownRefusal(code: number, text: string, enhancedStatus: string): RefusalReply {
  if (code === 452) return { reason: 'too_many_recipients', code, enhancedStatus: '4.5.3', text };
  if (code === 552) return { reason: 'too_big', code, enhancedStatus: '5.3.4', text };
  return { reason: 'command_rejected', code, enhancedStatus, text };
}

const AUTH_BEFORE_TLS: RefusalReply = {
  reason: 'starttls_required',
  code: 530,
  enhancedStatus: '5.7.0',
  text: 'Must issue a STARTTLS command first',
};

/**
 * Four adjustments of smtp-server's sessions, and a look at each reply. Replies to pipelined
 * commands leave in one write (gathered-replies.ts). smtp-server adds an enhanced status code
 * chosen from the reply code alone (550 becomes 5.1.1): our refusals carry the right one in
 * their text, so for those it is told to add none. It announces AUTH in cleartext to every
 * client: a client off this machine must not be invited to send its token before TLS, so AUTH is
 * left out of the EHLO reply until STARTTLS. And AUTH sent anyway is refused at the command
 * (530 5.7.0), before smtp-server's LOGIN or PLAIN asks for the credentials (`334`) that the
 * client would then send in cleartext; onAuth refuses them too, should they come with the
 * command. The refusals smtp-server makes itself (a recipient too many, a message too big, a
 * command it cannot take) and the one made here are told to `refused`; ours were told where
 * they were made.
 */
function adjustSessions(
  server: SMTPServer,
  refused: (connection: Connection, refusal: RefusalReply) => void,
): void {
  const connections = (server as unknown as { connections: Set<Connection> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (connection: Connection) => {
    const send = connection.send.bind(connection);
    const reply = (code: number, data: unknown, context?: unknown) => {
      if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) return send(code, data, false);
      // 421 is a goodbye (a timeout, shutting down), not a refusal of what the client sent.
      if (code >= 400 && code !== 421) {
        // The status smtp-server puts in front of its own reply, so the log says what the
        // client read (its method; absent in a version without it).
        const status = connection._getEnhancedStatusCode?.(code, context) ?? '';
        refused(
          connection,
          ownRefusal(code, String(data), typeof status === 'string' ? status : ''),
        );
      }
      if (
        code === 250 &&
        Array.isArray(data) &&
        !connection.secure &&
        !isLoopbackAddress(connection.remoteAddress)
      ) {
        return send(
          code,
          data.filter((line) => !/^AUTH /.test(String(line))),
          context,
        );
      }
      return send(code, data, context);
    };
    connection.send = (code, data, context) =>
      sendGathered(connection._socket, code, () => reply(code, data, context));
    const handleAuth = connection.handler_AUTH.bind(connection);
    connection.handler_AUTH = (command, callback) => {
      if (connection.secure || isLoopbackAddress(connection.remoteAddress)) {
        return handleAuth(command, callback);
      }
      refused(connection, AUTH_BEFORE_TLS);
      const { code, enhancedStatus, text } = AUTH_BEFORE_TLS;
      connection.send(code, `${enhancedStatus} ${text}`);
      callback();
    };
    return add(connection);
  };
}

/**
 * The SMTP submission listener: applications that only speak SMTP hand their mail to mailscope
 * here. AUTH (PLAIN, LOGIN) with an API token is required before anything is accepted, and is
 * refused in cleartext unless the client is on loopback.
 */
export async function startSubmissionServer(
  options: SubmissionServerOptions,
): Promise<SubmissionServer> {
  const submitterOf = (session: SMTPServerSession) => session.user as unknown as Submitter | null;
  /** A refusal to answer with, told to `onRefusal` first. */
  const refuse = (
    session: SMTPServerSession,
    reason: SubmissionRefusalReason,
    code: number,
    enhancedStatus: string,
    text: string,
    error?: unknown,
  ): Error => {
    options.onRefusal?.({
      reason,
      code,
      enhancedStatus,
      text,
      remoteAddress: session.remoteAddress,
      tokenName: submitterOf(session)?.name ?? null,
      ...(error === undefined ? {} : { error }),
    });
    return refusal(code, enhancedStatus, text);
  };
  /** The token could not be checked (the database did not answer): the client tries again. */
  const authUnavailable = (session: SMTPServerSession, error: unknown): Error =>
    refuse(session, 'auth_unavailable', 454, '4.7.0', 'Temporary authentication failure', error);
  /**
   * Whether the token still may submit: checked at each MAIL FROM (a pooled connection outlives
   * AUTH by hours) and again before the 250 (a long message is read meanwhile). Null when it
   * may; a cached answer, forgotten at every revocation (auth/api-tokens.ts).
   */
  const revocationCheck = async (
    session: SMTPServerSession,
    submitter: Submitter,
  ): Promise<Error | null> => {
    let valid: boolean;
    try {
      valid = await submitter.stillValid();
    } catch (error) {
      return authUnavailable(session, error);
    }
    return valid
      ? null
      : refuse(
          session,
          'token_revoked',
          535,
          '5.7.8',
          'Authentication credentials invalid (revoked)',
        );
  };
  const server = new SMTPServer({
    secure: options.implicitTls,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    hideSTARTTLS: options.tls === null || options.implicitTls,
    authMethods: ['PLAIN', 'LOGIN'],
    // Checked in onAuth, so that loopback clients may and the reply is 530 5.7.0.
    allowInsecureAuth: true,
    // Checked in onMailFrom, for the same reason.
    authOptional: true,
    size: options.maxBytes,
    rejectOversized: true,
    maxRecipients: options.maxRecipients,
    // Replies carry RFC 3463 enhanced status codes (announced in EHLO).
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    disableReverseLookup: true,
    // On shutdown a session has this long to finish; an idle pooled connection is cut then.
    closeTimeout: 3_000,
    banner: 'mailscope submission',
    onAuth(auth, session, callback) {
      if (!session.secure && !isLoopbackAddress(session.remoteAddress)) {
        const { reason, code, enhancedStatus, text } = AUTH_BEFORE_TLS;
        callback(refuse(session, reason, code, enhancedStatus, text));
        return;
      }
      options.authenticate(auth.password ?? '').then(
        (submitter) =>
          submitter === null
            ? callback(
                refuse(
                  session,
                  'bad_credentials',
                  535,
                  '5.7.8',
                  'Authentication credentials invalid (a SEND or ADMIN token)',
                ),
              )
            : callback(null, { user: submitter as never }),
        (error: unknown) => callback(authUnavailable(session, error)),
      );
    },
    onMailFrom(_address, session, callback) {
      const submitter = submitterOf(session);
      if (!submitter) {
        callback(refuse(session, 'auth_required', 530, '5.7.0', 'Authentication required'));
        return;
      }
      void revocationCheck(session, submitter).then((refused) => callback(refused ?? undefined));
    },
    onRcptTo(address, session, callback) {
      if (!submitterOf(session)) {
        callback(refuse(session, 'auth_required', 530, '5.7.0', 'Authentication required'));
        return;
      }
      const problem = options.recipientProblem(address.address);
      if (problem !== null) {
        callback(
          refuse(
            session,
            'recipient_rejected',
            553,
            '5.1.3',
            `Recipient address rejected: ${problem}`,
          ),
        );
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        // Past the limit the rest is read and dropped, never held: smtp-server answers 552.
        if (stream.sizeExceeded || size > options.maxBytes) return;
        size += chunk.length;
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded || size > options.maxBytes) {
          // smtp-server answers its own 552 5.3.4 (rejectOversized), told to onRefusal from
          // adjustSessions; this one is not sent.
          callback(refusal(552, '5.3.4', `Message exceeds the ${options.maxBytes} bytes limit`));
          return;
        }
        const submitter = submitterOf(session);
        if (!submitter) {
          callback(refuse(session, 'auth_required', 530, '5.7.0', 'Authentication required'));
          return;
        }
        const { mailFrom, rcptTo } = session.envelope;
        const envelope = {
          sender: mailFrom && mailFrom.address !== '' ? mailFrom.address : null,
          recipients: rcptTo.map((rcpt) => rcpt.address),
          remoteAddress: session.remoteAddress,
        };
        const message = Buffer.concat(chunks, size);
        const answer = async (): Promise<Error | string> => {
          const refused = await revocationCheck(session, submitter);
          if (refused !== null) return refused;
          let reply: SubmissionReply;
          try {
            reply = await options.accept(submitter, envelope, message);
          } catch (error) {
            return refuse(
              session,
              'local_error',
              451,
              '4.3.0',
              'Local error in processing; try again later',
              error,
            );
          }
          if (reply.ok) return reply.message;
          const { reason, code, enhancedStatus } = reply;
          return refuse(session, reason, code, enhancedStatus, reply.message, reply.error);
        };
        void answer().then((result) =>
          typeof result === 'string' ? callback(null, result) : callback(result),
        );
      });
    },
  });
  adjustSessions(server, (connection, refusal) =>
    options.onRefusal?.({
      ...refusal,
      remoteAddress: connection.remoteAddress,
      tokenName: connection.session ? (submitterOf(connection.session)?.name ?? null) : null,
    }),
  );
  server.on('error', (error) => options.onError?.(error));
  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown) =>
      reject(describeListenError(error, 'SUBMISSION_PORT', `${options.host}:${options.port}`));
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  let closing: Promise<void> | null = null;
  return {
    host: options.host,
    port,
    updateTls(pair) {
      // Connections from now on (implicit TLS and STARTTLS alike) take the new context; those
      // already encrypted keep theirs.
      server.updateSecureContext({ key: pair.key, cert: pair.cert });
    },
    close() {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closing;
    },
  };
}
