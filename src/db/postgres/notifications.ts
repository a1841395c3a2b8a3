import pg from 'pg';
import { destroyConnection, KEEPALIVE_INITIAL_DELAY_MS, type PostgresClient } from './client.ts';

/** The channels instances tell each other things on. Hints only: nothing relies on delivery. */
export const CHANNELS = {
  /** Events were committed: read the log. */
  events: 'mailscope_events',
  /** Configuration or tokens changed (signals.ts). */
  changes: 'mailscope_changes',
} as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

const NOTIFY = { name: 'mailscope-notify', text: 'SELECT pg_notify($1, $2)' };

export interface Notifications {
  /** Calls `listener` with each payload on `channel` (from any instance, this one included). */
  listen(channel: Channel, listener: (payload: string) => void): () => void;
  /** Called each time the listening connection is (re)established: notifications may have been missed. */
  onReconnect(listener: () => void): () => void;
  /** Sends a payload to every listener of `channel`, after the caller's own commit. */
  notify(channel: Channel, payload: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTEN on one connection of its own, kept open: when it breaks (the server restarted) it is
 * opened again with back-off, and `onReconnect` listeners re-read whatever they follow, since
 * notifications sent meanwhile are lost. NOTIFY goes through the pool, outside any data
 * transaction: a NOTIFY inside one would serialise every committer on the notify queue's lock.
 *
 * A listening connection only hears, so a path that dies silently (no reset) would leave it
 * deaf for good: it is asked `SELECT 1` every so often, and one that does not answer within
 * `queryTimeoutMs` is destroyed and opened again.
 */
export function startNotifications(
  url: string,
  pool: PostgresClient,
  queryTimeoutMs: number,
): Notifications {
  const pingIntervalMs = Math.min(queryTimeoutMs, 30_000);
  const listeners = new Map<string, Set<(payload: string) => void>>();
  const reconnectListeners = new Set<() => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 100;
  let timer: NodeJS.Timeout | null = null;
  let ping: NodeJS.Timeout | null = null;

  async function connect(): Promise<void> {
    timer = null;
    if (closed) return;
    const next = new pg.Client({
      connectionString: url,
      application_name: 'mailscope-listen',
      connectionTimeoutMillis: 5_000,
      query_timeout: queryTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    next.on('error', () => scheduleReconnect(next));
    next.on('end', () => scheduleReconnect(next));
    next.on('notification', (message) => {
      for (const listener of listeners.get(message.channel) ?? []) listener(message.payload ?? '');
    });
    try {
      await next.connect();
      for (const channel of Object.values(CHANNELS)) await next.query(`LISTEN ${channel}`);
    } catch {
      scheduleReconnect(next);
      return;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    retryMs = 100;
    if (ping) clearInterval(ping);
    ping = setInterval(() => {
      next.query('SELECT 1').catch(() => {
        destroyConnection(next);
        scheduleReconnect(next);
      });
    }, pingIntervalMs);
    ping.unref();
    for (const listener of reconnectListeners) listener();
  }

  function scheduleReconnect(broken: pg.Client): void {
    if (client === broken) {
      client = null;
      if (ping) clearInterval(ping);
      ping = null;
    }
    broken.end().catch(() => {});
    if (closed || timer !== null || client !== null) return;
    timer = setTimeout(() => void connect(), retryMs);
    timer.unref();
    retryMs = Math.min(5_000, retryMs * 2);
  }

  void connect();

  return {
    listen(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async notify(channel, payload) {
      // Named, so each pooled connection parses it once (unnamed, every notify was parsed and
      // planned again: ~0.1 ms of the server's time each, several times a second under load).
      await pool.query({ ...NOTIFY, values: [channel, payload] });
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (ping) clearInterval(ping);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
