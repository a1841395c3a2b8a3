import { createClient, type Client } from 'graphql-ws/client';
import { createStore } from '../state/store.ts';
import { TRANSIENT_CODES } from './http.ts';
import { authEpoch, authorizationHeader, tokenForbidden, tokenRefused } from './token.ts';

/** 'refused': the server is there but this token may not read what the page follows. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'refused';

/** What the header shows: 'reconnecting' from a lost connection until it is back. */
export const connection = createStore<ConnectionState>('connecting');

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 3_000;
/** graphql-ws closes with this when connection params (the token) are refused. */
const FORBIDDEN = 4403;

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql`;
}

// The client never retries on its own (retryAttempts: 0): a retry would re-send the subscription
// with the variables it started with, so a resumed feed would replay from its first cursor.
// `follow` below retries instead, each time with the variables as they are then.
const client: Client = createClient({
  url: socketUrl,
  lazy: true,
  retryAttempts: 0,
  keepAlive: 10_000,
  connectionParams: () => {
    const authorization = authorizationHeader();
    return authorization ? { authorization } : {};
  },
});
client.on('connected', () => connection.set('live'));
// A socket carries the token it was opened with (connectionParams): after "Change token" the
// open one is dropped, so the subscriptions that start again open one with the new token.
authEpoch.subscribe(() => client.terminate());
client.on('closed', (event) => {
  // 1000: the client closed an idle socket itself (lazy: nothing left to follow, as for a moment
  // while a failed operation is asked again); nothing was lost.
  if (isCloseEvent(event) && event.code === 1000) return;
  if (connection.get() === 'live') connection.set('reconnecting');
});

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function errorCode(error: unknown): string | null {
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return typeof code === 'string' ? code : null;
}

export interface FollowHandlers<T> {
  next(data: T): void;
  /** A GraphQL error the server sent for this operation (not a lost connection). */
  error?(message: string, code: string | null): void;
  /**
   * The data stopped, for a reason that may pass (the server failed, or the connection was
   * lost): it is asked for again, and `next` says when it is back.
   */
  interrupted?(reason: string): void;
}

/**
 * Subscribes and stays subscribed: after a lost connection or a server restart it subscribes
 * again with `variables()` as they are then (e.g. the last cursor seen), backing off up to 3 s.
 * After a refused token it waits for a new one. Returns a function that stops it.
 */
export function follow<T>(
  query: string,
  variables: () => Record<string, unknown>,
  handlers: FollowHandlers<T>,
): () => void {
  let stopped = false;
  let dispose: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delayMs = FIRST_RETRY_MS;
  let stopWaitingForToken: (() => void) | null = null;
  let refused = false;

  // Retrying a refused operation gets the same answer: a SEND token's subscriptions were asked
  // again several times a second for as long as the tab stayed open.
  const refuse = (code: string | null) => {
    refused = true;
    if (code === 'FORBIDDEN') {
      connection.set('refused');
      tokenForbidden();
    }
  };

  const retry = () => {
    if (stopped) return;
    if (connection.get() === 'live') connection.set('reconnecting');
    timer = setTimeout(start, delayMs);
    delayMs = Math.min(delayMs * 2, MAX_RETRY_MS);
  };

  function start() {
    timer = null;
    refused = false;
    if (stopped) return;
    const unsubscribe = client.subscribe<T>(
      { query, variables: variables() },
      {
        next(result) {
          const first = result.errors?.[0];
          if (first) {
            const code = errorCode(first);
            // The server completes the operation after this: a refusal is final, anything
            // else is asked again (backing off: an error is no reason to start over at 250 ms).
            if (!TRANSIENT_CODES.has(code ?? '')) refuse(code);
            handlers.error?.(first.message, code);
          } else if (result.data) {
            delayMs = FIRST_RETRY_MS;
            // Data is flowing, so the socket is open: a resubscribe after a failed operation
            // ('reconnecting' without the socket closing) has succeeded, and nothing else says so.
            if (connection.get() === 'reconnecting') connection.set('live');
            handlers.next(result.data as T);
          }
        },
        error(error) {
          if (isCloseEvent(error) && error.code === FORBIDDEN) {
            tokenRefused();
            const epoch = authEpoch.get();
            stopWaitingForToken = authEpoch.subscribe((value) => {
              if (value === epoch) return;
              stopWaitingForToken?.();
              stopWaitingForToken = null;
              start();
            });
            return;
          }
          // The database did not answer (a message could not be read for an event), or the
          // server failed inside (INTERNAL_SERVER_ERROR, which a database fault can also come
          // out as): neither refuses the operation. The stream ended before the event it could
          // not send, so subscribing again from the last cursor misses nothing once it answers.
          if (Array.isArray(error) && TRANSIENT_CODES.has(errorCode(error[0]) ?? '')) {
            handlers.interrupted?.(String(error[0]?.message ?? 'subscription failed'));
            retry();
            return;
          }
          if (Array.isArray(error)) {
            refuse(errorCode(error[0]));
            handlers.error?.(
              String(error[0]?.message ?? 'subscription failed'),
              errorCode(error[0]),
            );
            return; // the server refused the operation itself: retrying would not help
          }
          handlers.interrupted?.('the connection was lost');
          retry();
        },
        // The server ends a subscription when it shuts down, or after refusing it.
        complete() {
          if (refused) return;
          handlers.interrupted?.('the server ended the subscription');
          retry();
        },
      },
    );
    dispose = unsubscribe;
  }

  start();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    stopWaitingForToken?.();
    dispose?.();
  };
}
