import type { LogLevel } from '../config.ts';
import type { StorageDescriptor } from '../db/open-storage.ts';
import type { MessageEvent } from '../domain/message.ts';
import type { AttemptReport } from './attempt-observer.ts';
import type { SmtpTransportsOptions } from '../smtp/transport.ts';
import type { SmtpSettingsDeps } from './smtp-settings.ts';
import type { WorkerOptions } from './worker.ts';

/** What the delivery thread is started with (structured-cloneable). */
export interface DeliveryThreadOptions {
  /** The wake signal's shared memory (wake-signal.ts): "something may be due now". */
  wakeBuffer: SharedArrayBuffer;
  /** The main thread's storage (on SQLite with its write turns), opened in the delivery role. */
  storage: StorageDescriptor;
  /** SECRETS_KEY, to read encrypted SMTP configurations. */
  secretsKeys: string[];
  environment: SmtpSettingsDeps['environment'];
  embedded: SmtpSettingsDeps['embedded'];
  transports: SmtpTransportsOptions;
  worker: WorkerOptions;
  /** DNS_SERVERS: the thread's look-ups go to these resolvers; null for the system's. */
  dnsServers: readonly string[] | null;
  /** DNS_TIMEOUT_MS: how long one of the thread's queries to DNS_SERVERS may take. */
  dnsTimeoutMs: number;
  /**
   * BOUNCE_DOMAIN and the VERP key (base64): every message's envelope sender names it.
   * @default null (the From address is the envelope sender)
   */
  bounce?: { domain: string; key: string } | null;
  /** SES_CONFIGURATION_SET, stamped on mail sent through SES. @default null */
  sesConfigurationSet?: string | null;
  /** The thread logs with its own pino instance at this level. @default 'info' */
  logLevel?: LogLevel;
}

export type ToDeliveryThread =
  /** The thread's options, once the main thread has migrated the database (it waits for them). */
  | { type: 'start'; options: DeliveryThreadOptions }
  /** A new SMTP configuration was stored. */
  | { type: 'settings-changed' }
  /** Finish or release in-flight sends, then stop. */
  | { type: 'close' };

export type FromDeliveryThread =
  | { type: 'ready' }
  /** Committed events, in commit order. */
  | { type: 'events'; events: MessageEvent[] }
  | { type: 'closed' }
  /** Attempts just recorded, for the metrics. */
  | { type: 'attempts'; attempts: AttemptReport[] }
  /** The worker's backlog began (due mail waits for room) or ended; sent on a change only. */
  | { type: 'backlog'; backlogged: boolean }
  /**
   * Sent every second: the thread is alive; when the worker last cycled; SMTP connections; and
   * its own runtime (its V8 heap is not the main thread's), absent from the first heartbeats.
   */
  | {
      type: 'heartbeat';
      lastCycleAtMs: number | null;
      smtpConnections: number;
      runtime?: ThreadRuntime;
    };

/** What the delivery thread's isolate and event loop look like, for /metrics. */
export interface ThreadRuntime {
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** The longest its event loop was held up since the previous heartbeat. */
  eventLoopDelayMaxMs: number;
}
