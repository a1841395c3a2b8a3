import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createSelfSignedCert, type TestCert } from './certs.ts';
import { closeWith, type Scope } from './scope.ts';

/** An SMTP reply: `code` and the text after it, verbatim (include the enhanced status yourself). */
export interface SmtpReply {
  code: number;
  /** e.g. `"5.1.1 <bob@example.com>: Recipient address rejected: User unknown"` */
  message: string;
}

export interface ReceivedMail {
  /** MAIL FROM address. */
  from: string;
  /** RCPT TO addresses the server accepted. */
  to: string[];
  /** The message as transmitted after DATA (headers and body, CRLF line endings). */
  raw: string;
  /** The user name the client authenticated as, or null. */
  user: string | null;
  /** True when the message travelled over TLS (implicit or after STARTTLS). */
  secure: boolean;
  /** The SNI name the client sent, or null. */
  servername: string | null;
}

/** A command line the server received. AUTH payloads are redacted by smtp-server. */
export interface SeenCommand {
  sessionId: string;
  line: string;
  /** False when the command arrived in cleartext. */
  secure: boolean;
}

export interface TestSmtpServerOptions {
  /**
   * `'none'`: no TLS at all (STARTTLS is not offered and refused if sent).
   * `'starttls'`: plaintext greeting, STARTTLS offered. `'implicit'`: TLS from the first byte.
   * @default 'none'
   */
  tls?: 'none' | 'starttls' | 'implicit';
  /** Certificate for `'starttls'`/`'implicit'`. @default a self-signed cert for localhost/127.0.0.1 */
  certificate?: TestCert;
  /** With `tls: 'starttls'`: accept STARTTLS but leave it out of the EHLO reply. @default false */
  hideStartTls?: boolean;
  /** Offer the DSN extension (RFC 3461). @default false */
  dsn?: boolean;
  /**
   * Require AUTH (PLAIN/LOGIN) with these credentials; anything else gets
   * `535 5.7.8 Authentication credentials invalid`. Without it, AUTH is not offered.
   * AUTH is accepted in cleartext too, so tests can observe a client that would send it.
   */
  auth?: { username: string; password: string };
  /** Reply to MAIL FROM with this error when it returns one. */
  rejectSender?: (address: string) => SmtpReply | null;
  /**
   * Reply to RCPT TO with this error when it returns one, e.g. `550 5.1.1`. A promise holds the
   * reply until it settles, e.g. to keep a send in flight until a test is ready.
   */
  rejectRecipients?: (address: string) => SmtpReply | null | Promise<SmtpReply | null>;
  /** The first `n` RCPT TO attempts per recipient get `451 4.7.1 Greylisted, try again later`. */
  greylist?: number;
  /** Reply to the end of DATA with this error (always, or when the function returns one). */
  rejectData?: SmtpReply | ((mail: ReceivedMail) => SmtpReply | null);
  /** Text of the 250 reply after DATA. @default `2.0.0 Ok: queued as <random id>` */
  acceptMessage?: (mail: ReceivedMail) => string;
  /**
   * `'greeting'`: accept connections and never greet. `'data'`: read the whole message and
   * never answer it.
   */
  stall?: 'greeting' | 'data';
  /** Advertised SIZE limit; larger messages get `552 5.3.4`. */
  size?: number;
  /** Keep every message in `received`; turn off for benchmarks (`receivedCount` still counts). @default true */
  keepMessages?: boolean;
  /** Record `events`/`commands`; turn off for benchmarks. @default true */
  recordCommands?: boolean;
  /** Host name in the greeting. @default 'mx.test' */
  name?: string;
  /**
   * Misbehave at the end of DATA for the messages it picks: `'stall'` never answers the final
   * dot, `'close'` drops the connection without a reply. Either way the message is not accepted.
   */
  dataFault?: (mail: ReceivedMail) => 'stall' | 'close' | null;
  /**
   * For the transactions it picks, answer MAIL FROM by dropping the connection (`'close'`), or
   * with `421 4.4.2` and then closing it (`'421'`, what a server's idle timeout looks like to a
   * client whose next command crossed it).
   */
  mailFromFault?: (info: { address: string; transaction: number }) => 'close' | '421' | null;
  /** Awaited before the 250 to a message, e.g. to hold the reply until a test is ready. */
  beforeAccept?: (mail: ReceivedMail) => Promise<void> | void;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  /** Accepted messages, oldest first. */
  readonly received: ReceivedMail[];
  /** Accepted messages, also counted when `keepMessages` is false. */
  readonly receivedCount: number;
  /** Every command line received, e.g. `'EHLO x'`, `'STARTTLS'`, `'MAIL FROM:<a@b>'`. */
  readonly events: string[];
  /** The same commands with their session and whether they arrived over TLS. */
  readonly commands: SeenCommand[];
  /** Connections accepted so far. */
  readonly connectionCount: number;
  /** SMTP sessions open right now. */
  readonly openConnections: number;
  /** Drops every open connection at once, as a server dropping idle clients does. */
  dropConnections(): void;
  /** Stops listening and destroys open connections at once; it is closed when its scope ends anyway. */
  close(): Promise<void>;
}

