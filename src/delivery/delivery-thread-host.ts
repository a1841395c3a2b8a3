import { Worker } from 'node:worker_threads';
import { threadEntry } from '../thread-entry.ts';
import type { MessageEvent } from '../domain/message.ts';
import type { Logger } from '../logger.ts';
import type { AttemptReport } from './attempt-observer.ts';
import { createWakeSignal } from './wake-signal.ts';
import type {
  DeliveryThreadOptions,
  FromDeliveryThread,
  ThreadRuntime,
  ToDeliveryThread,
} from './delivery-thread-protocol.ts';

export interface DeliveryThread {
  /** Something may be due now. */
  wake(): void;
  /** A new SMTP configuration was stored. */
  settingsChanged(): void;
  /** Lets in-flight sends finish or releases them, then stops the thread. */
  close(): Promise<void>;
  /** What the thread last reported about itself. */
  health(): DeliveryThreadHealth;
}

export interface DeliveryThreadHealth {
  /** The thread has not exited. */
  running: boolean;
  /** When its last heartbeat (sent every second) arrived here. */
  lastHeartbeatAtMs: number | null;
  /** When the worker last ran a cycle (at least once a second while idle). */
  lastCycleAtMs: number | null;
  smtpConnections: number;
  /** Its heap and event loop as of the last heartbeat; null until the first such report. */
  runtime: ThreadRuntime | null;
}

export interface DeliveryThreadHooks {
  log: Logger;
  /** Attempts the thread recorded, with their dispatch durations. */
  onAttempts?: (attempts: AttemptReport[]) => void;
  /**
   * The worker's backlog began or ended (worker.ts `onBacklog`); told on a change only. It
   * speaks for this instance's worker alone: on PostgreSQL each instance has its own.
   */
  onBacklog?: (backlogged: boolean) => void;
  now?: () => number;
}

export interface SpawnedDeliveryThread {
  /** Hands the thread its options; resolves once it is ready. Once only. */
  start(
    options: Omit<DeliveryThreadOptions, 'wakeBuffer'>,
    publish: (events: readonly MessageEvent[]) => void,
    hooks: DeliveryThreadHooks,
  ): Promise<DeliveryThread>;
  /** Ends a thread that was never started (start-up failed before it). */
  terminate(): Promise<void>;
}

/**
 * Spawns the delivery thread before its options are known, so that it loads its modules (about
 * a third of a second) while the main thread migrates the database and starts the HTTP side; it
 * waits for `start`. Until then it keeps no process alive.
 */
export function spawnDeliveryThread(): SpawnedDeliveryThread {
  const entry = threadEntry(import.meta.url, 'delivery-thread');
  const signal = createWakeSignal();
  const thread = new Worker(entry.code, { eval: entry.eval, workerData: null });
  thread.unref();
  // An error before start (its modules failed to load) is kept for start to report.
  let earlyError: Error | null = null;
  const keepEarlyError = (error: Error) => (earlyError ??= error);
  thread.on('error', keepEarlyError);
  return {
    terminate: async () => {
      await thread.terminate();
    },
    async start(options, publish, hooks) {
      thread.off('error', keepEarlyError);
      thread.ref();
      if (earlyError !== null) {
        await thread.terminate();
        throw earlyError;
      }
      return started(thread, signal, options, publish, hooks);
    },
  };
}

/** Spawns the delivery thread, starts it and resolves once it is ready. */
export function startDeliveryThread(
  options: Omit<DeliveryThreadOptions, 'wakeBuffer'>,
  publish: (events: readonly MessageEvent[]) => void,
  hooks: DeliveryThreadHooks,
): Promise<DeliveryThread> {
  return spawnDeliveryThread().start(options, publish, hooks);
}

async function started(
  thread: Worker,
  signal: ReturnType<typeof createWakeSignal>,
  options: Omit<DeliveryThreadOptions, 'wakeBuffer'>,
  publish: (events: readonly MessageEvent[]) => void,
  hooks: DeliveryThreadHooks,
): Promise<DeliveryThread> {
  const now = hooks.now ?? Date.now;
  const health: DeliveryThreadHealth = {
    running: true,
    lastHeartbeatAtMs: null,
    lastCycleAtMs: null,
    smtpConnections: 0,
    runtime: null,
  };
  const send = (message: ToDeliveryThread) => thread.postMessage(message);
  let closed: (() => void) | null = null;
  let exited = false;

  await new Promise<void>((resolve, reject) => {
    thread.once('error', reject);
    send({ type: 'start', options: { ...options, wakeBuffer: signal.buffer } });
    thread.on('message', (message: FromDeliveryThread) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'events') publish(message.events);
      else if (message.type === 'closed') closed?.();
      else if (message.type === 'attempts') hooks.onAttempts?.(message.attempts);
      else if (message.type === 'backlog') hooks.onBacklog?.(message.backlogged);
      else if (message.type === 'heartbeat') {
        health.lastHeartbeatAtMs = now();
        health.lastCycleAtMs = message.lastCycleAtMs;
        health.smtpConnections = message.smtpConnections;
        health.runtime = message.runtime ?? health.runtime;
      }
    });
  });
  thread.on('error', (error) => {
    // Without its delivery thread the service would accept mail it never sends: stop, and let
    // the supervisor restart it (the lease recovers whatever was in flight).
    hooks.log.fatal({ err: error }, 'the delivery thread failed; exiting');
    process.exit(1);
  });
  thread.once('exit', () => {
    exited = true;
    health.running = false;
    hooks.onBacklog?.(false); // a stopped worker has no mail waiting on it
    closed?.();
  });

  return {
    wake: () => signal.raise(),
    settingsChanged: () => send({ type: 'settings-changed' }),
    health: () => ({ ...health }),
    async close() {
      if (exited) return;
      await new Promise<void>((resolve) => {
        closed = resolve;
        send({ type: 'close' });
      });
      await thread.terminate();
    },
  };
}
