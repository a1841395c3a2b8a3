import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStorage } from '../../src/db/open-storage.ts';
import type { MessageListFilter } from '../../src/db/port.ts';
import { subjectMatches } from '../../src/db/message-filter.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { createCountThread } from '../../src/db/sqlite/count-thread-host.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import { createSubjectSearchIndexer } from '../../src/db/sqlite/subject-search.ts';
import type { Message } from '../../src/domain/message.ts';
import { RECIPIENT_CASES, SUBJECT_CASES } from '../helpers/filter-cases.ts';
import { failure, newMessage, retryRecord, sentRecord } from '../helpers/queue.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Counts by filter run in a thread of their own once the history is large (count-thread.ts),
// on a read-only connection: there they give the main connection's answer for every kind of
// filter, fold text as the application does, see what was committed just before they were
// asked, and fail (so that the storage counts on the main thread instead) when the thread
// cannot open the file.

const dir = tempDir(fileScope);
const path = join(dir.path, 'counts.db');
const database = openDatabase(path);
closeWith(fileScope, () => database.close());
const messages = createMessageRepository(database.db, createStatsRepository(database.db));
const indexer = createSubjectSearchIndexer(database.db);
const thread = createCountThread(path);
closeWith(fileScope, () => thread.close());

const T0 = Date.UTC(2026, 10, 1);
const MINUTE = 60_000;
const subjects = [...new Set(SUBJECT_CASES.map(([subject]) => subject))];
const terms = [...new Set(SUBJECT_CASES.map(([, term]) => term))];
const recipients = RECIPIENT_CASES.map(([stored]) => stored);

// Every subject three times, to every recipient of the table in turn, a minute apart; then
// some claimed and failed (a retry scheduled, with one code or another), some sent.
const stored: Message[] = [];
for (let k = 0; k < subjects.length * 3; k++) {
  const input = newMessage(k, {
    subject: subjects[k % subjects.length]!,
    recipient: recipients[k % recipients.length]!,
  });
  stored.push(messages.enqueueMany([input], T0 + k * MINUTE)[0]!.message);
}
const claimAt = T0 + stored.length * MINUTE;
const claimed = messages.recordAndClaim([], {
  nowMs: claimAt,
  leaseMs: 10 * MINUTE,
  limit: 30,
  smtpConfigVersion: null,
}).claimed;
messages.recordAndClaim(
  claimed.map(({ message }, k) =>
    k % 3 === 2
      ? sentRecord(message, claimAt + 1)
      : retryRecord(
          message,
          claimAt + 1,
          MINUTE,
          failure(k % 3 === 0 ? 'CONNECTION' : 'RECIPIENT_REJECTED'),
        ),
  ),
  { nowMs: claimAt + 10, leaseMs: MINUTE, limit: 0, smtpConfigVersion: null },
);

const FILTERS: MessageListFilter[] = [
  {},
  { statuses: ['QUEUED'] },
  { statuses: ['SENT', 'PROCESSING'] },
  ...RECIPIENT_CASES.map(([, asked]) => ({ recipient: asked })),
  { recipient: recipients[0]!.toUpperCase(), statuses: ['QUEUED'] },
  { createdAfterMs: T0 + 10 * MINUTE, createdBeforeMs: T0 + 30 * MINUTE },
  { createdBeforeMs: T0 + 5 * MINUTE, statuses: ['QUEUED'] },
  ...terms.map((term) => ({ subjectContains: term })),
  { subjectContains: 'invoice', statuses: ['QUEUED'] },
  { subjectContains: 'or', createdAfterMs: T0 + 20 * MINUTE },
  { errorCodes: ['CONNECTION'] },
  { errorCodes: ['RECIPIENT_REJECTED', 'TIMEOUT'] },
  { errorCodes: ['CONNECTION'], statuses: ['QUEUED'] },
  { everFailed: true },
  { everFailed: false },
  { lastErrorCodes: ['RECIPIENT_REJECTED'] },
  { smtpConfigVersion: 1 },
  { updatedAfterMs: claimAt },
];

async function compare(when: string): Promise<void> {
  let matched = 0;
  for (const filter of FILTERS) {
    const inThread = await thread.count(filter);
    assert.equal(inThread, messages.countMatching(filter), `${when}: ${JSON.stringify(filter)}`);
    matched += inThread;
  }
  // And against the table's own answers, not only against the main connection.
  for (const term of terms) {
    const want = stored.filter((message) => subjectMatches(message.subject, term)).length;
    assert.equal(await thread.count({ subjectContains: term }), want, `${when}: "${term}"`);
  }
  assert.ok(matched > stored.length, 'the filters match something');
}

test('the thread counts what the main connection counts, for every kind of filter', async () => {
  assert.equal(claimed.length, 30);
  await compare('none indexed');
  indexer.indexPending(stored.length / 2);
  await compare('half indexed');
  indexer.indexPending(stored.length);
  await compare('all indexed');
});

test('a count sees every message committed before it was asked', async () => {
  for (let k = 1; k <= 3; k++) {
    messages.enqueueMany([newMessage(1_000 + k, { subject: 'just committed' })], Date.now());
    assert.equal(await thread.count({ subjectContains: 'just committed' }), k);
  }
});

test('an idle thread ends, and the next count starts another', async () => {
  const brief = createCountThread(path, { idleMs: 20 });
  closeWith(fileScope, () => brief.close());
  assert.equal(brief.running(), false, 'started by the first count, not before');
  assert.equal(await brief.count({ subjectContains: 'invoice' }), 6);
  await waitFor(() => !brief.running(), { description: 'the idle thread to end' });
  messages.enqueueMany([newMessage(2_000, { subject: 'Invoice, later' })], Date.now());
  assert.equal(await brief.count({ subjectContains: 'invoice' }), 7);
  assert.equal(brief.running(), true);
  // A count asked while another runs keeps the thread: both are answered.
  const both = await Promise.all([brief.count({}), brief.count({ subjectContains: 'later' })]);
  assert.deepEqual(both, [stored.length + 4, 1]);
});

test('a thread that cannot open the database fails its counts, and the storage counts itself', async () => {
  const missing = createCountThread(join(dir.path, 'missing.db'));
  await assert.rejects(missing.count({}));
  await assert.rejects(missing.count({})); // started again, and failed again
  await missing.close();

  // The storage with every count sent to its thread (once its feed keeps the counts by status,
  // as the service's does): answers as before, and closes it.
  const storage = await openStorage(
    { dialect: 'sqlite', path: join(dir.path, 'storage.db'), countsOffThreadFrom: 0 },
    { role: 'main', secrets: null },
  );
  try {
    await storage.startFeed({ publish: () => {} });
    await storage.messages.enqueueMany(
      ['Straße', 'STRASSE', 'Invoice'].map((subject, k) => newMessage(k, { subject })),
      Date.now(),
    );
    assert.equal(await storage.messages.countMatching({ subjectContains: 'straß' }), 1);
    assert.equal(await storage.messages.countMatching({ subjectContains: 'ss' }), 1);
    assert.equal(await storage.messages.countMatching({ recipient: 'R2@example.com' }), 1);
  } finally {
    await storage.close();
  }
});
