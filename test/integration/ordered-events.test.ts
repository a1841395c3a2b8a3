import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { NewMessage } from '../../src/db/port.ts';
import { openDatabase } from '../../src/db/sqlite/client.ts';
import { createOrderedPublisher } from '../../src/db/sqlite/event-feed.ts';
import { createEventRepository } from '../../src/db/sqlite/events.ts';
import { createMessageRepository } from '../../src/db/sqlite/messages.ts';
import { createStatsRepository } from '../../src/db/sqlite/stats.ts';
import { createEventBus } from '../../src/delivery/event-bus.ts';
import type { MessageEvent } from '../../src/domain/message.ts';

// SQLite's feed (the PostgreSQL feed reads the log instead). Events reach the main thread from two producers (the outbox here, the delivery thread by
// message passing), so a later event can arrive first. Subscribers must still see log order.

const dir = mkdtempSync(join(tmpdir(), 'mailscope-order-'));
const database = openDatabase(join(dir, 'order.db'));
after(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const message = (to: string): NewMessage => ({
  recipient: to,
  subject: 's',
  text: 't',
  html: null,
  headers: [],
  messageId: `<${to}>`,
  maxAttempts: 3,
  idempotencyKey: null,
  requestHash: null,
  smtpConfigVersion: null,
});

test('a late producer: missing events are read from the log, their late copies dropped', () => {
  const messages = createMessageRepository(database.db, createStatsRepository(database.db));
  const events = createEventRepository(database.db);
  const bus = createEventBus();
  const seen: MessageEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  const publish = createOrderedPublisher(bus.publish, events);

  // "The delivery thread" commits three events but its message is still on the way...
  const early = messages.enqueueMany([message('a@x.example'), message('b@x.example')], 1_000);
  const late = messages.enqueueMany([message('c@x.example')], 1_001);
  const earlyEvents = early.flatMap((r) => (r.kind === 'queued' ? [r.event] : []));
  const lateEvents = late.flatMap((r) => (r.kind === 'queued' ? [r.event] : []));

  // ...while "this thread" publishes the newest one first.
  publish(lateEvents);
  assert.deepEqual(
    seen.map((e) => e.recipient),
    ['a@x.example', 'b@x.example', 'c@x.example'],
  );
  publish(earlyEvents);
  assert.equal(seen.length, 3, 'late copies are not delivered twice');
  const seqs = seen.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
  );
});
