import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { CorkedDataConnection } from './corked-data-connection.ts';
import type { SMTPTransportGetSocket } from './destination-guard.ts';
import type { ComposedMessage } from './compose.ts';
import { ConnectionTranscript } from './transcript-recorder.ts';
import type { TranscriptParts } from './transcript.ts';
import type { SessionPhase } from './error-facts.ts';

/**
 * A pool of SMTP connections to one server, each nodemailer's own `SMTPConnection` (the
 * protocol, TLS, AUTH, timeouts and dot-stuffing stay nodemailer's), sending messages that are
 * already built (compose.ts).
 *
 * It does what nodemailer's `SMTPPool` did for us, with its rules (nodemailer 10,
 * smtp-pool/pool-resource.js), but without the layers a service that composes its own messages
 * does not use: the `Mail` object and its plugins, a stream per message, the per-message
 * `setImmediate`s. Those cost more CPU per message than the connection itself
 * (bench/README.md). And each connection logs to a transcript of its own, so a send's
 * SMTP lines are known to be its own without inferring it from the pool's log.
 *
 * The rules kept from nodemailer's pool:
 * - Up to `maxConnections` connections, each one send at a time, reused for any number of
 *   messages. A message waits in order for a free connection; a new connection is opened for a
 *   waiting message when there is room, and a failure to set it up (connect, greeting,
 *   STARTTLS, AUTH) fails that message.
 * - A reused connection the server has closed in the meantime (421, reset, timeout) before any
 *   byte of the message went out does not fail the message: it goes back to the front of the
 *   queue for another connection, at most `maxRequeues` times.
 * - A rejected envelope or message (not 421) on a live connection resets the session (RSET)
 *   and the connection is reused; any other failure closes it.
 * - Configured credentials are always used (nodemailer's `forceAuth`): a server that does not
 *   offer AUTH fails the send rather than getting mail unauthenticated.
 */
export interface ConnectionPoolOptions {
  /** Options for each `SMTPConnection` (host, port, TLS, timeouts), without a logger. */
  connection: SMTPConnection.Options;
  auth: { user: string; pass: string } | null;
  maxConnections: number;
  maxRequeues: number;
  /** Opens the socket for a connection (the destination guard), as nodemailer's `getSocket`. */
  getSocket?: SMTPTransportGetSocket;
  /** Whether SMTP lines are kept for transcripts. */
  keepTranscripts: boolean;
}

export type PoolSendResult =
  | { ok: true; response: string; transcript: TranscriptParts | null }
  | {
      ok: false;
      error: unknown;
      transcript: TranscriptParts | null;
      /**
       * Where the session was: 'setup' (connecting, greeting, EHLO, TLS, AUTH), 'transaction'
       * (MAIL FROM to DATA's 354: nothing of the message sent) or 'message' (after the 354: the
       * server may have it).
       */
      phase?: SessionPhase;
    };

export interface ConnectionPool {
  /**
   * Sends one message. Never rejects: failures are `{ ok: false, error }`, nodemailer's. With
   * `mayStart`, asked when a connection is free for the message (it may have waited in the
   * queue meanwhile): false answers null and nothing is sent.
   */
  send(message: ComposedMessage): Promise<PoolSendResult>;
  send(message: ComposedMessage, mayStart: () => boolean): Promise<PoolSendResult | null>;
  /**
   * No new sends; idle connections quit now, busy ones after their send. With `force`, busy
   * and connecting ones are cut too (their sends fail).
   */
  close(options?: { force?: boolean }): void;
  /** Connections open or being opened. */
  readonly size: number;
}

interface Job {
  message: ComposedMessage;
  mayStart: (() => boolean) | null;
  requeues: number;
  /** Settled: a send cut by a forced close may still be called back later. */
  done: boolean;
  resolve: (result: PoolSendResult | null) => void;
}

interface Member {
  /** Null while the socket is being opened (`getSocket`). */
  connection: SMTPConnection | null;
  transcript: ConnectionTranscript;
  /** Fails the setup in progress (a forced close); a no-op once set up. */
  abortSetup: (error: unknown) => void;
  closed: boolean;
  /** The send it is being set up for or is sending; null once set up and between sends. */
  job: Job | null;
}

const CLOSED_POOL_ERROR = Object.assign(new Error('Connection pool is closed'), {
  code: 'ECONNECTION',
});

