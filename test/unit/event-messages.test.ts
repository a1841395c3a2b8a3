import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventBus } from '../../src/delivery/event-bus.ts';
import type { Message, MessageEvent } from '../../src/domain/message.ts';
import { createEventMessages } from '../../src/graphql/event-messages.ts';

// One read of an event's message however many subscribers resolve it, and never a stale one
// once the message has changed.

function setup(options: { maxEntries?: number } = {}) {
  const bus = createEventBus();
  const status = new Map<number, Message['status']>();
  let reads = 0;
  let clock = 1_000;
  const find = async (id: number) => {
    reads++;
    return { id, status: status.get(id) ?? 'QUEUED' } as Message;
  };
  const cache = createEventMessages({ find, bus, now: () => clock, ...options });
  const event = (messageId: number, seq: number) => ({ messageId, seq }) as MessageEvent;
  return {
    bus,
    cache,
    event,
    status,
    reads: () => reads,
    advance: (ms: number) => (clock += ms),
  };
}

test('a thousand subscribers of one event read its message once', async () => {
  const { cache, event, reads } = setup();
  const queued = event(7, 1);
  for (let i = 0; i < 1_000; i++) assert.equal((await cache.of(queued))!.id, 7);
  assert.equal(reads(), 1);
});

test('a new event for the message drops the snapshot, so the next read is current', async () => {
  const { bus, cache, event, status, reads } = setup();
  assert.equal((await cache.of(event(7, 1)))!.status, 'QUEUED');
  status.set(7, 'PROCESSING');
  bus.publish([event(7, 2)]);
  // A slow subscriber still resolving the first event sees the message as it is now.
  assert.equal((await cache.of(event(7, 1)))!.status, 'PROCESSING');
  assert.equal((await cache.of(event(7, 2)))!.status, 'PROCESSING');
  assert.equal(reads(), 2);
  bus.publish([event(8, 3)]); // another message's event changes nothing for 7
  await cache.of(event(7, 2));
  assert.equal(reads(), 2);
});

test('a snapshot older than maxAgeMs is read again', async () => {
  const { cache, event, reads, advance } = setup();
  await cache.of(event(7, 1));
  advance(999);
  await cache.of(event(7, 1));
  assert.equal(reads(), 1);
  advance(1);
  await cache.of(event(7, 1));
  assert.equal(reads(), 2);
});

test('at most maxEntries snapshots are kept, the oldest dropped first', async () => {
  const { cache, event, reads } = setup({ maxEntries: 2 });
  await cache.of(event(1, 1));
  await cache.of(event(2, 2));
  await cache.of(event(3, 3)); // drops 1
  await cache.of(event(3, 3));
  await cache.of(event(2, 2));
  assert.equal(reads(), 3);
  await cache.of(event(1, 1));
  assert.equal(reads(), 4);
});

test('close stops listening to the bus', async () => {
  const { bus, cache, event, reads } = setup();
  await cache.of(event(7, 1));
  cache.close();
  bus.publish([event(7, 2)]);
  await cache.of(event(7, 2));
  assert.equal(reads(), 1);
});

test('subscribers asking while the read runs share it', async () => {
  const { cache, event, reads } = setup();
  const all = await Promise.all(Array.from({ length: 50 }, () => cache.of(event(7, 1))));
  assert.ok(all.every((message) => message?.id === 7));
  assert.equal(reads(), 1);
});

test('a primed page answers every subscriber without a read; a later event still drops it', async () => {
  const bus = createEventBus();
  bus.subscribe(() => {}); // a subscriber hears every event
  let reads = 0;
  let bulkReads = 0;
  const status = new Map<number, Message['status']>([
    [7, 'SENT'],
    [8, 'QUEUED'],
  ]);
  const message = (id: number) => ({ id, status: status.get(id) }) as Message;
  const cache = createEventMessages({
    find: async (id) => {
      reads++;
      return message(id);
    },
    findMany: async (ids) => {
      bulkReads++;
      return ids.map(message);
    },
    bus,
  });
  const event = (messageId: number, seq: number) => ({ messageId, seq, xid: 0 }) as MessageEvent;
  await cache.of(event(1, 1)); // somebody resolves messages: priming is on
  reads = 0;
  const page = [event(7, 10), event(8, 11), event(7, 12)];
  await cache.prime(page);
  bus.publish(page);
  for (const e of page) assert.equal((await cache.of(e))!.id, e.messageId);
  assert.deepEqual([reads, bulkReads], [0, 1]);
  // An event after the one the snapshot was read for makes the next subscriber read again.
  status.set(8, 'PROCESSING');
  bus.publish([event(8, 13)]);
  assert.equal((await cache.of(event(8, 13)))!.status, 'PROCESSING');
  assert.equal(reads, 1);
});

