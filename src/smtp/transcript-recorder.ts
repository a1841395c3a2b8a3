import { TranscriptLines, type TranscriptParts } from './transcript.ts';

/**
 * Attributes the SMTP lines of a nodemailer pool to the sends they belong to, from the pool's
 * own structured log calls (nodemailer 10, `transactionLog: true`, `debug: false`).
 *
 * What nodemailer logs, and what this relies on:
 * - Every SMTP connection logs with its own random session id `sid`: each command (`tnx:
 *   'client'`), each reply (`tnx: 'server'`, a multi-line reply as one string), the size of the
 *   message it streamed (`tnx: 'message'`, `outByteCount`), its errors (`err`), and
 *   "Closing connection…" / "Connection closed" at its end. Passwords are masked by nodemailer;
 *   the rest of every AUTH payload is replaced here, and the message itself is never logged.
 * - The pool logs with its connection number `cid` but never with a `sid`:
 *   "Assigned message <id> to #cid" (`action: 'assign'`), "Sending message <id> using #cid"
 *   (`tnx: 'send'`), "Pool Error for #cid" (`err`) and "Connection #cid was closed".
 *
 * The link between the two is made only where nodemailer's code runs synchronously from one
 * log call to the next, so no other connection's events can come between them:
 * - "Sending message" is followed, in the same call stack, by that connection's `MAIL FROM`:
 *   the very next log call, if it comes before the stack unwinds, names the `sid` of the send.
 *   From there every line of that `sid` belongs to the send, until the next send on it or the
 *   `RSET` nodemailer sends after a rejection (which belongs to no send).
 * - A connection that fails before its first send (greeting, STARTTLS, AUTH) fails the one
 *   message assigned to it. The error object is the link: the connection logs it with its
 *   `sid`, or (AUTH) the pool logs it as "Pool Error for #cid" right after the connection's
 *   last line in the same call stack.
 * A connection's lines before its first send are its setup, kept for as long as it lives.
 *
 * "The same call stack" is tracked with a microtask that closes the current turn: whatever is
 * pending when it runs was not followed up synchronously and is dropped, never guessed.
 */
export interface TranscriptRecorder {
  /** The nodemailer `logger` option for one pool (with `transactionLog: true`). */
  readonly logger: NodemailerLogger;
  /** Starts following the send of the message with this Message-ID ("<…@…>"). */
  follow(messageId: string): FollowedSend;
}

export interface FollowedSend {
  /**
   * Stops following and returns what belongs to the send, unformatted. `error` is what the send
   * failed with (undefined on success); it finds the connection of a send that failed before
   * its first command. Null when no connection can be named for it (it never got one, or
   * another send of the same Message-ID was in flight at the same time).
   */
  finish(error?: unknown): TranscriptParts | null;
}

type LogMethod = (entry?: unknown, message?: unknown, ...args: unknown[]) => void;
export interface NodemailerLogger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
}

/** One SMTP connection (one `sid`). */
class Connection {
  /** The pool's number for it, once known. */
  cid: number | null = null;
  /** Greeting, EHLO, STARTTLS, AUTH: everything before the first send. */
  readonly setup = new TranscriptLines();
  /** The lines of the send in progress, or null between sends. */
  current: TranscriptLines | null = null;
  /** Sends started on this connection. */
  sends = 0;
  /** The SASL mechanism of an AUTH exchange in progress. */
  #auth: string | null = null;
  #authStep = 0;

  constructor(readonly sid: string) {}