export function createConnectionPool(options: ConnectionPoolOptions): ConnectionPool {
  const members = new Set<Member>();
  const idle: Member[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let closed = false;

  function send(
    message: ComposedMessage,
    mayStart?: () => boolean,
  ): Promise<PoolSendResult | null> {
    if (closed) return Promise.resolve({ ok: false, error: CLOSED_POOL_ERROR, transcript: null });
    return new Promise((resolve) => {
      queue.push({ message, mayStart: mayStart ?? null, requeues: 0, done: false, resolve });
      dispatch();
    });
  }

  /** Gives waiting messages to idle connections, and opens connections while there is room. */
  function dispatch(): void {
    while (queue.length > 0) {
      const member = idle.pop();
      if (member !== undefined) {
        if (member.closed) continue;
        transmit(member, queue.shift()!);
      } else if (members.size < options.maxConnections && !closed) {
        open(queue.shift()!);
      } else {
        return;
      }
    }
  }

  function open(job: Job): void {
    const transcript = new ConnectionTranscript(nextId++, options.keepTranscripts);
    const connectionOptions: SMTPConnection.Options = {
      ...options.connection,
      logger: transcript.logger as unknown as SMTPConnection.Options['logger'],
      transactionLog: true,
      debug: false,
    };
    const member: Member = {
      connection: null,
      transcript,
      abortSetup: () => {},
      closed: false,
      job,
    };
    members.add(member);
    let settled = false;
    const failSetup = (error: unknown): void => {
      if (settled) return;
      settled = true;
      drop(member);
      member.connection?.close();
      finish(job, { ok: false, error, transcript: transcript.endSend(false) });
    };
    member.abortSetup = failSetup;
    const start = (socket: unknown): void => {
      if (settled) {
        (socket as { destroy?: () => void } | null)?.destroy?.();
        return;
      }
      const connection = new CorkedDataConnection(
        socket ? { ...connectionOptions, connection: socket as never } : connectionOptions,
      );
      member.connection = connection;
      connection.on('error', (error: unknown) => {
        // While a message is on it, the send's own callback reports the failure.
        if (member.job !== null && settled) return;
        if (!settled) return failSetup(error);
        drop(member);
      });
      connection.once('end', () => {
        // The error that closed it, if any, is emitted after 'end' in the same turn or the
        // next: it says more than "closed".
        if (!settled) return void setImmediate(() => failSetup(endedError()));
        drop(member);
      });
      connection.connect((error?: unknown) => {
        if (settled) return;
        if (error) return failSetup(error);
        if (options.auth === null) return ready();
        const { user, pass } = options.auth;
        // nodemailer's pool passes the same: the mechanism is the first the server offers.
        connection.login(
          { type: 'LOGIN', user, credentials: { user, pass }, method: false } as never,
          (error: unknown) => {
            if (settled) return;
            if (error) return failSetup(error);
            ready();
          },
        );
      });
    };
    const ready = (): void => {
      settled = true;
      transmit(member, job);
    };
    if (options.getSocket) {
      options.getSocket({ ...options.connection }, (error, socketOptions) => {
        if (error) return failSetup(error);
        start(socketOptions ? (socketOptions.connection ?? null) : null);
      });
    } else {
      start(null);
    }
  }

  /** Sends on a member whose setup is done (only those are idle or get `ready`). */
  function transmit(member: Member, job: Job): void {
    if (job.mayStart !== null && !job.mayStart()) {
      finish(job, null);
      release(member);
      return;
    }
    const connection = member.connection!;
    const { transcript } = member;
    member.job = job;
    const reused = transcript.sends > 0;
    transcript.beginSend();
    // A fresh envelope for each try: nodemailer marks the one it is given with a MAIL FROM
    // failure, and a re-queued message must not carry its last connection's mark
    // (test/faults/pool-connection-dies.test.ts).
    const { from, to, dsn } = job.message.envelope;
    const envelope = dsn
      ? { from, to: [...to], dsn: { ...dsn, notify: [...dsn.notify] } }
      : { from, to: [...to] };
    connection.send(envelope, job.message.raw, (error, info) => {
      if (job.done) return;
      member.job = null;
      const parts = transcript.endSend(true);
      if (!error) {
        finish(job, { ok: true, response: String(info?.response ?? ''), transcript: parts });
        release(member);
        return;
      }
      const failure = error as { code?: string; responseCode?: number };
      if (
        reused &&
        !transcript.messageStarted &&
        isTransient(failure) &&
        job.requeues < options.maxRequeues
      ) {
        // The connection died while idle; the message never left. Another connection takes it.
        job.requeues++;
        drop(member);
        connection.close();
        queue.unshift(job);
        dispatch();
        return;
      }
      finish(job, {
        ok: false,
        error,
        transcript: parts,
        phase: transcript.messageStarted ? 'message' : 'transaction',
      });
      const rejected = failure.code === 'EENVELOPE' || failure.code === 'EMESSAGE';
      if (rejected && failure.responseCode !== 421 && !member.closed && !closed) {
        connection.reset((resetError) => {
          if (resetError) {
            drop(member);
            connection.close();
          } else {
            release(member);
          }
        });
        return;
      }
      drop(member);
      connection.close();
    });
  }

  function release(member: Member): void {
    if (member.closed) return dispatch();
    if (closed) {
      drop(member);
      member.connection?.quit();
      return;
    }
    idle.push(member);
    dispatch();
  }

  function drop(member: Member): void {
    if (member.closed) return;
    member.closed = true;
    members.delete(member);
    const at = idle.indexOf(member);
    if (at >= 0) idle.splice(at, 1);
    // Room for a waiting message on a new connection.
    if (!closed) setImmediate(dispatch);
  }

  function finish(job: Job, result: PoolSendResult | null): void {
    if (job.done) return;
    job.done = true;
    job.resolve(result);
  }

  function close(closeOptions: { force?: boolean } = {}): void {
    closed = true;
    for (const job of queue.splice(0)) {
      finish(job, { ok: false, error: CLOSED_POOL_ERROR, transcript: null });
    }
    for (const member of [...members]) {
      if (member.job === null) {
        drop(member);
        member.connection?.quit();
      } else if (closeOptions.force) {
        member.abortSetup(CLOSED_POOL_ERROR);
        // nodemailer's close() drops the send in progress without calling it back.
        const job = member.job;
        drop(member);
        member.connection?.close();
        if (job !== null) {
          member.job = null;
          finish(job, {
            ok: false,
            error: CLOSED_POOL_ERROR,
            transcript: member.transcript.endSend(true),
          });
        }
      }
    }
  }

  return {
    // One function for both overloads: null only ever answers a `mayStart`.
    send: send as ConnectionPool['send'],
    close,
    get size() {
      return members.size;
    },
  };
}

/** nodemailer's `isTransientError`: the connection went away, not the message refused. */
function isTransient(error: { code?: string; responseCode?: number }): boolean {
  return (
    error.responseCode === 421 ||
    error.code === 'ECONNECTION' ||
    error.code === 'ESOCKET' ||
    error.code === 'ETIMEDOUT'
  );
}

function endedError(): Error {
  return Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' });
}
