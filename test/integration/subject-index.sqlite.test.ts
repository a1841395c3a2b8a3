import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { MessageListFilter } from '../../src/db/port.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { CREATION_ORDER_SQL } from '../../src/db/sqlite/creation-order.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import { createSubjectSearchIndexer } from '../../src/db/sqlite/subject-search.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';

// SQLite's own machinery behind `messages`: creation times kept in id order (so a time range is
// an id range), and the trigram index over subjects filled in the background.

const dir = tempDir(fileScope);
const database = openDatabase(join(dir.path, 'index.db'));
closeWith(fileScope, () => database.close());
const messages = createMessageRepository(database.db, createStatsRepository(database.db));
const indexer = createSubjectSearchIndexer(database.db);
const T0 = Date.UTC(2026, 10, 1);

messages.enqueueMany(
  Array.from({ length: 1_500 }, (_, k) => ({
    recipient: `r${k % 40}@example.com`,
    subject: `Message ${k}`,
    text: 'x',
    html: null,
    headers: [],
    messageId: `<m${k}@example.com>`,
    maxAttempts: 5,
    idempotencyKey: null,
    requestHash: null,
    smtpConfigVersion: null,
  })),
  T0,
);
assert.equal(indexer.indexPending(900), 900);

function walk(filter: MessageListFilter, first: number): number[] {
  const ids: number[] = [];
  let afterId: number | null = null;
  for (;;) {
    const page = messages.list(filter, first, afterId);
    ids.push(...page.messages.map((message) => message.id));
    if (!page.hasNextPage) return ids;
    afterId = page.messages.at(-1)!.id;
  }
}

function expected(filter: MessageListFilter): number[] {
  return messages.idsMatching(filter, 100_000).reverse();
}

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

  test('the bisection reads the ends of the primary key and searches it, never scans the table', () => {
    const sqlite = database.db.$client;
    for (const [name, text] of Object.entries(CREATION_ORDER_SQL)) {
      const plan = (
        sqlite.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...(text.includes('?') ? [1] : [])) as {
          detail: string;
        }[]
      )
        .map((row) => row.detail)
        .join(' | ');
      assert.match(plan, /SEARCH messages/, `${name}: ${plan}`);
      assert.doesNotMatch(plan, /SCAN messages/, `${name}: ${plan}`);
    }
  });

  test('a time range is found by bisection over ids, with gaps and equal times, as a scan finds it', () => {
    const sqlite = database.db.$client;
    const base = T0 + 30 * 86_400_000;
    // Runs of equal creation times, steps of several hours, and ids left out by deletions.
    const ids: number[] = [];
    for (let k = 0; k < 60; k++) {
      const at = base + Math.floor(k / 4) * 3 * 3_600_000;
      const stored = messages.enqueueMany(
        [
          {
            recipient: 'range@example.com',
            subject: `range ${k}`,
            text: 'x',
            html: null,
            headers: [],
            messageId: `<range-${k}@example.com>`,
            maxAttempts: 5,
            idempotencyKey: null,
            requestHash: null,
            smtpConfigVersion: null,
          },
        ],
        at,
      );
      ids.push(stored[0]!.message.id);
    }
    for (const id of ids.filter((_, k) => k % 7 === 3 || (k >= 20 && k < 28))) {
      sqlite.prepare('DELETE FROM message_events WHERE message_id = ?').run(id);
      sqlite.prepare('DELETE FROM messages WHERE id = ?').run(id);
    }
    const all = sqlite.prepare('SELECT id, created_at AS at FROM messages ORDER BY id').all() as {
      id: number;
      at: number;
    }[];
    const scan = (keep: (at: number) => boolean) =>
      all.filter((row) => keep(row.at)).map((row) => row.id);
    const probes = [
      T0 - 1,
      T0,
      base - 1,
      base,
      base + 1,
      base + 3 * 3_600_000,
      base + 7 * 3 * 3_600_000, // at the deleted run
      base + 14 * 3 * 3_600_000,
      base + 15 * 3 * 3_600_000 - 1,
      base + 15 * 3 * 3_600_000, // after the newest
      base + 400 * 86_400_000,
    ];
    for (const at of probes) {
      const after = messages.idsMatching({ createdAfterMs: at }, 100_000);
      assert.deepEqual(
        [...after].sort((a, b) => a - b),
        scan((t) => t >= at),
        `after ${at}`,
      );
      const before = messages.idsMatching({ createdBeforeMs: at }, 100_000);
      assert.deepEqual(
        [...before].sort((a, b) => a - b),
        scan((t) => t < at),
        `before ${at}`,
      );
      assert.equal(messages.countMatching({ createdAfterMs: at }), scan((t) => t >= at).length);
    }
  });
});

