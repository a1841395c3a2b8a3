import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
import {
  createMessageRepository,
  type AttemptRecord,
  type MessageListFilter,
} from '../../src/db/messages.ts';
import { createStatsRepository } from '../../src/db/stats.ts';
import { createSubjectSearchIndexer } from '../../src/db/subject-search.ts';
import type { DeliveryError, DeliveryErrorCode } from '../../src/domain/delivery-error.ts';

// `messages` pages found from the dispatches side (filters on error codes and configuration
// versions) must be exactly the pages a plain scan of messages gives: same rows, same order,
// across page and window boundaries.

const dir = mkdtempSync(join(tmpdir(), 'mailscope-pages-'));
const database = openDatabase(join(dir, 'pages.db'));
after(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});
const messages = createMessageRepository(database.db, createStatsRepository(database.db));

function failure(code: DeliveryErrorCode, permanent: boolean): DeliveryError {
  return {
    code,
    message: code,
    responseCode: null,
    enhancedStatus: null,
    command: null,
    response: null,
    permanent,
    hint: null,
  };
}

/** A deterministic mix: message i fails its first attempts with codes chosen from i. */
function plannedErrors(i: number): DeliveryErrorCode[] {
  if (i % 3 === 0) return [];
  if (i % 7 === 0) return ['TIMEOUT', 'CONNECTION'];
  if (i % 5 === 0) return ['RECIPIENT_REJECTED'];
  if (i % 11 === 0) return ['AUTH', 'AUTH', 'AUTH'];
  if (i % 4 === 0) return ['CONNECTION'];
  return i % 2 === 0 ? ['TIMEOUT'] : [];
}

const COUNT = 1_500;
const T0 = Date.UTC(2026, 10, 1);
for (let start = 0; start < COUNT; start += 100) {
  const now = T0 + start * 1_000;
  // Configuration version 1 for the first 600 messages' first attempts, then 2.
  const version = start < 600 ? 1 : 2;
  messages.enqueueMany(
    Array.from({ length: 100 }, (_, k) => ({
      recipient: `r${(start + k) % 40}@example.com`,
      subject: `Message ${start + k}`,
      text: 'x',
      html: null,
      headers: [],
      messageId: `<m${start + k}@example.com>`,
      maxAttempts: 5,
      idempotencyKey: null,
      requestHash: null,
      smtpConfigVersion: version,
    })),
    now,
  );
  for (let round = 0, at = now; round < 5; round++, at += 10) {
    const claimed = messages.claimDue({
      nowMs: at,
      leaseMs: 60_000,
      limit: 1_000,
      smtpConfigVersion: version,
    });
    if (claimed.length === 0) break;
    messages.recordAttempts(
      claimed.map(({ message }): AttemptRecord => {
        const planned = plannedErrors(message.id)[message.attempts];
        const error = planned ? failure(planned, planned === 'RECIPIENT_REJECTED') : null;
        return {
          messageId: message.id,
          leaseExpiresAtMs: at + 60_000,
          attempt: message.attempts + 1,
          atMs: at,
          durationMs: 5,
          smtpConfigVersion: round === 0 ? version : 3,
          response: error ? null : '250 ok',
          error,
          transcript: null,
          next: error
            ? error.permanent
              ? { status: 'ABANDONED', reason: 'failed_permanently' }
              : { status: 'QUEUED', reason: 'retry_scheduled', nextAttemptAtMs: at + 1 }
            : { status: 'SENT', reason: 'sent' },
        };
      }),
    );
  }
}

// The subject index is filled in the background: index the older 900 messages, so that subject
// searches read from the index and, for the newest 600, from the table directly.
const indexer = createSubjectSearchIndexer(database.db);
assert.equal(indexer.indexPending(900), 900);

