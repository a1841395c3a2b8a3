import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { getTableColumns, sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { prepareDirect } from '../../src/db/sqlite/direct-statement.ts';
import { messageEvents, messages } from '../../src/db/sqlite/schema.ts';
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

  const event = () =>
    db
      .insert(messageEvents)
      .values({
        messageId: p('messageId'),
        at: p('at'),
        status: p('status'),
        reason: p('reason'),
        attempt: p('attempt'),
        error: p('error'),
      })
      .returning();
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
