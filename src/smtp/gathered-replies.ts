import type { Writable } from 'node:stream';
import { createTurnCork } from '../turn-cork.ts';

/**
 * Replies that may wait for the rest of this turn: a pipelining client (nodemailer is one) sends
 * MAIL, RCPT and DATA in one packet, and their 250, 250 and 354 then leave in one write instead
 * of three (turn-cork.ts): a loopback write costs tens of microseconds of this thread, as much as
 * storing part of the message. Every other reply (the 220 before a TLS handshake, 221, 421,
 * refusals) first sends what waits, then goes out at once.
 */
const GATHERED_REPLIES = new Set([250, 354]);

const turns = createTurnCork();

/** Runs `send`, which writes one reply with `code` to `socket`, gathered or at once as above. */
export function sendGathered(socket: Writable | undefined, code: number, send: () => void): void {
  if (socket === undefined || socket.destroyed) return send();
  if (GATHERED_REPLIES.has(code)) turns.cork(socket);
  else turns.flush(socket);
  send();
}
