import type { Socket } from 'node:net';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { ResultChannel } from '../graphql/context.ts';
import { createTurnCork } from '../turn-cork.ts';

/**
 * Result channels of graphql-ws subscriptions: a result written to the subscriber's socket as
 * graphql-ws would write it (a `next` message), at once, and serialised once however many
 * subscribers it goes to.
 *
 * graphql-ws takes each result through several awaits per subscriber (the iterator, the `onNext`
 * hook, the socket's write callback) and checks and serialises the whole message again for every
 * one; with a thousand dashboards on one feed that JavaScript cost more than writing the frames.
 * Shared subscriptions (`shared-subscriptions.ts`) write through a channel; graphql-ws still
 * starts, completes and fails the operation, so those messages come after the results.
 *
 * Frames written to one socket in the same turn of the event loop leave in one system call
 * (turn-cork.ts). With a thousand dashboards, the write system call was 40 % of the main thread's
 * time, one per frame; when the service is busy, events pile up between two reads of the log,
 * arrive together and now cost one write per socket instead of one per event. An idle service
 * loses nothing: a lone event's frames are flushed before the loop waits for I/O again.
 */
export function createResultChannels(
  /** The payload of a `next` message, as the server's `onNext` hook makes it. */
  format: (result: ExecutionResult) => ExecutionResult | FormattedExecutionResult,
) {
  const payloads = new WeakMap<ExecutionResult, Buffer>();
  const payloadOf = (result: ExecutionResult) => {
    let payload = payloads.get(result);
    if (payload === undefined) {
      payload = Buffer.from(JSON.stringify(format(result)));
      payloads.set(result, payload);
    }
    return payload;
  };
  const turns = createTurnCork();
  return {
    open(socket: WebSocket, id: string): ResultChannel {
      // Bytes, not strings: a string joined per subscriber is flattened and encoded again for
      // each one, which showed as the largest JavaScript cost of fan-out after the sharing.
      const head = Buffer.from(
        `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`,
      );
      // ws keeps the TCP socket it writes to here; it is not part of its typed surface.
      const transport = (socket as unknown as { _socket?: Socket })._socket;
      return {
        send(result) {
          // A closing socket ends its subscriptions through graphql-ws.
          if (socket.readyState !== WebSocket.OPEN) return;
          const payload = payloadOf(result);
          const length = head.length + payload.length + 1;
          if (transport === undefined || transport.destroyed || socket.extensions !== '') {
            socket.send(joined(Buffer.allocUnsafe(length), 0, head, payload), { binary: false });
            return;
          }
          // The whole frame in one buffer, written in one call: ws writes a frame's header and
          // its data as two, which was most of the JavaScript of a fan-out's pass over its
          // sockets. Only without extensions (no permessage-deflate: the frame is the bytes).
          // ws writes synchronously to the same socket, so frames keep their order.
          const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
          const frame = Buffer.allocUnsafe(headerLength + length);
          frame[0] = FIN_TEXT;
          if (headerLength === 2) {
            frame[1] = length;
          } else if (headerLength === 4) {
            frame[1] = 126;
            frame.writeUInt16BE(length, 2);
          } else {
            frame[1] = 127;
            frame.writeUInt32BE(0, 2);
            frame.writeUInt32BE(length, 6);
          }
          turns.cork(transport);
          transport.write(joined(frame, headerLength, head, payload));
        },
        pendingBytes: () => socket.bufferedAmount,
      };
    },
  };
}

const CLOSING_BRACE = '}'.charCodeAt(0);
/** A WebSocket frame's first byte: the final fragment of a text message. */
const FIN_TEXT = 0x81;

/** `message` with head, payload and a closing brace written from `offset`. */
function joined(message: Buffer, offset: number, head: Buffer, payload: Buffer): Buffer {
  head.copy(message, offset);
  payload.copy(message, offset + head.length);
  message[message.length - 1] = CLOSING_BRACE;
  return message;
}

export type ResultChannels = ReturnType<typeof createResultChannels>;
