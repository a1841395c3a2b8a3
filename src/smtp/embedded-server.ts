import { describeListenError } from '../listen-error.ts';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface EmbeddedSmtpServer {
  host: string;
  port: number;
  /** Messages accepted since start. */
  acceptedCount(): number;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/**
 * The development SMTP server a fresh install delivers to, so `npm ci && npm start` works end to
 * end with nothing configured. It is a real SMTP hop on loopback only: it accepts any envelope,
 * reads the whole message and answers `250 2.0.0 Ok: queued as <id>`, which the dispatch records.
 * It keeps nothing: it proves the pipeline, it is not a mailbox.
 */
export async function startEmbeddedSmtpServer(port: number): Promise<EmbeddedSmtpServer> {
  let accepted = 0;
  const server = new SMTPServer({
    name: 'mailscope-embedded',
    banner: 'mailscope embedded development SMTP server',
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('5.3.4 Message too big'), { responseCode: 552 }));
          return;
        }
        accepted += 1;
        callback(null, `2.0.0 Ok: queued as ${randomBytes(6).toString('hex').toUpperCase()}`);
      });
    },
  });
  // smtp-server emits a client's socket error (a reset in the middle of a message) on the
  // server; unheard, it would end the process. The connection is closed either way, and the
  // client, which sees its own error, is the one to tell.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown) =>
      reject(describeListenError(error, 'EMBEDDED_SMTP_PORT', `${LOOPBACK}:${port}`));
    server.once('error', failed);
    server.listen(port, LOOPBACK, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.server.address() as AddressInfo;
  return {
    host: LOOPBACK,
    port: address.port,
    acceptedCount: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
