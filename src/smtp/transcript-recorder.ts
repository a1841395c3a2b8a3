import { TranscriptLines, type TranscriptParts } from './transcript.ts';

/**
 * Records the SMTP dialogue of one connection of our pool (connection-pool.ts) from nodemailer's
 * `SMTPConnection` logging (nodemailer 10, `transactionLog: true`, `debug: false`): each
 * command (`tnx: 'client'`), each reply (`tnx: 'server'`, a multi-line reply as one string) and
 * the size of the message it streamed (`tnx: 'message'`, `outByteCount`). Each connection has
 * a logger of its own, so every line is known to be that connection's; and the pool runs one
 * send at a time on a connection, so the lines between `beginSend` and `endSend` are that
 * send's. Lines before the first send are the connection's setup (greeting, EHLO, STARTTLS,
 * AUTH), kept as long as it lives: every send's transcript starts with them.
 *
 * Passwords are masked by nodemailer; the rest of every AUTH payload is replaced here, and the
 * message itself is never logged.
 */

type LogMethod = (entry?: unknown, message?: unknown, ...args: unknown[]) => void;
interface NodemailerLogger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
}

export class ConnectionTranscript {
  /** Greeting, EHLO, STARTTLS, AUTH: everything before the first send. */
  readonly setup: TranscriptLines | null;
  /** The lines of the send in progress, or null between sends (or when lines are not kept). */
  current: TranscriptLines | null = null;
  /** Sends started on this connection. */
  sends = 0;
  /**
   * Whether the server has answered DATA with 354 in the send in progress: from then on the
   * message's bytes may be on the wire, so a failure can no longer be retried as "never sent".
   * Tracked even when lines are not kept.
   */
  messageStarted = false;
  /** The `logger` option for this connection's `SMTPConnection`. */
  readonly logger: NodemailerLogger;
  /** The SASL mechanism of an AUTH exchange in progress. */
  #auth: string | null = null;
  #authStep = 0;
  readonly #keepLines: boolean;

  /**
   * `cid` is the pool's number for the connection, said in the note of a reused one. With
   * `keepLines` false nothing is stored; only `messageStarted` is followed.
   */
  constructor(
    readonly cid: number,
    keepLines: boolean,
  ) {
    this.#keepLines = keepLines;
    this.setup = keepLines ? new TranscriptLines() : null;
    const record = (entry?: unknown, message?: unknown): void => {
      try {
        this.#record(entry, message);
      } catch {
        // A transcript is never worth disturbing a delivery.
      }
    };
    this.logger = {
      trace: record,
      debug: record,
      info: record,
      warn: record,
      error: record,
      fatal: record,
    };
  }

  /** The next lines are a new send's. */
  beginSend(): void {
    this.sends++;
    this.messageStarted = false;
    this.current = this.#keepLines ? new TranscriptLines() : null;
  }

  /**
   * Ends the send in progress and returns its transcript parts: null when lines are not kept.
   * `started` false is a send that failed before it began (the connection's setup failed): its
   * transcript is the setup.
   */
  endSend(started: boolean): TranscriptParts | null {
    const lines = started ? this.current : null;
    if (started) this.current = null;
    if (this.setup === null) return null;
    const sequence = started ? this.sends : this.sends + 1;
    return {
      setup: this.setup,
      note: sequence > 1 ? `(connection #${this.cid} reused: send ${sequence} on it)` : null,
      lines,
      outcome: null,
    };
  }

  #record(entry?: unknown, message?: unknown): void {
    if (typeof entry !== 'object' || entry === null) return;
    const fields = entry as Record<string, unknown>;
    switch (fields['tnx']) {
      case 'client':
        if (typeof message === 'string') this.client(message);
        break;
      case 'server':
        if (typeof message === 'string') this.server(message);
        break;
      case 'message':
        if (typeof fields['outByteCount'] === 'number') this.body(fields['outByteCount']);
        break;
    }
  }

  client(text: string): void {
    // Between sends (the RSET after a rejected message, QUIT) lines belong to no send.
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
    if (this.sends > 0 && text.startsWith('354')) this.messageStarted = true;
    this.#target()?.server(text);
  }

  body(bytes: number): void {
    this.#target()?.body(bytes);
  }

  #target(): TranscriptLines | null {
    return this.sends === 0 ? this.setup : this.current;
  }

  #hiddenResponse(): string {
    const step = this.#authStep++;
    if (this.#auth === 'LOGIN') return step === 0 ? '<user name hidden>' : '<password hidden>';
    return '<credentials hidden>';
  }
}
