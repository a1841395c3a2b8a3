import { openDatabase } from '../../src/db/sqlite/client.ts';
import type { AttemptRecord } from '../../src/db/port.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import type { DeliveryError } from '../../src/domain/delivery-error.ts';

const CHUNK = 1_000;
const LEASE_MS = 60_000;

const DEFERRED: DeliveryError = {
  code: 'RECIPIENT_REJECTED',
  message: 'The server deferred the recipient: try again later',
  responseCode: 451,
  enhancedStatus: '4.3.0',
  command: 'RCPT TO',
  response: '451 4.3.0 Temporary failure, try again later',
  permanent: false,
  hint: null,
};

/**
 * What a provider's outage leaves behind: `count` messages QUEUED for a retry `retryInMs` from
 * now, each after one failed attempt, written through the service's own repository code (so
 * the queue's indexes, events and counters are what the service writes).
 */
export function seedDeferredBacklog(path: string, count: number, retryInMs: number): void {
  const database = openDatabase(path);
  const messages = createMessageRepository(database.db, createStatsRepository(database.db));
  const now = Date.now();
  for (let start = 0; start < count; start += CHUNK) {
    messages.enqueueMany(
      Array.from({ length: Math.min(CHUNK, count - start) }, (_, k) => ({
        recipient: `user${start + k}@deferred.example.com`,
        subject: `Backlog ${start + k}`,
        text: 'Waiting for the provider to come back.',
        html: null,
        headers: [],
        messageId: `<backlog-${start + k}@example.com>`,
        maxAttempts: 10,
        idempotencyKey: null,
        requestHash: null,
        smtpConfigVersion: null,
      })),
      now,
    );
    const claimed = messages.claimDue({
      nowMs: now,
      leaseMs: LEASE_MS,
      limit: CHUNK,
      smtpConfigVersion: null,
    });
    messages.recordAttempts(
      claimed.map(({ message }): AttemptRecord => {
        const nextAttemptAtMs = now + retryInMs + (message.id % 1_000);
        return {
          messageId: message.id,
          leaseExpiresAtMs: message.leaseExpiresAtMs!,
          attempt: 1,
          atMs: now,
          durationMs: 0,
          smtpConfigVersion: null,
          response: null,
          error: DEFERRED,
          transcript: null,
          next: {
            status: 'QUEUED',
            reason: 'retry_scheduled',
            nextAttemptAtMs,
            delayMs: nextAttemptAtMs - now,
          },
        };
      }),
    );
  }
  database.close();
}
