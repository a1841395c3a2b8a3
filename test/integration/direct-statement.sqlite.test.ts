import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eq, getTableColumns, sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import {
  prepareDirect,
  prepareInsertThenRead,
  prepareUpdateThenRead,
} from '../../src/db/sqlite/direct-statement.ts';
import {
  messageEvents,
  messages,
  webhookEndpoints,
  webhookOutbox,
} from '../../src/db/sqlite/schema.ts';
import { failure } from '../helpers/queue.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';

// The hot statements run straight on better-sqlite3 (direct-statement.ts) must store and return
// exactly what drizzle's own prepared statement does: the same query, each value through its
// column's encoder (JSON columns, nulls), each returned column through its decoder.

const dir = tempDir(fileScope);
const database = openDatabase(join(dir.path, 'direct.db'));
closeWith(fileScope, () => database.close());
const { db } = database;
const p = sql.placeholder;
/** An event's insert, as the tests below write it. */
const eventValues = {
  messageId: p('messageId'),
  at: p('at'),
  status: p('status'),
  reason: p('reason'),
  attempt: p('attempt'),
  error: p('error'),
};

test('a direct insert stores and returns what drizzle does, JSON and nulls included', () => {
  const insert = () =>
    db
      .insert(messages)
      .values({
        recipient: p('recipient'),
        recipientKey: p('recipientKey'),
        subject: p('subject'),
        text: p('text'),
        html: p('html'),
        headers: p('headers'),
        status: 'QUEUED',
        maxAttempts: p('maxAttempts'),
        messageId: p('messageId'),
        createdAt: sql`max(${p('now')}, 0)`,
        updatedAt: p('now'),
        nextAttemptAt: p('now'),
      })
      .returning();
  const viaDrizzle = insert().prepare();
  const direct = prepareDirect<typeof messages.$inferSelect>(
    db,
    insert(),
    getTableColumns(messages),
  );
  const values = (n: number) => ({
    recipient: `Ada${n}@Example.com`,
    recipientKey: `ada${n}@example.com`,
    subject: 'Grüße, "quoted"',
    text: 'x',
    html: null,
    headers: [{ name: 'X-Tag', value: 'a; b' }],
    maxAttempts: 3,
    messageId: `<m${n}@example.com>`,
    now: 1_700_000_000_000 + n,
  });
  const drizzleRow = viaDrizzle.get(values(1))!;
  const directRow = direct.get(values(2))!;
  assert.deepEqual(directRow.headers, [{ name: 'X-Tag', value: 'a; b' }]);
  assert.equal(directRow.html, null);
  const differing = (row: typeof drizzleRow) => ({
    ...row,
    id: 0,
    recipient: '',
    recipientKey: '',
    messageId: '',
    createdAt: 0,
    updatedAt: 0,
    nextAttemptAt: 0,
  });
  assert.deepEqual(differing(directRow), differing(drizzleRow));
  // What was stored reads back the same through drizzle.
  const stored = db
    .select()
    .from(messages)
    .where(sql`${messages.id} = ${directRow.id}`)
    .get();
  assert.deepEqual(stored, directRow);

  const event = () => db.insert(messageEvents).values(eventValues).returning();
  const directEvent = prepareDirect<typeof messageEvents.$inferSelect>(
    db,
    event(),
    getTableColumns(messageEvents),
  );
  const error = failure('RECIPIENT_REJECTED', true);
  const change = {
    messageId: directRow.id,
    at: 5,
    status: 'QUEUED',
    reason: 'retry_scheduled',
    attempt: 1,
    error,
  };
  const row = directEvent.get(change)!;
  const again = event().prepare().get(change)!;
  assert.deepEqual(row.error, error);
  assert.deepEqual({ ...row, seq: 0 }, { ...again, seq: 0 });
});