/** Every page of `filter`, walked with `after` like a client would. */
function walk(filter: MessageListFilter, first: number): number[] {
  const ids: number[] = [];
  let afterId: number | null = null;
  for (;;) {
    const page = messages.list(filter, first, afterId);
    ids.push(...page.messages.map((message) => message.id));
    if (!page.hasNextPage) return ids;
    assert.equal(page.messages.length, first);
    afterId = page.messages.at(-1)!.id;
  }
}

/** The same filter answered by scanning every message (idsMatching), newest first. */
function expected(filter: MessageListFilter): number[] {
  return messages.idsMatching(filter, 100_000).reverse();
}

describe('pages found from the dispatches side', () => {
  const filters: [string, MessageListFilter][] = [
    ['one common code', { errorCodes: ['CONNECTION'] }],
    ['one rare code', { errorCodes: ['AUTH'] }],
    ['several codes', { errorCodes: ['TIMEOUT', 'RECIPIENT_REJECTED', 'AUTH'] }],
    ['a code no attempt had', { errorCodes: ['TLS'] }],
    ['an old configuration version', { smtpConfigVersion: 1 }],
    ['the retry configuration version', { smtpConfigVersion: 3 }],
    ['two common codes', { errorCodes: ['CONNECTION', 'TIMEOUT'] }],
    ['code and status', { errorCodes: ['CONNECTION', 'TIMEOUT'], statuses: ['SENT'] }],
    ['code and a rare status', { errorCodes: ['RECIPIENT_REJECTED'], statuses: ['ABANDONED'] }],
    ['code and version', { errorCodes: ['CONNECTION'], smtpConfigVersion: 1 }],
    [
      'code and creation time',
      { errorCodes: ['RECIPIENT_REJECTED'], createdAfterMs: T0 + 900_000 },
    ],
    ['code and recipient', { errorCodes: ['CONNECTION'], recipient: 'R8@example.com' }],
    ['subject, many matches', { subjectContains: 'SAGE 1' }],
    ['subject, one match', { subjectContains: 'message 1234' }],
    ['subject, no match', { subjectContains: 'nothing like it' }],
    ['subject shorter than a trigram', { subjectContains: 'e 7' }],
    ['subject with quotes', { subjectContains: '"message" 1' }],
    ['subject and code', { subjectContains: 'message 1', errorCodes: ['TIMEOUT'] }],
  ];
  for (const [name, filter] of filters) {
    test(name, () => {
      const want = expected(filter);
      for (const first of [1, 50, 500]) {
        assert.deepEqual(walk(filter, first), want, `first: ${first}`);
      }
      assert.equal(messages.countMatching(filter), want.length);
    });
  }

  test('the data has what the filters are about', () => {
    // More than one window (256) for two codes at once, so that merging windows is exercised.
    assert.ok(expected({ errorCodes: ['CONNECTION'] }).length > 256);
    assert.ok(expected({ errorCodes: ['TIMEOUT'] }).length > 256);
    assert.ok(expected({ errorCodes: ['AUTH'] }).length > 10);
    assert.ok(expected({ smtpConfigVersion: 1 }).length === 600);
  });
});

describe('time ranges', () => {
  test('creation times never go back, even when the clock does', () => {
    const enqueue = (nowMs: number) =>
      messages.enqueueMany(
        [
          {
            recipient: 'clock@example.com',
            subject: 'clock',
            text: 'x',
            html: null,
            headers: [],
            messageId: `<clock-${nowMs}@example.com>`,
            maxAttempts: 5,
            idempotencyKey: null,
            requestHash: null,
            smtpConfigVersion: null,
          },
        ],
        nowMs,
      )[0]!;
    const late = T0 + 10 * 86_400_000;
    const first = enqueue(late);
    const second = enqueue(late - 3_600_000); // the clock went back an hour
    assert.equal(first.message.createdAtMs, late);
    assert.equal(second.message.createdAtMs, late);
    const third = enqueue(late + 5);
    assert.equal(third.message.createdAtMs, late + 5);
  });

  test('createdAfter and createdBefore match a check of every message', () => {
    const all = messages.idsMatching({}, 100_000).map((id) => messages.find(id)!);
    const bounds = [T0 - 1, T0, T0 + 250_000, T0 + 250_001, T0 + 1_499_000, T0 + 10 * 86_400_000];
    for (const after of [undefined, ...bounds]) {
      for (const before of [undefined, ...bounds]) {
        const filter: MessageListFilter = {
          ...(after === undefined ? {} : { createdAfterMs: after }),
          ...(before === undefined ? {} : { createdBeforeMs: before }),
        };
        const want = all
          .filter(
            (m) =>
              (after === undefined || m.createdAtMs >= after) &&
              (before === undefined || m.createdAtMs < before),
          )
          .map((m) => m.id)
          .reverse();
        assert.deepEqual(walk(filter, 200), want, JSON.stringify(filter));
      }
    }
  });
});

