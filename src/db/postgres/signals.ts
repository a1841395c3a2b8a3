import { randomUUID } from 'node:crypto';
import type { ChangeSignals, StorageChange } from '../port.ts';
import type { PostgresClient } from './client.ts';
import { CHANNELS, type Notifications } from './notifications.ts';

const STATE = {
  name: 'mailscope-change-state',
  text: `SELECT (SELECT coalesce(max(version), 0) FROM smtp_configs) AS "configVersion",
      (SELECT coalesce(max(id), 0) FROM api_tokens) AS "newestToken",
      (SELECT coalesce(array_agg(id), '{}') FROM api_tokens WHERE revoked_at IS NOT NULL)
        AS revoked`,
};

interface State {
  configVersion: number;
  newestToken: number;
  revoked: number[];
}

/**
 * Changes told to every instance within a second: a NOTIFY carries them at once, and a look at
 * the tables every `pollMs` finds any that a lost notification (a restart, a broken connection)
 * did not bring. An instance hears its own announcements at once, not through the database.
 */
export function startPostgresSignals(
  client: PostgresClient,
  notifications: Notifications,
  { pollMs = 500, onError }: { pollMs?: number; onError?: (error: unknown) => void } = {},
): ChangeSignals & { close(): void } {
  const origin = randomUUID();
  const listeners = new Set<(change: StorageChange) => void>();
  let known: State | null = null;
  let closed = false;

  const tell = (change: StorageChange) => {
    for (const listener of listeners) listener(change);
  };

  async function look(): Promise<void> {
    let state: State;
    try {
      const { rows } = await client.query<State>(STATE);
      state = rows[0]!;
    } catch (error) {
      onError?.(error);
      return;
    }
    const before = known;
    known = state;
    if (before === null || closed) return;
    if (state.configVersion !== before.configVersion) tell({ kind: 'smtp-config' });
    if (state.newestToken > before.newestToken) tell({ kind: 'token-created' });
    const wasRevoked = new Set(before.revoked);
    for (const tokenId of state.revoked) {
      if (!wasRevoked.has(tokenId)) tell({ kind: 'token-revoked', tokenId });
    }
  }

  // A change heard twice (notification and poll) is told twice: listeners re-read or close
  // sockets again, which is harmless.
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
