import type { Writable } from 'node:stream';

/**
 * Replies that may wait for the rest of this turn: a pipelining client (nodemailer is one) sends
 * MAIL, RCPT and DATA in one packet, and their 250, 250 and 354 then leave in one write instead
 * of three. A loopback write costs tens of microseconds of this thread, as much as storing part
 * of the message. Every other reply (the 220 before a TLS handshake, 221, 421, refusals) first
 * sends what waits, then goes out at once.
 */
const GATHERED_REPLIES = new Set([250, 354]);

/** Runs `send`, which writes one reply with `code` to `socket`, gathered or at once as above. */
export function sendGathered(socket: Writable | undefined, code: number, send: () => void): void {
  if (socket === undefined || socket.destroyed) return send();
  if (!GATHERED_REPLIES.has(code)) {
    while (socket.writableCorked > 0) socket.uncork();
    return send();
  }
  if (socket.writableCorked === 0) {
    socket.cork();
    setImmediate(() => {
      while (socket.writableCorked > 0) socket.uncork();
    });
  }
  send();
}