describe('the subject search index', () => {
  const sqlite = database.db.$client;
  const integrity = () =>
    sqlite.exec(
      `INSERT INTO messages_subject_search(messages_subject_search) VALUES ('integrity-check')`,
    );

  test('filled in batches up to the newest message, then nothing more to do', () => {
    let total = 0;
    for (
      let indexed = indexer.indexPending(250);
      indexed > 0;
      indexed = indexer.indexPending(250)
    ) {
      total += indexed;
    }
    assert.ok(total >= 600, `indexed ${total}`);
    assert.equal(indexer.indexPending(250), 0);
    integrity();
    // Fully indexed, searches give what a scan gives.
    for (const term of ['SAGE 1', 'message 1234', 'nothing like it']) {
      assert.deepEqual(walk({ subjectContains: term }, 50), expected({ subjectContains: term }));
    }
  });

  test('deleting indexed and not-yet-indexed messages keeps the index consistent', () => {
    const added = messages.enqueueMany(
      [1, 2].map((n) => ({
        recipient: 'late@example.com',
        subject: `Late message ${n}`,
        text: 'x',
        html: null,
        headers: [],
        messageId: `<late-${n}@example.com>`,
        maxAttempts: 5,
        idempotencyKey: null,
        requestHash: null,
        smtpConfigVersion: null,
      })),
      T0 + 20 * 86_400_000,
    );
    const [indexed, pending] = added.map((result) => result.message.id);
    assert.equal(indexer.indexPending(1), 1); // only the first of the two
    // What retention does: delete a message's events and dispatches, then the message.
    for (const id of [indexed!, pending!]) {
      sqlite.prepare('DELETE FROM message_events WHERE message_id = ?').run(id);
      sqlite.prepare('DELETE FROM dispatches WHERE message_id = ?').run(id);
      sqlite.prepare('DELETE FROM messages WHERE id = ?').run(id);
    }
    integrity();
    assert.deepEqual(walk({ subjectContains: 'late message' }, 50), []);
    assert.equal(indexer.indexPending(250), 0);
    // A later message with the same words is found through the index, and only it.
    const later = messages.enqueueMany(
      [
        {
          recipient: 'late@example.com',
          subject: 'Late message 3',
          text: 'x',
          html: null,
          headers: [],
          messageId: '<late-3@example.com>',
          maxAttempts: 5,
          idempotencyKey: null,
          requestHash: null,
          smtpConfigVersion: null,
        },
      ],
      T0 + 21 * 86_400_000,
    )[0]!.message.id;
    assert.equal(indexer.indexPending(250), 1);
    integrity();
    assert.deepEqual(walk({ subjectContains: 'late message' }, 50), [later]);
    const viaIndex = sqlite
      .prepare(
        `SELECT rowid AS id FROM messages_subject_search WHERE messages_subject_search MATCH '"late message"'`,
      )
      .all() as { id: number }[];
    assert.deepEqual(
      viaIndex.map((row) => row.id),
      [later],
    );
  });
});
