// Entry point of the delivery thread: the worker, its SMTP transports and its own SQLite
// connection run here, so sending mail never waits behind HTTP and GraphQL work on the main
// thread (and uses the second core). The main thread talks to it through delivery-thread-host.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/client.ts';
import { createMessageRepository } from '../db/messages.ts';
import { createSmtpConfigRepository } from '../db/smtp-configs.ts';
import { createStatsRepository } from '../db/stats.ts';
import { createSmtpTransports } from '../smtp/transport.ts';
import type {
  DeliveryThreadOptions,
  FromDeliveryThread,
  ToDeliveryThread,
} from './delivery-thread-protocol.ts';
import { createSmtpSettings } from './smtp-settings.ts';
import { createDeliveryWorker } from './worker.ts';

const options = workerData as DeliveryThreadOptions;
const port = parentPort!;
const post = (message: FromDeliveryThread) => port.postMessage(message);

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
const messages = createMessageRepository(database.db, stats);
const settings = createSmtpSettings({
  configs: createSmtpConfigRepository(database.db),
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
});

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
