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

/** One caller's live connections, and at least how many operations they hold. */
interface CallerConnections {
  connections: Set<LiveConnection>;
  /**
   * Never below the operations these connections hold: each new operation adds one, and only an
   * exact count (which walks every connection) lowers it. So the cap is checked without a walk
   * until this bound reaches it: counting every connection at every subscribe made connecting
   * 10,000 dashboards of one caller quadratic (~90 s of the main thread in the fan-out bench).
   */
  operationsAtMost: number;
}

/**
 * Live graphql-ws connections by caller, so that revoking a token closes its sockets and the
 * per-token subscription cap can count across them.
 */
export function createConnectionRegistry() {
  const byKey = new Map<string, CallerConnections>();
  return {
    add(principal: Principal, connection: LiveConnection): () => void {
      const key = principalKey(principal);
      let caller = byKey.get(key);
      if (caller === undefined) {
        caller = { connections: new Set(), operationsAtMost: 0 };
        byKey.set(key, caller);
      }
      caller.connections.add(connection);
      const { connections } = caller;
      return () => {
        connections.delete(connection);
        if (connections.size === 0 && byKey.get(key)?.connections === connections) {
          byKey.delete(key);
        }
      };
    },
    /**
     * Whether this caller's live operations, over every connection and counting the one being
     * subscribed (graphql-ws registers it before its hook runs), are more than `cap`. Called
     * once per new operation.
     */
    operationsOver(principal: Principal, cap: number): boolean {
      const caller = byKey.get(principalKey(principal));
      if (caller === undefined) return 1 > cap;
      caller.operationsAtMost++;
      if (caller.operationsAtMost <= cap) return false;
      let total = 0;
      for (const connection of caller.connections) total += connection.subscriptions();
      caller.operationsAtMost = total;
      return total > cap;
    },
    /** Closes every connection of the caller with this key (4403: graphql-ws's Forbidden). */
    closeAll(key: string, reason: string): void {
      for (const connection of byKey.get(key)?.connections ?? []) {
        connection.close(4403, reason);
      }
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
