// Entry point of the delivery thread: the worker, its SMTP transports and its own SQLite
// connection run here, so sending mail never waits behind HTTP and GraphQL work on the main
// thread (and uses the second core). The main thread talks to it through delivery-thread-host.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/client.ts';
import { createMessageRepository } from '../db/messages.ts';
import { createSmtpConfigRepository } from '../db/smtp-configs.ts';
import { createStatsRepository } from '../db/stats.ts';
import { createWriteTurns } from '../db/write-turns.ts';
import { createSecretBox } from '../secrets/secret-box.ts';
import { createLogger } from '../logger.ts';
import { createSmtpTransports } from '../smtp/transport.ts';
import { createDeliveryLog } from './delivery-log.ts';
import type {
  DeliveryThreadOptions,
  FromDeliveryThread,
  ToDeliveryThread,
} from './delivery-thread-protocol.ts';
import { observeAttempts } from './attempt-observer.ts';
import { createSmtpSettings } from './smtp-settings.ts';
import { createDeliveryWorker } from './worker.ts';

const HEARTBEAT_MS = 1_000;
const options = workerData as DeliveryThreadOptions;
const port = parentPort!;
const post = (message: FromDeliveryThread) => port.postMessage(message);

const log = createLogger({ level: options.logLevel ?? 'info', name: 'delivery' });
// NORMAL whatever SQLITE_SYNCHRONOUS says: nothing this connection commits is a promise to a
// client. Power loss can take back its last commits, never an acknowledged sendEmail (those
// commits are fsynced, and a fsync covers every WAL frame before it): a message whose record is
// lost is PROCESSING or QUEUED again and is sent again, at least once. Skipping the fsync keeps
// it off the worker's hot path, where it would block every claim-and-record cycle.
const database = openDatabase(options.databasePath, {
  ...options.storage,
  synchronous: 'normal',
  migrate: false,
});
const stats = createStatsRepository(database.db);
let lastCycleAtMs: number | null = null;
const deliveryLog = createDeliveryLog(log);
const messages = observeAttempts(createMessageRepository(database.db, stats), {
  onCycle: (atMs) => (lastCycleAtMs = atMs),
  onAttempts: (attempts) => {
    deliveryLog.attempts(attempts);
    post({ type: 'attempts', attempts });
  },
  onEvents: deliveryLog.events,
});
const settings = createSmtpSettings({
  configs: createSmtpConfigRepository(database.db, createSecretBox(options.secretsKeys)),
  environment: options.environment,
  embedded: options.embedded,
});
const transports = createSmtpTransports(options.transports);
const worker = createDeliveryWorker({
  messages,
  settings,
  transports,
  // Events go to the main thread, where subscriptions live.
  publish: (events) => {
    if (events.length > 0) post({ type: 'events', events: [...events] });
  },
  options: options.worker,
  log,
  writeTurns: createWriteTurns(options.writeTurns),
});

// Proof of life for /readyz, and the pool size for /metrics: both live in this thread.
const heartbeat = setInterval(() => {
  post({ type: 'heartbeat', lastCycleAtMs, smtpConnections: transports.openConnections() });
}, HEARTBEAT_MS);

port.on('message', (message: ToDeliveryThread) => {
  switch (message.type) {
    case 'wake':
      worker.wake();
      break;
    case 'settings-changed':
      settings.invalidate();
      worker.wake();
      break;
    case 'close':
      void (async () => {
        clearInterval(heartbeat);
        await worker.close();
        await transports.close({ force: true });
        database.close();
        post({ type: 'closed' });
        port.close();
      })();
      break;
  }
});

post({ type: 'ready' });
post({ type: 'heartbeat', lastCycleAtMs, smtpConnections: 0 });
