/**
 * The wire for `verify.ts`: one SMTP client connection that reads replies one at a time and can
 * be upgraded to TLS. Failures are thrown as errors shaped like nodemailer's (`code`,
 * `timeoutType`), so `classify.ts` can explain them the same way it explains a failed send.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';

export interface SmtpReply {
  code: number;
  /** Every line of the reply, verbatim, e.g. `["250-mx.test Hello", "250 PIPELINING"]`. */
  lines: string[];
  /** The lines joined with "\n", the way nodemailer reports a reply. */
  text: string;
}

type WireError = Error & { code: string; timeoutType?: string };

function wireError(code: string, message: string, timeoutType?: string): WireError {
  return Object.assign(new Error(message), { code }, timeoutType ? { timeoutType } : {});
}

/** "203.0.113.5:25" or "[2001:db8::5]:25". */
export function formatAddress(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

// Generous, but a server that streams without line breaks must not fill memory.
const MAX_PENDING_CHARS = 64 * 1024;
const MAX_REPLY_LINES = 1_000;
const REPLY_LINE = /^([2-5]\d\d)(?:([ -])(.*))?$/;

export class SmtpSession {
  #socket: net.Socket;
  #decoder = new StringDecoder('utf8');
  #pending = '';
  #lines: string[] = [];
  #replies: SmtpReply[] = [];
  #failure: Error | null = null;
  /** False once the conversation is out of step (a reply timed out): then no QUIT is sent. */
  #inStep = true;
  #wake: (() => void) | null = null;
  #detach: () => void = () => {};

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  /**
   * Connects to the first address that accepts, within `timeoutMs` for all of them. An address
   * that refuses does not end the attempt while others remain (e.g. `localhost` as ::1 and
   * 127.0.0.1 with the server on one of them); a timeout does, as the time is used up.
   */
  static async connect(
    addresses: readonly string[],
    port: number,
    timeoutMs: number,
  ): Promise<{ session: SmtpSession; remote: string; refused: string[] }> {
    const deadline = performance.now() + timeoutMs;
    const refused: string[] = [];
    let lastError: unknown = null;
    for (const address of addresses) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        const socket = await connectTcp(address, port, left);
        return { session: new SmtpSession(socket), remote: formatAddress(address, port), refused };
      } catch (error) {
        lastError = error;
        const code = (error as { code?: unknown }).code;
        if (code === 'ETIMEDOUT') throw error;
        refused.push(
          `${formatAddress(address, port)}: ${String(code ?? (error as Error).message)}`,
        );
      }
    }
    throw (
      lastError ??
      wireError(
        'ETIMEDOUT',
        `connect ETIMEDOUT ${formatAddress(addresses[0] ?? '', port)}`,
        'CONNECT_TIMEOUT',
      )
    );
  }

  get encrypted(): boolean {
    return this.#socket instanceof tls.TLSSocket;
  }

  /** Waits for the next complete reply (all lines of a multi-line one). */
  readReply(timeoutMs: number, timeoutType?: string): Promise<SmtpReply> {
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#inStep = false;
        settle(() =>
          reject(wireError('ETIMEDOUT', `no reply within ${timeoutMs} ms`, timeoutType)),
        );
      }, timeoutMs);
      const settle = (then: () => void) => {
        clearTimeout(timer);
        this.#wake = null;
        then();
      };
      const check = () => {
        const reply = this.#replies.shift();
        if (reply) settle(() => resolve(reply));
        else if (this.#failure) settle(() => reject(this.#failure));
      };
      this.#wake = check;
      check();
    });
  }

  /** Sends one command line. Callers keep credentials out of anything they report. */
  send(line: string): void {
    if (!this.#socket.destroyed) this.#socket.write(`${line}\r\n`);
  }

  command(line: string, timeoutMs: number): Promise<SmtpReply> {
    this.send(line);
    return this.readReply(timeoutMs);
  }

  /** Runs the TLS handshake on the connection (after the 220 to STARTTLS, or at once for smtps). */
  async startTls(options: tls.ConnectionOptions, timeoutMs: number): Promise<tls.TLSSocket> {
    this.#detach();
    // Whatever arrived in cleartext after the 220 must not be read as a reply once TLS is up:
    // that is how STARTTLS command injection works (CVE-2011-0411).
    this.#pending = '';
    this.#lines = [];
    this.#replies = [];
    this.#decoder = new StringDecoder('utf8');
    const secure = tls.connect({ ...options, socket: this.#socket });
    this.#socket = secure;
    this.#listen(secure);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#inStep = false;
        this.#wake = null;
        reject(wireError('ETIMEDOUT', 'TLS handshake timed out', 'UPGRADE_TIMEOUT'));
      }, timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      });
      this.#wake = () => {
        if (!this.#failure) return;
        clearTimeout(timer);
        this.#wake = null;
        reject(this.#failure);
      };
      this.#wake();
    });
    return secure;
  }

  /** Says QUIT when the conversation still allows it (waiting `timeoutMs` at most), then closes. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#inStep && this.#failure === null && !this.#socket.destroyed) {
      try {
        await this.command('QUIT', timeoutMs);
      } catch {
        // Closing anyway: the report is already decided.
      }
    }
    this.#socket.destroy();
  }

  #listen(socket: net.Socket): void {
    const onData = (chunk: Buffer) => this.#receive(chunk);
    const onError = (error: Error) => this.#fail(error);
    const onClose = () => this.#fail(wireError('ECONNECTION', 'the server closed the connection'));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    this.#detach = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      // The TLS socket reports what happens underneath; this keeps a late error from crashing.
      socket.on('error', () => {});
    };
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  #receive(chunk: Buffer): void {
    this.#pending += this.#decoder.write(chunk);
    for (let end = this.#pending.indexOf('\n'); end !== -1; end = this.#pending.indexOf('\n')) {
      const line = this.#pending.slice(0, end).replace(/\r$/, '');
      this.#pending = this.#pending.slice(end + 1);
      this.#line(line);
    }
    if (this.#pending.length > MAX_PENDING_CHARS) {
      this.#protocolError(`a reply line longer than ${MAX_PENDING_CHARS} characters`);
    }
    this.#wake?.();
  }

  #line(line: string): void {
    if (line === '' || this.#failure) return;
    const match = REPLY_LINE.exec(line);
    if (!match) {
      const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      this.#protocolError(`a line that is not an SMTP reply: ${JSON.stringify(shown)}`);
      return;
    }
    this.#lines.push(line);
    if (match[2] === '-') {
      if (this.#lines.length > MAX_REPLY_LINES) {
        this.#protocolError(`a reply of more than ${MAX_REPLY_LINES} lines`);
      }
      return;
    }
    this.#replies.push({
      code: Number(match[1]),
      lines: this.#lines,
      text: this.#lines.join('\n'),
    });
    this.#lines = [];
  }

  #protocolError(what: string): void {
    this.#inStep = false;
    this.#fail(wireError('EPROTOCOL', `the server sent ${what}`));
  }
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        wireError(
          'ETIMEDOUT',
          `connect ETIMEDOUT ${formatAddress(address, port)}`,
          'CONNECT_TIMEOUT',
        ),
      );
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
