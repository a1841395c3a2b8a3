import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { ResultChannel } from '../graphql/context.ts';

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
  return {
    open(socket: WebSocket, id: string): ResultChannel {
      // Bytes, not strings: a string joined per subscriber is flattened and encoded again for
      // each one, which showed as the largest JavaScript cost of fan-out after the sharing.
      const head = Buffer.from(
        `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`,
      );
      return {
        send(result) {
          // A closing socket ends its subscriptions through graphql-ws.
          if (socket.readyState !== WebSocket.OPEN) return;
          const payload = payloadOf(result);
          const message = Buffer.allocUnsafe(head.length + payload.length + 1);
          head.copy(message, 0);
          payload.copy(message, head.length);
          message[message.length - 1] = CLOSING_BRACE;
          socket.send(message, { binary: false });
        },
        pendingBytes: () => socket.bufferedAmount,
      };
    },
  };
}

const CLOSING_BRACE = '}'.charCodeAt(0);

export type ResultChannels = ReturnType<typeof createResultChannels>;
