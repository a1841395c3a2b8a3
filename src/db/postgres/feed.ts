import { comparePositions, type EventPosition } from '../../domain/event-position.ts';
import type { MessageEvent } from '../../domain/message.ts';
import type { EventFeed, EventLog } from '../port.ts';
import { CHANNELS, type Notifications } from './notifications.ts';

export interface FeedOptions {
  log: EventLog & { anyAfter(after: EventPosition): Promise<boolean> };
  notifications: Notifications;
  publish: (events: readonly MessageEvent[]) => void;
  /** Runs on each page before it is published. */
  beforePublish?: (events: readonly MessageEvent[]) => Promise<void>;
  /** Whether anyone listens; while nobody does the feed only keeps its place. @default always */
  listening?: () => boolean;
  /** Events read per query. @default 1_000 */
  pageSize?: number;
  /** Longest time between looks at the log when nobody says anything happened. @default 1_000 */
  idlePollMs?: number;
  /**
   * Shortest time between two reads: while events stream in from several instances, each
   * NOTIFY would otherwise be a read of its own, of a few events. @default 5
   */
  minReadIntervalMs?: number;
  /**
   * Shortest time between two NOTIFYs of this instance's commits: commits in between share the
   * next one, so another instance hears of an event at most this much later. @default 10
   */
  notifyIntervalMs?: number;
  /** Told of a failed read (the database is down); the feed keeps trying. */
  onError?: (error: unknown) => void;
}

/**
 * The live feed on PostgreSQL: every instance follows the one log, in its one order, and
 * publishes what it reads to its own bus. Events this instance commits are not published
 * directly (another instance's event may come before them in the log); they only wake the
 * follower, as other instances' NOTIFYs do. The log, not the notification, is what is read.
 */
/** How often a feed nobody listens to moves its place, however busy the log is. */
const RESTING_INTERVAL_MS = 250;

export async function startPostgresFeed(options: FeedOptions): Promise<EventFeed> {
  const { log, notifications, publish } = options;
  const pageSize = options.pageSize ?? 1_000;
  const idlePollMs = options.idlePollMs ?? 1_000;
  const minReadIntervalMs = options.minReadIntervalMs ?? 5;
  const notifyIntervalMs = options.notifyIntervalMs ?? 10;
  let lastReadAt = Number.NEGATIVE_INFINITY;
  const listening = options.listening ?? (() => true);
  let position = await log.latest();
  let reading = false;
  let again = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  // While events are committed but not settled (a transaction before them is still open), the
  // log is looked at again soon, backing off while the wait goes on.
  let settleWaitMs = 0;

  function schedule(delayMs: number): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(poke, delayMs);
    timer.unref();
  }

  function poke(): void {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    // Resting, the feed only needs its place now and then.
    const intervalMs = listening() ? minReadIntervalMs : RESTING_INTERVAL_MS;
    const sinceLastMs = performance.now() - lastReadAt;
    if (sinceLastMs < intervalMs) {
      schedule(intervalMs - sinceLastMs);
      return;
    }
    lastReadAt = performance.now();
    reading = true;
    void read().finally(() => {
      reading = false;
      if (again) {
        again = false;
        poke();
      }
    });
  }

  /**
   * With nobody listening, every instance reading every event would be work for no one: the
   * feed only moves its place to the newest event, so that a subscriber who comes later is
   * served from about where the log was when it subscribed. A subscriber reads the newest
   * position itself after it starts listening, and the feed publishes from a place at or before
   * that: a place read while somebody started listening is not taken (it might lie beyond).
   */
  async function keepPlace(): Promise<void> {
    const newest = await log.latest();
    if (!listening() && comparePositions(newest, position) > 0) position = newest;
    schedule(idlePollMs);
  }

  async function read(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!listening()) {
      try {
        await keepPlace();
      } catch (error) {
        options.onError?.(error);
        schedule(Math.min(idlePollMs, 250));
      }
      return;
    }
    try {
      for (;;) {
        const page = await log.listAfter(position, pageSize);
        if (closed) return;
        if (page.length > 0) {
          position = page.at(-1)!;
          await options.beforePublish?.(page);
          if (closed) return;
          publish(page);
          settleWaitMs = 0;
        }
        if (page.length < pageSize) break;
      }
      // Committed after what was read: not settled yet (a transaction before it is still open),
      // or settled just now. Either way, look again soon.
      if (await log.anyAfter(position)) {
        settleWaitMs = Math.min(200, Math.max(2, settleWaitMs * 2));
        schedule(settleWaitMs);
      } else {
        settleWaitMs = 0;
        schedule(idlePollMs);
      }
    } catch (error) {
      options.onError?.(error);
      schedule(Math.min(idlePollMs, 250));
    }
  }

  // Coalesced NOTIFYs for what this process committed: one in flight at a time, another after it
  // when more was committed meanwhile, and at most one per `notifyIntervalMs`. Each NOTIFY is a
  // round trip here and a wake-up on every instance: one per commit made the cost of a message
  // grow with the number of instances, while a reader takes at most one read per
  // minReadIntervalMs anyway.
  let notifying = false;
  let notifyAgain = false;
  let lastNotifyAt = Number.NEGATIVE_INFINITY;
  let notifyTimer: NodeJS.Timeout | null = null;
  function notifyOthers(): void {
    if (notifying || notifyTimer !== null) {
      notifyAgain = true;
      return;
    }
    const waitMs = lastNotifyAt + notifyIntervalMs - performance.now();
    if (waitMs > 0) {
      notifyTimer = setTimeout(() => {
        notifyTimer = null;
        notifyAgain = false;
        if (!closed) notifyOthers();
      }, waitMs);
      return;
    }
    notifying = true;
    lastNotifyAt = performance.now();
    notifications
      .notify(CHANNELS.events, '')
      .catch(() => {}) // a hint; other instances poll anyway
      .finally(() => {
        notifying = false;
        if (notifyAgain && !closed) {
          notifyAgain = false;
          notifyOthers();
        }
      });
  }

  const stopListening = notifications.listen(CHANNELS.events, poke);
  const stopReconnect = notifications.onReconnect(poke);
  schedule(idlePollMs);

  return {
    committed(events) {
      if (events.length === 0 || closed) return;
      poke();
      notifyOthers();
    },
    async close() {
      closed = true;
      if (notifyTimer) clearTimeout(notifyTimer);
      stopListening();
      stopReconnect();
      if (timer) clearTimeout(timer);
    },
  };
}
