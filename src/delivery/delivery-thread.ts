// Entry point of the delivery thread: the worker, its SMTP transports and its own database
// connection run here, so sending mail never waits behind HTTP and GraphQL work on the main
// thread (and uses the second core). The main thread talks to it through delivery-thread-host.ts.
import { parentPort } from 'node:worker_threads';
import { openStorage } from '../db/open-storage.ts';
import { createSecretBox } from '../secrets/secret-box.ts';
import { useDnsServers } from '../dns/thread-dns.ts';
import { createLogger, flushLogLines } from '../logger.ts';
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
import { createThreadRuntimeSampler } from './thread-runtime.ts';
import { createWakeSignal } from './wake-signal.ts';
import { createVerp } from '../smtp/verp.ts';

const HEARTBEAT_MS = 1_000;
const port = parentPort!;
// Spawned early (delivery-thread-host.ts): its modules are loaded by now; the options come once
// the main thread has migrated the database.
const options = await new Promise<DeliveryThreadOptions>((resolve) => {
  const first = (message: ToDeliveryThread) => {
    if (message.type !== 'start') return;
    port.off('message', first);
    resolve(message.options);
  };
  port.on('message', first);
});
const post = (message: FromDeliveryThread) => port.postMessage(message);

useDnsServers(options.dnsServers, options.dnsTimeoutMs);
const log = createLogger({ level: options.logLevel ?? 'info', name: 'delivery' });
// The delivery role: on SQLite a second connection that is never fsynced (nothing it commits is
// a promise to a client: power loss can take back its last commits, never an acknowledged
// sendEmail, and a message whose record is lost is sent again, at least once); on PostgreSQL a
// pool of its own.
const storage = await openStorage(options.storage, {
  role: 'delivery',
  secrets: createSecretBox(options.secretsKeys),
});
let lastCycleAtMs: number | null = null;
const deliveryLog = createDeliveryLog(log);
const messages = observeAttempts(storage.messages, {
  onCycle: (atMs) => {
    const first = lastCycleAtMs === null;
    lastCycleAtMs = atMs;
    // /readyz waits for the first cycle: say so now rather than at the next heartbeat, a second
    // later (most of the time from start to ready).
    if (first) post({ type: 'heartbeat', lastCycleAtMs, smtpConnections: 0 });
  },
  onAttempts: (attempts) => {
    deliveryLog.attempts(attempts);
    post({ type: 'attempts', attempts });
  },
  onEvents: deliveryLog.events,
});
const settings = createSmtpSettings({
  configs: storage.smtpConfigs,
  environment: options.environment,
  embedded: options.embedded,
});
await settings.refresh();
const transports = createSmtpTransports(options.transports);
// The main thread raises it after each commit; while a cycle is already scheduled, no raise
// needs to wake this thread (the cycle claims what was committed).
const wakes = createWakeSignal(options.wakeBuffer);
const worker = createDeliveryWorker({
  messages,
  settings,
  transports,
  // Committed events go to the main thread, whose feed publishes them in the log's order.
  publish: (events) => {
    if (events.length > 0) post({ type: 'events', events: [...events] });
  },
  // How long finished sends gather: by what a write costs in this storage.
  options: { ...options.worker, batchWindowMs: storage.recordWindowMs },
  sesConfigurationSet: options.sesConfigurationSet ?? null,
  verp: options.bounce
    ? createVerp(options.bounce.domain, Buffer.from(options.bounce.key, 'base64'))
    : null,
  log,
  onBacklog: (backlogged) => post({ type: 'backlog', backlogged }),
  onCycleScheduled: () => wakes.hold(),
  onCycleStart: () => wakes.caughtUp(),
});

// Proof of life for /readyz, and the pool size and this thread's heap and event loop for
// /metrics: they live in this thread, out of the main thread's sight.
const runtime = createThreadRuntimeSampler();
const heartbeat = setInterval(() => {
  post({
    type: 'heartbeat',
    lastCycleAtMs,
    smtpConnections: transports.openConnections(),
    runtime: runtime.sample(),
  });
}, HEARTBEAT_MS);

// A wake after a configuration change is for the messages the old one failed: it waits until
// the new configuration is read, so they are not sent with the old one again.
let settingsRead: Promise<void> = Promise.resolve();

const stopWaking = wakes.listen(() => void settingsRead.then(() => worker.wake()));

port.on('message', (message: ToDeliveryThread) => {
  switch (message.type) {
    case 'settings-changed':
      settingsRead = settings.refresh().then(
        () => worker.wake(),
        (error: unknown) => log.error({ err: error }, 'could not read the new SMTP configuration'),
      );
      break;
    case 'close':
      void (async () => {
        clearInterval(heartbeat);
        runtime.close();
        stopWaking();
        await worker.close();
        await transports.close({ force: true });
        await storage.close();
        // The main thread terminates this one once it reads 'closed': the last lines go first.
        flushLogLines();
        post({ type: 'closed' });
        port.close();
      })();
      break;
  }
});

post({ type: 'ready' });
post({ type: 'heartbeat', lastCycleAtMs, smtpConnections: 0 });