test('a direct select returns its fields in order, and nothing when no row matches', () => {
  const fields = { id: messages.id, headers: messages.headers, subject: messages.subject };
  const select = prepareDirect<{ id: number; headers: unknown; subject: string }>(
    db,
    db
      .select(fields)
      .from(messages)
      .where(sql`${messages.subject} = ${p('subject')}`),
    fields,
  );
  const found = select.get({ subject: 'Grüße, "quoted"' })!;
  assert.deepEqual(found.headers, [{ name: 'X-Tag', value: 'a; b' }]);
  assert.equal(found.subject, 'Grüße, "quoted"');
  assert.equal(select.get({ subject: 'none' }), undefined);
  // Fields that do not match what the query selects are refused when prepared.
  assert.throws(() => prepareDirect(db, db.select(fields).from(messages), { id: messages.id }));
});

// The hot writes skip RETURNING (it costs SQLite a temporary trigger program per statement) and
// read the row back by id: the row they give must be the one RETURNING gives.
test('an insert read back by id gives what INSERT … RETURNING gives, with triggers inserting elsewhere', () => {
  const eventColumns = getTableColumns(messageEvents);
  const returning = db.insert(messageEvents).values(eventValues).returning().prepare();
  const readBack = prepareInsertThenRead<typeof messageEvents.$inferSelect>(
    db,
    db.insert(messageEvents).values(eventValues),
    db
      .select(eventColumns)
      .from(messageEvents)
      .where(eq(messageEvents.seq, p('id'))),
    eventColumns,
  );
  const message = db.select({ id: messages.id }).from(messages).limit(1).get()!;
  // An enabled endpoint: the outbox trigger inserts a row of its own for each event, which
  // must not be taken for the event's id.
  db.insert(webhookEndpoints)
    .values({
      url: 'http://127.0.0.1:9/hook',
      events: ['MESSAGE_QUEUED'],
      enabled: true,
      secret: 'whsec_test',
      createdAt: 1,
    })
    .run();
  const change = (n: number) => ({
    messageId: message.id,
    at: n,
    status: 'QUEUED',
    reason: 'queued',
    attempt: null,
    error: failure('CONNECTION'),
  });
  const viaReturning = returning.get(change(1))!;
  const viaReadBack = readBack.get(change(2))!;
  assert.equal(viaReadBack.at, 2, 'the row read back is the one inserted');
  assert.equal(viaReadBack.seq, viaReturning.seq + 1);
  assert.deepEqual({ ...viaReadBack, seq: 0, at: 0 }, { ...viaReturning, seq: 0, at: 0 });
  assert.ok(db.select().from(webhookOutbox).all().length >= 2, 'the trigger wrote the outbox');
  db.delete(webhookOutbox).run();
  db.delete(webhookEndpoints).run();
});

test('an update read back by id gives what UPDATE … RETURNING gives, and nothing when no row changed', () => {
  const fields = { id: messages.id, attempts: messages.attempts, lastError: messages.lastError };
  const update = () =>
    db
      .update(messages)
      .set({
        attempts: sql`${messages.attempts} + 1`,
        lastError: sql`coalesce(${p('lastError')}, ${messages.lastError})`,
      })
      .where(sql`${messages.id} = ${p('id')} and ${messages.status} = ${p('status')}`);
  const returning = update().returning(fields).prepare();
  const readBack = prepareUpdateThenRead<{ id: number; attempts: number; lastError: unknown }>(
    db,
    update(),
    db
      .select(fields)
      .from(messages)
      .where(eq(messages.id, p('id'))),
    fields,
  );
  const message = db.select({ id: messages.id }).from(messages).limit(1).get()!;
  const error = JSON.stringify(failure('TIMEOUT'));
  const first = returning.get({ id: message.id, status: 'QUEUED', lastError: error })!;
  const second = readBack.get({ id: message.id, status: 'QUEUED', lastError: null })!;
  assert.equal(second.attempts, first.attempts + 1);
  assert.deepEqual(second.lastError, first.lastError);
  assert.deepEqual(second.lastError, failure('TIMEOUT'));
  // The condition says more than the id: no row changed, no row read.
  assert.equal(readBack.get({ id: message.id, status: 'SENT', lastError: null }), undefined);
  assert.equal(readBack.get({ id: -1, status: 'QUEUED', lastError: null }), undefined);
});
