import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedMessageId } from '../../src/delivery/message-id.ts';

const UUID_V7 =
  /^<([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@mail\.example>$/;

test('a Message-ID is a UUIDv7 in angle brackets at the domain, its first 48 bits the time', () => {
  const at = Date.UTC(2026, 11, 5, 14, 0, 0, 123);
  const id = timeOrderedMessageId('mail.example', at);
  const match = UUID_V7.exec(id);
  assert.ok(match, id);
  assert.equal(parseInt(match[1]! + match[2]!, 16), at);
});

test('Message-IDs sort in the order they were made, and each is new', () => {
  const start = Date.UTC(2026, 0, 1);
  // Across milliseconds (including a carry into a higher hex digit) and within one.
  const times = [
    start,
    start + 1,
    start + 15,
    start + 16,
    start + 255,
    start + 256,
    start + 86_400_000,
  ];
  const ids = times.map((time) => timeOrderedMessageId('d.example', time));
  assert.deepEqual([...ids].sort(), ids);
  const sameMs = Array.from({ length: 1_000 }, () => timeOrderedMessageId('d.example', start));
  assert.equal(new Set(sameMs).size, sameMs.length);
  for (const id of sameMs) assert.ok(id < ids[1]!, 'an earlier millisecond sorts first');
});
