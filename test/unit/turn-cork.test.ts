import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { createTurnCork } from '../../src/turn-cork.ts';

// Streams that record each write they are handed stand in for sockets (one entry = one write to
// the kernel); `log` records which stream wrote, in order.

function recordingStreams(count: number) {
  const log: string[] = [];
  const streams = Array.from({ length: count }, (_, index) => {
    const writes: string[][] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        writes.push([chunk.toString()]);
        log.push(`s${index}`);
        callback();
      },
      writev(chunks, callback) {
        writes.push(chunks.map(({ chunk }) => String(chunk)));
        log.push(`s${index}`);
        callback();
      },
    });
    return { stream, writes };
  });
  return { streams, log };
}

test("one stream's writes of a turn leave in one write once the turn ends", async () => {
  const turns = createTurnCork();
  const { streams } = recordingStreams(1);
  const { stream, writes } = streams[0]!;
  turns.cork(stream);
  stream.write('a');
  turns.cork(stream);
  stream.write('b');
  assert.deepEqual(writes, [], 'held until the turn ends');
  await nextTurn();
  assert.deepEqual(writes, [['a', 'b']]);
  assert.equal(stream.writableCorked, 0);
});

test('flush sends what one stream holds at once and leaves the others held', async () => {
  const turns = createTurnCork();
  const { streams } = recordingStreams(2);
  for (const { stream } of streams) {
    turns.cork(stream);
    stream.write('x');
  }
  turns.flush(streams[0]!.stream);
  assert.deepEqual(streams[0]!.writes, [['x']]);
  assert.deepEqual(streams[1]!.writes, []);
  await nextTurn();
  assert.deepEqual(streams[1]!.writes, [['x']]);
});