describe('the subject search index', () => {
  const sqlite = database.db.$client;
  const integrity = () =>
    sqlite.exec(
      `INSERT INTO messages_subject_search(messages_subject_search) VALUES ('integrity-check')`,
    );

  /** Counts, through the index where it serves, as a scan counts. */
  const countsAgree = () => {
    for (const filter of [
      { subjectContains: 'SAGE 1' },
      { subjectContains: 'message 1234' },
      { subjectContains: 'nothing like it' },
      { subjectContains: 'ge' },
      { subjectContains: 'message 1', recipient: 'r3@example.com' },
      { subjectContains: 'message 14', statuses: ['QUEUED' as const] },
    ]) {
      assert.equal(messages.countMatching(filter), expected(filter).length, JSON.stringify(filter));
    }
  };

  test('counts agree with a scan while part of the history is indexed', () => {
    // 900 of 1,500 indexed at the top of the file: candidates below, the rest read directly.
    countsAgree();
  });

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
    countsAgree();
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
    assert.equal(messages.countMatching({ subjectContains: 'late message' }), 0);
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
    assert.equal(messages.countMatching({ subjectContains: 'late message' }), 1);
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

describe('another process holding the write lock', () => {
  test('the index job waits briefly for it, and not at all when there is nothing to index', () => {
    // A second connection stands in for the sqlite3 shell or a script holding BEGIN IMMEDIATE.
    const path = join(dir.path, 'locked.db');
    const own = openDatabase(path);
    closeWith(fileScope, () => own.close());
    const ownMessages = createMessageRepository(own.db, createStatsRepository(own.db));
    const ownIndexer = createSubjectSearchIndexer(own.db);
    const outsider = new Database(path);
    closeWith(fileScope, () => outsider.close());
    const usualTimeout = own.db.$client.pragma('busy_timeout', { simple: true });

    outsider.exec('BEGIN IMMEDIATE');
    try {
      // Nothing to index: the job asks for no lock at all (it waited the connection's whole
      // busy timeout, 5 s on the thread that answers HTTP, and then failed).
      assert.equal(ownIndexer.indexPending(100), 0);
    } finally {
      outsider.exec('ROLLBACK');
    }
    ownMessages.enqueueMany(
      [
        {
          recipient: 'held@example.com',
          subject: 'held',
          text: 'x',
          html: null,
          headers: [],
          messageId: '<held@example.com>',
          maxAttempts: 5,
          idempotencyKey: null,
          requestHash: null,
          smtpConfigVersion: null,
        },
      ],
      T0,
    );
    outsider.exec('BEGIN IMMEDIATE');
    try {
      // Something to index: a busy database is an error the next run retries.
      assert.throws(() => ownIndexer.indexPending(100, 1), { code: 'SQLITE_BUSY' });
    } finally {
      outsider.exec('ROLLBACK');
    }
    assert.equal(
      own.db.$client.pragma('busy_timeout', { simple: true }),
      usualTimeout,
      'the connection keeps its own busy timeout for everything else',
    );
    assert.equal(ownIndexer.indexPending(100), 1);
  });
});
