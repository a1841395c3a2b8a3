import type { MessageEvent } from '../domain/message.ts';
import type { Logger } from '../logger.ts';
import type { AttemptReport } from './attempt-observer.ts';

/**
 * The delivery thread's log lines. Each one names the message (`id`, the GraphQL Message.id) so
 * `grep '"id":42'` tells one message's story: claimed (debug), each attempt (info; warn when it
 * failed), lease expiries and shutdown releases.
 */
export function createDeliveryLog(log: Logger) {
  return {
    attempts(reports: readonly AttemptReport[]): void {
      for (const report of reports) {
        const fields = {
          id: report.id,
          attempt: report.attempt,
          status: report.status,
          errorCode: report.errorCode,
          responseCode: report.responseCode,
          durationMs: report.durationMs,
        };
        if (report.errorCode === null) log.info(fields, 'delivery attempt sent');
        else log.warn(fields, `delivery attempt failed: ${report.errorCode}`);
      }
    },

    events(events: readonly MessageEvent[]): void {
      for (const event of events) {
        const fields = {
          id: event.messageId,
          attempt: event.attempt,
          status: event.status,
          reason: event.reason,
        };
        if (event.reason === 'lease_expired')
          log.warn(fields, 'claimed again after its lease ran out');
        else if (event.reason === 'released_on_shutdown') log.info(fields, 'released on shutdown');
        else log.debug(fields, 'claimed');
      }
    },
  };
}
