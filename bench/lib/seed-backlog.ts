import { openStorage, type StorageDescriptor } from '../../src/db/open-storage.ts';
import type { AttemptRecord } from '../../src/db/port.ts';
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
 * What a provider's outage leaves behind: `count` messages QUEUED for a retry about `retryInMs`
 * from now, each after one failed attempt, written through the storage port as the service
 * writes them (so the queue's indexes, events and counters are the service's own), on either
 * dialect.
 */
export async function seedDeferredBacklog(
  descriptor: StorageDescriptor,
  count: number,
  retryInMs: number,
): Promise<void> {
  const storage = await openStorage(descriptor, { role: 'main', secrets: null });
  try {
    for (let start = 0; start < count; start += CHUNK) {
      const now = Date.now();
      await storage.messages.enqueueMany(
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
      const { claimed } = await storage.messages.recordAndClaim([], {
        nowMs: now,
        leaseMs: LEASE_MS,
        limit: CHUNK,
        smtpConfigVersion: null,
      });
      const records = claimed.map(({ message }): AttemptRecord => {
        const delayMs = retryInMs + (message.id % 1_000);
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
            nextAttemptAtMs: now + delayMs,
            delayMs,
          },
        };
      });
      await storage.messages.recordAndClaim(records, {
        nowMs: now,
        leaseMs: LEASE_MS,
        limit: 0,
        smtpConfigVersion: null,
      });
    }
  } finally {
    await storage.close();
  }
}
