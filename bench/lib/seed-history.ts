import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import type { AttemptRecord } from '../../src/db/port.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createSmtpConfigRepository } from '../../src/db/sqlite/smtp-configs.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import { createSubjectSearchIndexer } from '../../src/db/sqlite/subject-search.ts';
import type { DeliveryError } from '../../src/domain/delivery-error.ts';
import { repoRoot } from './service-process.ts';

/** Bump when the seeded data changes shape, so cached files are rebuilt. */
const SEED_VERSION = 2;
const DAY_MS = 86_400_000;
/** Messages per enqueue transaction; each chunk gets its own creation time. */
const CHUNK = 200;
const LEASE_MS = 60_000;

const GREYLISTED: DeliveryError = {
  code: 'RECIPIENT_REJECTED',
  message: 'The server deferred the recipient: greylisted',
  responseCode: 451,
  enhancedStatus: '4.7.1',
  command: 'RCPT TO',
  response: '451 4.7.1 Greylisted, please try again later',
  permanent: false,
  hint: 'Greylisting: the server asks senders to come back later. The retry usually succeeds.',
};
const UNKNOWN_USER: DeliveryError = {
  code: 'RECIPIENT_REJECTED',
  message: 'The server rejected the recipient: user unknown',
  responseCode: 550,
  enhancedStatus: '5.1.1',
  command: 'RCPT TO',
  response: '550 5.1.1 <x@example.com>: Recipient address rejected: User unknown',
  permanent: true,
  hint: 'The mailbox does not exist. Check the address for typos.',
};
const TIMED_OUT: DeliveryError = {
  code: 'TIMEOUT',
  message: 'The server did not answer within 30000 ms',
  responseCode: null,
  enhancedStatus: null,
  command: 'DATA',
  response: null,
  permanent: false,
  hint: 'The server or the network is slow or overloaded.',
};

/**
 * Fills a database with `count` messages over the last 30 days through the service's own
 * repository code (so indexes, events and statistics counters are exactly what the service
 * writes): 90% SENT at once, 5% SENT after a 451 greylisting retry, 1% SENT after a timeout,
 * 3% ABANDONED with 550 5.1.1, 1% CANCELLED, and a final 1% QUEUED for a retry tomorrow.
 * Two configuration versions, 50,000 distinct recipients.
 */
function seed(path: string, count: number): void {
  const database = openDatabase(path);
  const configs = createSmtpConfigRepository(database.db);
  const stats = createStatsRepository(database.db);
  const messages = createMessageRepository(database.db, stats);
  const started = Date.now() - 30 * DAY_MS;
  const chunkSpacingMs = Math.floor((30 * DAY_MS) / Math.ceil(count / CHUNK));
  const queuedTail = Math.floor(count / 100);
  let version = configs.insert({
    connectionUri: 'smtp://relay.example.com:587/',
    fromAddress: 'no-reply@example.com',
    fromName: null,
    headers: [],
    createdAtMs: started,
  }).version;
  let seeded = 0;
  const t0 = performance.now();
  for (let chunkStart = 0; chunkStart < count; chunkStart += CHUNK) {
    const now = started + (chunkStart / CHUNK) * chunkSpacingMs;
    if (chunkStart >= count / 2 && version === 1) {
      version = configs.insert({
        connectionUri: 'smtps://relay.example.com:465/',
        fromAddress: 'no-reply@example.com',
        fromName: null,
        headers: [],
        createdAtMs: now,
      }).version;
    }
    const size = Math.min(CHUNK, count - chunkStart);
    const enqueued = messages.enqueueMany(
      Array.from({ length: size }, (_, k) => {
        const i = chunkStart + k;
        return {
          recipient: `user${i % 50_000}@example${i % 7}.com`,
          subject: `Order ${i} has shipped`,
          text: `Hello, your order ${i} is on its way.`,
          html: null,
          headers: [],
          messageId: `<seed-${i}@example.com>`,
          maxAttempts: 5,
          idempotencyKey: null,
          requestHash: null,
          smtpConfigVersion: version,
        };
      }),
      now,
    );
    const ids = enqueued.map((result) => result.message.id);
    const kind = (id: number) => (id - 1) % 100;
    const tail = chunkStart + size > count - queuedTail;
    if (!tail) {
      messages.cancelMany(
        ids.filter((id) => kind(id) === 98),
        now,
        version,
      );
    }
    const attempt = (atMs: number, claims: { message: { id: number; attempts: number } }[]) =>
      claims.map(({ message }) => {
        const k = kind(message.id);
        const first = message.attempts === 0;
        const error = !first
          ? null
          : tail
            ? GREYLISTED
            : k >= 90 && k < 95
              ? GREYLISTED
              : k >= 95 && k < 98
                ? UNKNOWN_USER
                : k === 99
                  ? TIMED_OUT
                  : null;
        const record: AttemptRecord = {
          messageId: message.id,
          leaseExpiresAtMs: atMs + LEASE_MS,
          attempt: message.attempts + 1,
          atMs,
          durationMs: 20 + (message.id % 180),
          smtpConfigVersion: version,
          response: error === null ? `250 2.0.0 Ok: queued as S${message.id}` : null,
          error,
          transcript: null,
          next:
            error === null
              ? { status: 'SENT', reason: 'sent' }
              : error.permanent
                ? { status: 'ABANDONED', reason: 'failed_permanently' }
                : {
                    status: 'QUEUED',
                    reason: 'retry_scheduled',
                    // The tail waits for a retry tomorrow; the rest are due again at once.
                    nextAttemptAtMs: tail ? Date.now() + DAY_MS : atMs + 1,
                    delayMs: tail ? DAY_MS : 1,
                  },
        };
        return record;
      });
    for (let pass = 0, at = now + 1; pass < 2; pass++, at += 1_000) {
      const claimed = messages.claimDue({
        nowMs: at,
        leaseMs: LEASE_MS,
        limit: CHUNK * 2,
        smtpConfigVersion: version,
      });
      if (claimed.length === 0) break;
      messages.recordAttempts(attempt(at, claimed));
    }
    seeded += size;
    if (seeded % 100_000 < CHUNK) {
      const seconds = (performance.now() - t0) / 1000;
      console.log(`  seeded ${seeded.toLocaleString('en-US')} messages in ${seconds.toFixed(0)} s`);
    }
  }
  // A service that has been running is caught up with its subject index (it fills it in the
  // background, 10,000 messages a second at most); so is this history.
  const indexer = createSubjectSearchIndexer(database.db);
  while (indexer.indexPending(10_000) > 0);
  database.close();
}

/** Identifies the schema (the migrations) and the seed, so a cached file is never stale. */
function seedKey(count: number): string {
  const hash = createHash('sha256').update(`${SEED_VERSION}:${count}`);
  const folder = join(repoRoot, 'drizzle');
  for (const name of readdirSync(folder).sort()) {
    if (name.endsWith('.sql')) hash.update(readFileSync(join(folder, name)));
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * A seeded database of `count` messages, built once and cached under .tmp/ (gitignored), since
 * building a million-message history takes minutes. Callers copy it before writing to it.
 */
export function seededDatabase(count: number): { path: string; built: boolean; seconds: number } {
  const dir = join(repoRoot, '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `history-${count}-${seedKey(count)}.db`);
  if (existsSync(path)) return { path, built: false, seconds: 0 };
  const building = `${path}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(building + suffix, { force: true });
  const t0 = performance.now();
  seed(building, count);
  renameSync(building, path);
  return { path, built: true, seconds: (performance.now() - t0) / 1000 };
}
