import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Socket } from 'node:net';
import type { Transform } from 'node:stream';
import { createTurnCork } from '../turn-cork.ts';

/** What this file reaches of nodemailer 10's SMTPConnection beyond its typed surface. */
interface ConnectionInternals {
  _socket?: Socket;
  _createSendStream(callback: (error: Error | null, reply?: string) => void): Transform;
}

const turns = createTurnCork();
const original = (SMTPConnection.prototype as unknown as ConnectionInternals)._createSendStream;

/**
 * nodemailer's SMTPConnection with a message's DATA section in one write. nodemailer pipes the
 * message through its dot-stuffing stream into the socket: the message's bytes are one write and
 * the `.` that ends them another, a system call each, and on loopback each write also wakes the
 * receiving server for half a message (bench/MACHINES.md: two writes were 7 % of the delivery
 * thread at 16 clients). The messages sent here are Buffers written whole in one turn, so the
 * socket is corked for that turn (turn-cork.ts) and both leave together. A stream message's
 * later chunks are written as before.
 */
export class CorkedDataConnection extends SMTPConnection {
  /** @internal nodemailer calls it once the server has accepted DATA (354). */
  _createSendStream(callback: (error: Error | null, reply?: string) => void): Transform {
    const internals = this as unknown as ConnectionInternals;
    const stream = original.call(internals, callback);
    if (internals._socket && !internals._socket.destroyed) turns.cork(internals._socket);
    return stream;
  }
}
