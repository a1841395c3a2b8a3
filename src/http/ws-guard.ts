import type { IncomingMessage } from 'node:http';
import type { Extra } from 'graphql-ws/use/ws';
import { principalKey, type Principal } from '../auth/principal.ts';

/** Extra state graphql-ws keeps per connection (ctx.extra): who connected. */
export type ConnectionState = Extra & { principal?: Principal };

interface LiveConnection {
  close(code: number, reason: string): void;
  /** graphql-ws's live operations of this connection. */
  subscriptions: () => number;
}

/**
 * Live graphql-ws connections by caller, so that revoking a token closes its sockets and the
 * per-token subscription cap can count across them.
 */
export function createConnectionRegistry() {
  const byKey = new Map<string, Set<LiveConnection>>();
  return {
    add(principal: Principal, connection: LiveConnection): () => void {
      const key = principalKey(principal);
      let set = byKey.get(key);
      if (set === undefined) byKey.set(key, (set = new Set()));
      set.add(connection);
      return () => {
        set.delete(connection);
        if (set.size === 0) byKey.delete(key);
      };
    },
    /** Live operations over every connection of this caller. */
    operations(principal: Principal): number {
      let total = 0;
      for (const connection of byKey.get(principalKey(principal)) ?? []) {
        total += connection.subscriptions();
      }
      return total;
    },
    /** Closes every connection of the caller with this key (4403: graphql-ws's Forbidden). */
    closeAll(key: string, reason: string): void {
      for (const connection of byKey.get(key) ?? []) connection.close(4403, reason);
    },
  };
}

/**
 * Browsers send `Origin` with every WebSocket handshake and, unlike fetch, get no CORS check: a
 * page on any site could otherwise drive a loopback service that needs no token. Allowed:
 * clients that send no Origin (not browsers), the service's own origin (the dashboard it serves),
 * and the origins listed in ALLOWED_ORIGINS (`*` for any).
 */
export function originAllowed(
  request: IncomingMessage,
  allowedOrigins: readonly string[] | null,
): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins?.includes('*') || allowedOrigins?.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