let defaultCertificate: TestCert | undefined;

function replyError({ code, message }: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Starts a real `smtp-server` on 127.0.0.1 (ephemeral port) whose behaviour tests choose:
 * TLS mode, AUTH, rejections at each step, greylisting and stalls. Replies carry exactly the
 * text given (smtp-server's automatic enhanced status codes are switched off). Closed when
 * `scope` ends.
 */
export async function startTestSmtpServer(
  scope: Scope,
  options: TestSmtpServerOptions = {},
): Promise<TestSmtpServer> {
  const mode = options.tls ?? 'none';
  const keepMessages = options.keepMessages ?? true;
  const recordCommands = options.recordCommands ?? true;
  const received: ReceivedMail[] = [];
  const events: string[] = [];
  const commands: SeenCommand[] = [];
  const secureSessions = new Set<string>();
  const greylistSeen = new Map<string, number>();
  let receivedCount = 0;
  let connectionCount = 0;

  const certificate =
    mode === 'none'
      ? undefined
      : (options.certificate ??
        (defaultCertificate ??= createSelfSignedCert({
          dnsNames: ['localhost'],
          ipAddresses: ['127.0.0.1'],
        })));

  const disabledCommands = [
    ...(mode === 'none' ? ['STARTTLS'] : []),
    ...(options.auth ? [] : ['AUTH']),
  ];

  const noop = (): void => {};
  // smtp-server logs each command line (AUTH payloads redacted) at debug level: the one place
  // that sees every command, including ones the handlers below are never asked about.
  const commandRecorder = {
    trace: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    debug(meta: { tnx?: string; cid?: string } | undefined, _format: string, line: unknown) {
      if (!recordCommands || meta?.tnx !== 'command' || typeof line !== 'string') return;
      const sessionId = meta.cid ?? '';
      events.push(line);
      commands.push({ sessionId, line, secure: secureSessions.has(sessionId) });
    },
  };

  const serverOptions: SMTPServerOptions = {
    name: options.name ?? 'mx.test',
    secure: mode === 'implicit',
    ...(certificate ? { cert: certificate.cert, key: certificate.key } : {}),
    hideSTARTTLS: options.hideStartTls ?? false,
    hideENHANCEDSTATUSCODES: true,
    hideDSN: !(options.dsn ?? false),
    disabledCommands,
    authOptional: !options.auth,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: commandRecorder,
    closeTimeout: 100,
    ...(options.size ? { size: options.size, rejectOversized: true } : {}),

    onConnect(session, callback) {
      connectionCount++;
      if (session.secure) secureSessions.add(session.id);
      if (options.stall === 'greeting') return; // never call back: no greeting is ever sent
      callback();
    },
    onSecure(_socket, session, callback) {
      secureSessions.add(session.id);
      callback();
    },
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (expected && auth.username === expected.username && auth.password === expected.password) {
        callback(null, { user: auth.username });
        return;
      }
      callback(replyError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
    },
    onMailFrom(address, session, callback) {
      const fault = options.mailFromFault?.({
        address: address.address,
        transaction: session.transaction,
      });
      if (fault === 'close') return dropSession(session.id);
      if (fault === '421') {
        return callback(
          replyError({ code: 421, message: '4.4.2 mx.test Error: timeout exceeded' }),
        );
      }
      const rejection = options.rejectSender?.(address.address);
      callback(rejection ? replyError(rejection) : null);
    },
    onRcptTo(address, _session, callback) {
      const reply = (rejection: SmtpReply | null | undefined): void => {
        if (rejection) return callback(replyError(rejection));
        if (options.greylist) {
          const key = address.address.toLowerCase();
          const seen = greylistSeen.get(key) ?? 0;
          if (seen < options.greylist) {
            greylistSeen.set(key, seen + 1);
            return callback(
              replyError({ code: 451, message: '4.7.1 Greylisted, try again later' }),
            );
          }
        }
        callback();
      };
      const rejection = options.rejectRecipients?.(address.address);
      if (rejection instanceof Promise) rejection.then(reply, (error: Error) => callback(error));
      else reply(rejection);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        if (options.stall === 'data') return; // never answer the end of data
        const mailFrom = session.envelope.mailFrom;
        const user = session.user as unknown;
        const mail: ReceivedMail = {
          from: mailFrom ? mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: typeof user === 'string' ? user : null,
          secure: session.secure,
          servername: session.servername || null,
        };
        const rejection =
          typeof options.rejectData === 'function'
            ? options.rejectData(mail)
            : (options.rejectData ?? null);
        if (rejection) return callback(replyError(rejection));
        const fault = options.dataFault?.(mail) ?? null;
        if (fault === 'stall') return;
        if (fault === 'close') return dropSession(session.id);
        await options.beforeAccept?.(mail);
        receivedCount++;
        if (keepMessages) received.push(mail);
        const reply =
          options.acceptMessage?.(mail) ??
          `2.0.0 Ok: queued as ${randomBytes(6).toString('hex').toUpperCase()}`;
        callback(null, reply);
      });
    },
  };

  const server = new SMTPServer(serverOptions);
  server.on('error', noop); // client-side resets during tests are expected, not failures

  function dropSession(sessionId: string | null): void {
    for (const connection of server.connections) {
      if (sessionId !== null && connection.id !== sessionId) continue;
      if (!connection._upgrading) connection._socket.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as net.AddressInfo;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      // smtp-server's close() destroys sockets still in an implicit-TLS handshake, then waits
      // for sessions to end; tests must not wait, so sessions are cut here. Only the topmost
      // socket may be destroyed: destroying a raw socket under a TLS wrap mid-handshake
      // crashes Node (a STARTTLS upgrade in flight is left to closeTimeout).
      server.close(() => resolve());
      for (const connection of server.connections) {
        if (!connection._upgrading) connection._socket.destroy();
      }
    }));
  closeWith(scope, close);

  return {
    host: '127.0.0.1',
    port,
    received,
    get receivedCount() {
      return receivedCount;
    },
    events,
    commands,
    get connectionCount() {
      return connectionCount;
    },
    get openConnections() {
      return server.connections.size;
    },
    dropConnections: () => dropSession(null),
    close,
  };
}

export interface StallingServer {
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

/**
 * A TCP server that accepts connections and never says a word (for greeting timeouts), closed
 * when `scope` ends.
 */
export async function startStallingServer(scope: Scope): Promise<StallingServer> {
  const sockets = new Set<net.Socket>();
  let connectionCount = 0;
  const server = net.createServer((socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
  closeWith(scope, close);
  return {
    host: '127.0.0.1',
    port,
    get connectionCount() {
      return connectionCount;
    },
    close,
  };
}