  client(text: string): void {
    // Nodemailer resets the session after a rejected message; that line belongs to no send.
    if (text === 'RSET' && this.sends > 0) {
      this.current = null;
      return;
    }
    const target = this.#target();
    if (target === null) return;
    if (this.#auth !== null) {
      // Every line sent during an AUTH exchange is a SASL response: credentials.
      target.client(text === '' ? '' : this.#hiddenResponse());
    } else if (text.charCodeAt(0) === 65 && /^AUTH\s/i.test(text)) {
      const [command = 'AUTH', mechanism = '', payload] = text.split(/\s+/, 3);
      this.#auth = mechanism.toUpperCase();
      this.#authStep = 0;
      target.client(
        `${command.toUpperCase()} ${this.#auth}${payload === undefined ? '' : ' <credentials hidden>'}`,
      );
    } else {
      target.client(text);
    }
  }

  server(text: string): void {
    if (this.#auth !== null && !text.startsWith('334')) this.#auth = null;
    this.#target()?.server(text);
  }

  body(bytes: number): void {
    this.#target()?.body(bytes);
  }

  #target(): TranscriptLines | null {
    return this.current ?? (this.sends === 0 ? this.setup : null);
  }

  #hiddenResponse(): string {
    const step = this.#authStep++;
    if (this.#auth === 'LOGIN') return step === 0 ? '<user name hidden>' : '<password hidden>';
    return '<credentials hidden>';
  }
}

interface Tracker {
  readonly key: string;
  /** The pool connection number it was last assigned to. */
  cid: number | null;
  /** Its connection, once known. */
  conn: Connection | null;
  /** Its own lines, from its MAIL FROM on; null until its send starts. */
  lines: TranscriptLines | null;
  /** Which send on `conn` it was (1 for the first). */
  sequence: number;
  ambiguous: boolean;
}

export function createTranscriptRecorder(): TranscriptRecorder {
  const connections = new Map<string, Connection>();
  const byCid = new Map<number, Connection>();
  const assigned = new Map<number, Tracker>();
  const waiting = new Map<string, Tracker>();
  /** Sends in flight per Message-ID: the pool names messages by it, so two are ambiguous. */
  const sameId = new Map<string, number>();
  const errorConnections = new WeakMap<object, Connection>();

  // State of the current turn (call stack); reset by a microtask once the stack unwinds.
  let turnOpen = false;
  let pendingSend: { cid: number; tracker: Tracker | null } | null = null;
  let lastConnection: Connection | null = null;
  let closed: Connection[] = [];

  function endTurn(): void {
    turnOpen = false;
    pendingSend = null;
    lastConnection = null;
    // Forgotten only now: the error logs and pool events of a closing connection follow its
    // last line in the same stack and must still find it.
    for (const conn of closed) {
      if (connections.get(conn.sid) === conn) connections.delete(conn.sid);
      if (conn.cid !== null && byCid.get(conn.cid) === conn) byCid.delete(conn.cid);
    }
    closed = [];
  }

  function link(conn: Connection, cid: number): void {
    conn.cid = cid;
    byCid.set(cid, conn);
    const tracker = assigned.get(cid);
    if (tracker && tracker.conn === null) tracker.conn = conn;
  }

  /** The last connection that logged in this turn, if the pool has no number for it yet. */
  function unnumberedLast(): Connection | null {
    return lastConnection !== null && lastConnection.cid === null ? lastConnection : null;
  }

  function startSend(conn: Connection, cid: number, tracker: Tracker | null): void {
    if (conn.cid !== null && conn.cid !== cid) return; // not the pair expected: no guessing
    link(conn, cid);
    conn.sends++;
    conn.current = new TranscriptLines();
    if (tracker === null) return;
    tracker.conn = conn;
    tracker.lines = conn.current;
    tracker.sequence = conn.sends;
  }

  function fromConnection(
    sid: string,
    entry: Record<string, unknown>,
    message: unknown,
    send: { cid: number; tracker: Tracker | null } | null,
  ): void {
    let conn = connections.get(sid);
    if (conn === undefined) {
      conn = new Connection(sid);
      connections.set(sid, conn);
    }
    if (send !== null) startSend(conn, send.cid, send.tracker);
    lastConnection = conn;
    switch (entry['tnx']) {
      case 'client':
        if (typeof message === 'string') conn.client(message);
        break;
      case 'server':
        if (typeof message === 'string') conn.server(message);
        break;
      case 'message':
        if (typeof entry['outByteCount'] === 'number') conn.body(entry['outByteCount']);
        break;
      case 'network':
        if (message === 'Connection closed') closed.push(conn);
        break;
      case 'smtp':
        if (typeof message === 'string' && message.startsWith('Closing connection')) {
          closed.push(conn);
        }
        break;
    }
    const err = entry['err'];
    if (typeof err === 'object' && err !== null) errorConnections.set(err, conn);
  }

  function fromPool(cid: number, entry: Record<string, unknown>): void {
    const err = entry['err'];
    if (entry['tnx'] === 'send') {
      pendingSend = { cid, tracker: trackerOf(entry['messageId']) };
    } else if (entry['action'] === 'assign') {
      const tracker = trackerOf(entry['messageId']);
      if (tracker === null) return;
      assigned.set(cid, tracker);
      // A new assignment is a new try (the pool re-queues a message whose connection closed).
      tracker.cid = cid;
      tracker.conn = byCid.get(cid) ?? null;
      tracker.lines = null;
    } else if (typeof err === 'object' && err !== null) {
      const conn = errorConnections.get(err) ?? byCid.get(cid) ?? unnumberedLast();
      if (conn === null) return;
      if (conn.cid === null) link(conn, cid);
      errorConnections.set(err, conn);
    } else if (entry['action'] === 'closed' && !byCid.has(cid)) {
      const conn = unnumberedLast();
      if (conn !== null) link(conn, cid);
    }
  }

  function trackerOf(messageId: unknown): Tracker | null {
    if (typeof messageId !== 'string') return null;
    const tracker = waiting.get(bare(messageId));
    return tracker === undefined || tracker.ambiguous ? null : tracker;
  }

  function record(entry?: unknown, message?: unknown): void {
    if (typeof entry !== 'object' || entry === null) return;
    if (!turnOpen) {
      turnOpen = true;
      queueMicrotask(endTurn);
    }
    // A send the pool announced is claimed by the very next log call only.
    const send = pendingSend;
    pendingSend = null;
    const fields = entry as Record<string, unknown>;
    if (typeof fields['sid'] === 'string') {
      fromConnection(fields['sid'], fields, message, send);
    } else if (typeof fields['cid'] === 'number') {
      fromPool(fields['cid'], fields);
    }
  }

  function safeRecord(entry?: unknown, message?: unknown): void {
    try {
      record(entry, message);
    } catch {
      // A transcript is never worth disturbing a delivery.
    }
  }

  const logger: NodemailerLogger = {
    trace: safeRecord,
    debug: safeRecord,
    info: safeRecord,
    warn: safeRecord,
    error: safeRecord,
    fatal: safeRecord,
  };

  function follow(messageId: string): FollowedSend {
    const key = bare(messageId);
    const tracker: Tracker = {
      key,
      cid: null,
      conn: null,
      lines: null,
      sequence: 0,
      ambiguous: false,
    };
    const inFlight = (sameId.get(key) ?? 0) + 1;
    sameId.set(key, inFlight);
    if (inFlight === 1) {
      waiting.set(key, tracker);
    } else {
      tracker.ambiguous = true;
      const other = waiting.get(key);
      if (other) other.ambiguous = true;
    }
    let finished = false;
    return {
      finish(error?: unknown): TranscriptParts | null {
        if (finished) return null;
        finished = true;
        if (waiting.get(key) === tracker) waiting.delete(key);
        const stillInFlight = sameId.get(key)! - 1;
        if (stillInFlight === 0) sameId.delete(key);
        else sameId.set(key, stillInFlight);
        if (tracker.cid !== null && assigned.get(tracker.cid) === tracker) {
          assigned.delete(tracker.cid);
        }
        const { lines } = tracker;
        const failedOn =
          typeof error === 'object' && error !== null ? errorConnections.get(error) : undefined;
        const conn = lines !== null ? tracker.conn : (failedOn ?? tracker.conn);
        if (conn !== null && conn.current === lines) conn.current = null;
        if (tracker.ambiguous || conn === null) return null;
        const sequence = lines !== null ? tracker.sequence : conn.sends + 1;
        const number = conn.cid === null ? '' : ` #${conn.cid}`;
        return {
          setup: conn.setup,
          note: sequence > 1 ? `(connection${number} reused: send ${sequence} on it)` : null,
          lines,
          outcome: null,
        };
      },
    };
  }

  return { logger, follow };
}

/** "<id@host>" and "id@host" name the same message: the pool logs both forms. */
function bare(messageId: string): string {
  const trimmed = messageId.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}
