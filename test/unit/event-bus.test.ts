import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventBus } from '../../src/delivery/event-bus.ts';
import type { MessageEvent } from '../../src/domain/message.ts';

// Listeners for everything hear every event; listeners for one recipient hear only theirs,
// whatever the case of the address, in the order published.

const event = (seq: number, recipient: string) => ({ seq, recipient }) as MessageEvent;

function listen(bus: ReturnType<typeof createEventBus>, recipientKey?: string) {
  const heard: number[] = [];
  const stop = bus.subscribe((e) => heard.push(e.seq), { recipientKey });
  return { heard, stop };
}

test('a recipient listener hears only events to that recipient, in order', () => {
  const bus = createEventBus();
  const all = listen(bus);
  const ada = listen(bus, 'ada@example.com');
  const adaToo = listen(bus, 'ada@example.com');
  const bob = listen(bus, 'bob@example.com');
  bus.publish([event(1, 'Ada@Example.com'), event(2, 'bob@example.com')]);
  bus.publish([event(3, 'carol@example.com'), event(4, 'ada@example.com')]);
  assert.deepEqual(all.heard, [1, 2, 3, 4]);
  assert.deepEqual(ada.heard, [1, 4]);
  assert.deepEqual(adaToo.heard, [1, 4]);
  assert.deepEqual(bob.heard, [2]);
});

test('stopping one listener leaves the others of the same recipient listening', () => {
  const bus = createEventBus();
  const first = listen(bus, 'ada@example.com');
  const second = listen(bus, 'ada@example.com');
  const all = listen(bus);
  first.stop();
  bus.publish([event(1, 'ada@example.com')]);
  second.stop();
  all.stop();
  bus.publish([event(2, 'ada@example.com')]);
  const again = listen(bus, 'ada@example.com');
  bus.publish([event(3, 'ada@example.com')]);
  assert.deepEqual(first.heard, []);
  assert.deepEqual(second.heard, [1]);
  assert.deepEqual(all.heard, [1]);
  assert.deepEqual(again.heard, [3]);
});

test('hears: whether a listener other than a passive one would hear an event', () => {
  const bus = createEventBus();
  const stopCache = bus.subscribe(() => {}, { passive: true });
  assert.equal(bus.hears(event(1, 'ada@example.com')), false, 'only a passive listener');
  const ada = listen(bus, 'ada@example.com');
  assert.equal(bus.hears(event(2, 'Ada@Example.com')), true);
  assert.equal(bus.hears(event(3, 'bob@example.com')), false);
  const all = listen(bus);
  assert.equal(bus.hears(event(4, 'bob@example.com')), true);
  all.stop();
  ada.stop();
  assert.equal(bus.hears(event(5, 'ada@example.com')), false);
  stopCache();
});
