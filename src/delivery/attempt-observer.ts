import type { AttemptRecord, MessageStore } from '../db/port.ts';
import type { MessageEvent, MessageStatus } from '../domain/message.ts';

/** One recorded delivery attempt, as logs and metrics see it. Structured-cloneable. */
export interface AttemptReport {
  /** The message's id (the GraphQL `Message.id`). */
  id: number;
  attempt: number;
  /** Where the attempt left the message: SENT, QUEUED (retry) or ABANDONED. */
  status: MessageStatus;
  errorCode: string | null;
  responseCode: number | null;
  /** The SMTP dispatch's duration, as stored on the Dispatch. */
  durationMs: number;
}

export interface AttemptObserver {
  /** Attempts whose record committed (a record for a lost lease is dropped, and not reported). */
  onAttempts(reports: AttemptReport[]): void;
  /** The worker ran a cycle (it records and claims once per cycle, even with nothing to do). */
  onCycle(atMs: number): void;
  /** Claims and releases: status changes that are not attempts. */
  onEvents(events: readonly MessageEvent[]): void;
}

function reportsFor(records: readonly AttemptRecord[], events: readonly MessageEvent[]) {
  const byKey = new Map(records.map((record) => [`${record.messageId}:${record.attempt}`, record]));
  const reports: AttemptReport[] = [];
  for (const event of events) {
    const record = byKey.get(`${event.messageId}:${event.attempt}`);
    if (record === undefined) continue;
    reports.push({
      id: record.messageId,
      attempt: record.attempt,
      status: event.status,
      errorCode: record.error?.code ?? null,
      responseCode: record.error?.responseCode ?? null,
      durationMs: record.durationMs,
    });
  }
  return reports;
}

/**
 * The message repository as the worker sees it, reporting each committed attempt (with the
 * dispatch's duration, which the events do not carry) and each cycle. Observing the repository
 * rather than the worker keeps logging and metrics out of the worker's hot loop code.
 */
export function observeAttempts(
  messages: MessageStore,
  observer: AttemptObserver,
  now: () => number = Date.now,
): MessageStore {
  return {
    ...messages,
    async recordAndClaim(records, request) {
      observer.onCycle(now());
      const result = await messages.recordAndClaim(records, request);
      if (records.length > 0) observer.onAttempts(reportsFor(records, result.events));
      if (result.claimed.length > 0) observer.onEvents(result.claimed.map((claim) => claim.event));
      return result;
    },
    async release(claims, nowMs, smtpConfigVersion) {
      const events = await messages.release(claims, nowMs, smtpConfigVersion);
      if (events.length > 0) observer.onEvents(events);
      return events;
    },
  };
}
