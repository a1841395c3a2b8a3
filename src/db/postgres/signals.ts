import { randomUUID } from 'node:crypto';
import type { ChangeSignals, StorageChange } from '../port.ts';
import type { PostgresClient } from './client.ts';
import { CHANNELS, type Notifications } from './notifications.ts';

const STATE = {
  name: 'mailscope-change-state',
  text: `SELECT (SELECT coalesce(max(version), 0) FROM smtp_configs) AS "configVersion",
      (SELECT coalesce(max(id), 0) FROM api_tokens) AS "newestToken",
      (SELECT coalesce(array_agg(id), '{}') FROM api_tokens WHERE revoked_at IS NOT NULL)
        AS revoked,
      (SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM webhook_endpoints
        WHERE enabled) AS "enabledEndpoints"`,
};

interface State {
  configVersion: number;
  newestToken: number;
  revoked: number[];
  /** The enabled webhook endpoints' ids, joined. */
  enabledEndpoints: string;
}

/**
 * Changes told to every instance within a second: a NOTIFY carries them at once, and a look at
 * the tables every `pollMs` finds any that a lost notification (a restart, a broken connection)
 * did not bring. An instance hears its own announcements at once, not through the database.
 * Each change is told once, however many of those ways bring it: what was told is remembered
 * (the newest configuration version and token, the revoked tokens). Webhook endpoint changes are
 * the exception: told as they come and again when the look finds another set of enabled
 * endpoints, which costs their listener a read.
 */
export function startPostgresSignals(
  client: PostgresClient,
  notifications: Notifications,
  { pollMs = 500, onError }: { pollMs?: number; onError?: (error: unknown) => void } = {},
): ChangeSignals & { close(): void } {
  const origin = randomUUID();
  const listeners = new Set<(change: StorageChange) => void>();
  // What listeners have been told; null until the first look (changes before start are old).
  let told: {
    configVersion: number;
    newestToken: number;
    revoked: Set<number>;
    enabledEndpoints: string;
  } | null = null;
  let closed = false;

  /** Tells listeners about `change` unless they heard of it (or something newer) already. */
  function tell(change: StorageChange): void {
    if (told !== null) {
      if (change.kind === 'smtp-config') {
        if (change.version <= told.configVersion) return;
        told.configVersion = change.version;
      } else if (change.kind === 'token-created') {
        if (change.tokenId <= told.newestToken) return;
        told.newestToken = change.tokenId;
      } else if (change.kind === 'token-revoked') {
        if (told.revoked.has(change.tokenId)) return;
        told.revoked.add(change.tokenId);
      }
      // webhook-endpoints: always told; hearing it twice only means reading endpoints again.
    }
    for (const listener of listeners) listener(change);
  }

  let looking: Promise<void> = Promise.resolve();
  function look(): Promise<void> {
    looking = looking.then(async () => {
      let state: State;
      try {
        const { rows } = await client.query<State>(STATE);
        state = rows[0]!;
      } catch (error) {
        onError?.(error);
        return;
      }
      if (closed) return;
      if (told === null) {
        told = {
          configVersion: state.configVersion,
          newestToken: state.newestToken,
          revoked: new Set(state.revoked),
          enabledEndpoints: state.enabledEndpoints,
        };
        return;
      }
      if (state.configVersion > told.configVersion) {
        tell({ kind: 'smtp-config', version: state.configVersion });
      }
      if (state.newestToken > told.newestToken) {
        tell({ kind: 'token-created', tokenId: state.newestToken });
      }
      for (const tokenId of state.revoked) tell({ kind: 'token-revoked', tokenId });
      if (state.enabledEndpoints !== told.enabledEndpoints) {
        told.enabledEndpoints = state.enabledEndpoints;
        tell({ kind: 'webhook-endpoints' });
      }
    });
    return looking;
  }

  const stopListening = notifications.listen(CHANNELS.changes, (payload) => {
    try {
      const message = JSON.parse(payload) as { origin: string; change: StorageChange };
      if (message.origin !== origin) tell(message.change);
    } catch {
      // not ours
    }
  });
  const stopReconnect = notifications.onReconnect(() => void look());
  void look();
  const timer = setInterval(() => void look(), pollMs);
  timer.unref();

  return {
    announce(change) {
      tell(change);
      notifications
        .notify(CHANNELS.changes, JSON.stringify({ origin, change }))
        .catch((error: unknown) => onError?.(error));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      clearInterval(timer);
      stopListening();
      stopReconnect();
    },
  };
}
