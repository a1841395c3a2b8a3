import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttemptRecord, MessageListFilter } from '../../src/db/port.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { createSubjectSearchIndexer } from '../../src/db/sqlite/subject-search.ts';
import type { DeliveryError, DeliveryErrorCode } from '../../src/domain/delivery-error.ts';
import { claim, record } from '../helpers/queue.ts';
import { fileScope } from '../helpers/scope.ts';
import { openTestStorage } from '../helpers/storage.ts';

// `messages` pages found from the dispatches side (filters on error codes and configuration
// versions) must be exactly the pages a plain scan of messages gives: same rows, same order,
// across page and window boundaries (SQLite finds them through other indexes; on either
// dialect they must match the plain answer).

const opened = await openTestStorage(fileScope);
const { messages } = opened.storage;

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
  await messages.enqueueMany(
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
    const claimed = await claim(messages, at, 1_000);
    if (claimed.length === 0) break;
    await record(
      messages,
      claimed.map(({ message }): AttemptRecord => {
        const planned = plannedErrors(message.id)[message.attempts];
        const error = planned ? failure(planned, planned === 'RECIPIENT_REJECTED') : null;
        return {
          messageId: message.id,
          leaseExpiresAtMs: message.leaseExpiresAtMs!,
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
              : { status: 'QUEUED', reason: 'retry_scheduled', delayMs: 0, nextAttemptAtMs: at + 1 }
            : { status: 'SENT', reason: 'sent' },
        };
      }),
    );
  }
}

// On SQLite the subject index is filled in the background: index the older 900 messages, so
// that subject searches read from the index and, for the newest 600, from the table directly.
if (opened.database.descriptor.dialect === 'sqlite') {
  const database = openDatabase(opened.database.descriptor.path, { migrate: false });
  try {
    assert.equal(createSubjectSearchIndexer(database.db).indexPending(900), 900);
  } finally {
    database.close();
  }
}

/** Every page of `filter`, walked with `after` like a client would. */
async function walk(filter: MessageListFilter, first: number): Promise<number[]> {
  const ids: number[] = [];
  let afterId: number | null = null;
  for (;;) {
    const page = await messages.list(filter, first, afterId);
    ids.push(...page.messages.map((message) => message.id));
    if (!page.hasNextPage) return ids;
    assert.equal(page.messages.length, first);
    afterId = page.messages.at(-1)!.id;
  }
}

/** The same filter answered by scanning every message (idsMatching), newest first. */
async function expected(filter: MessageListFilter): Promise<number[]> {
  return (await messages.idsMatching(filter, 100_000)).reverse();
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
    test(name, async () => {
      const want = await expected(filter);
      for (const first of [1, 50, 500]) {
        assert.deepEqual(await walk(filter, first), want, `first: ${first}`);
      }
      assert.equal(await messages.countMatching(filter), want.length);
    });
  }

  test('the data has what the filters are about', async () => {
    // More than one window (256) for two codes at once, so that merging windows is exercised.
    assert.ok((await expected({ errorCodes: ['CONNECTION'] })).length > 256);
    assert.ok((await expected({ errorCodes: ['TIMEOUT'] })).length > 256);
    assert.ok((await expected({ errorCodes: ['AUTH'] })).length > 10);
    assert.ok((await expected({ smtpConfigVersion: 1 })).length === 600);
  });
});

describe('time ranges', () => {
  test('createdAfter and createdBefore match a check of every message', async () => {
    const ids = await messages.idsMatching({}, 100_000);
    const all = await Promise.all(ids.map(async (id) => (await messages.find(id))!));
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
        assert.deepEqual(await walk(filter, 200), want, JSON.stringify(filter));
      }
    }
  });
});
