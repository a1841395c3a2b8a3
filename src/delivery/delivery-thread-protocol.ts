import type { DatabaseOptions } from '../db/client.ts';
import type { MessageEvent } from '../domain/message.ts';
import type { SmtpTransportsOptions } from '../smtp/transport.ts';
import type { SmtpSettingsDeps } from './smtp-settings.ts';
import type { WorkerOptions } from './worker.ts';

/** What the delivery thread is started with (structured-cloneable). */
export interface DeliveryThreadOptions {
  databasePath: string;
  /** The main thread's lock wait (its `synchronous` is not used; see delivery-thread.ts). */
  storage: Pick<DatabaseOptions, 'synchronous' | 'busyTimeoutMs'>;
  environment: SmtpSettingsDeps['environment'];
  embedded: SmtpSettingsDeps['embedded'];
  transports: SmtpTransportsOptions;
  worker: WorkerOptions;
}

export type ToDeliveryThread =
  /** Something may be due now. */
  | { type: 'wake' }
  /** A new SMTP configuration was stored. */
  | { type: 'settings-changed' }
  /** Finish or release in-flight sends, then stop. */
  | { type: 'close' };

export type FromDeliveryThread =
  | { type: 'ready' }
  /** Committed events, in commit order. */
  | { type: 'events'; events: MessageEvent[] }
  | { type: 'closed' };