test('nobody resolving messages: no priming read', async () => {
  let bulkReads = 0;
  const cache = createEventMessages({
    find: async (id) => ({ id }) as Message,
    findMany: async () => {
      bulkReads++;
      return [];
    },
    bus: createEventBus(),
  });
  await cache.prime([{ messageId: 1, seq: 1, xid: 0 } as MessageEvent]);
  assert.equal(bulkReads, 0);
});

test('subscribers resolving before a priming read answers share it', async () => {
  const bus = createEventBus();
  bus.subscribe(() => {}); // a subscriber hears every event
  let reads = 0;
  let bulkReads = 0;
  let answer: (messages: Message[]) => void = () => {};
  const cache = createEventMessages({
    find: async (id) => {
      reads++;
      return { id } as Message;
    },
    findMany: (ids) => {
      bulkReads++;
      return new Promise(
        (resolve) => (answer = () => resolve(ids.map((id) => ({ id }) as Message))),
      );
    },
    bus,
  });
  const event = (messageId: number, seq: number) => ({ messageId, seq, xid: 0 }) as MessageEvent;
  await cache.of(event(1, 1)); // somebody resolves messages: priming is on
  reads = 0;
  const batch = [event(7, 10), event(8, 11)];
  const primed = cache.prime(batch); // as SQLite's feed does: not awaited before publishing
  bus.publish(batch);
  const resolved = Promise.all(batch.map((e) => cache.of(e)));
  answer([]);
  assert.deepEqual(
    (await resolved).map((m) => m?.id),
    [7, 8],
  );
  await primed;
  assert.deepEqual([reads, bulkReads], [0, 1]);
});

test('a failed priming read: each message is read on its own; one gone resolves to null', async () => {
  const bus = createEventBus();
  bus.subscribe(() => {}); // a subscriber hears every event
  let reads = 0;
  let fail = true;
  const cache = createEventMessages({
    find: async (id) => {
      reads++;
      return { id } as Message;
    },
    findMany: async (ids) => {
      if (fail) throw new Error('database unavailable');
      return ids.filter((id) => id !== 9).map((id) => ({ id }) as Message);
    },
    bus,
  });
  const event = (messageId: number, seq: number) => ({ messageId, seq, xid: 0 }) as MessageEvent;
  await cache.of(event(1, 1));
  reads = 0;
  await cache.prime([event(7, 10)]);
  assert.equal((await cache.of(event(7, 10)))?.id, 7);
  assert.equal(reads, 1);
  fail = false;
  await cache.prime([event(9, 11)]); // deleted meanwhile (retention): not in the read
  assert.equal(await cache.of(event(9, 11)), null);
  assert.equal(reads, 1);
});

test('only the events a subscriber hears are primed', async () => {
  const bus = createEventBus();
  const primed: number[][] = [];
  const cache = createEventMessages({
    find: async (id) => ({ id }) as Message,
    findMany: async (ids) => {
      primed.push([...ids]);
      return ids.map((id) => ({ id }) as Message);
    },
    bus,
  });
  const event = (messageId: number, seq: number, recipient: string) =>
    ({ messageId, seq, xid: 0, recipient }) as MessageEvent;
  await cache.of(event(1, 1, 'a@example.com')); // somebody resolves messages: priming is on
  await cache.prime([event(7, 10, 'a@example.com')]);
  assert.deepEqual(primed, [], 'nobody listens');
  const stop = bus.subscribe(() => {}, { recipientKey: 'watched@example.com' });
  await cache.prime([event(7, 11, 'a@example.com'), event(8, 12, 'Watched@Example.com')]);
  assert.deepEqual(primed, [[8]], "only the watched recipient's message");
  stop();
});

test('a primed snapshot whose reads failed is not kept: the next subscriber reads again', async () => {
  const bus = createEventBus();
  bus.subscribe(() => {}); // a subscriber hears every event
  let finds = 0;
  const cache = createEventMessages({
    find: async (id) => {
      finds++;
      if (finds === 2) throw new Error('database unavailable');
      return { id } as Message;
    },
    findMany: async () => {
      throw new Error('database unavailable');
    },
    bus,
  });
  const event = (messageId: number, seq: number) => ({ messageId, seq, xid: 0 }) as MessageEvent;
  await cache.of(event(1, 1)); // somebody resolves messages: priming is on (find 1)
  await cache.prime([event(7, 10)]);
  await assert.rejects(cache.of(event(7, 10))); // the bulk read and its fallback (find 2) failed
  assert.equal((await cache.of(event(7, 10)))?.id, 7); // read again (find 3)
  assert.equal(finds, 3);
});
