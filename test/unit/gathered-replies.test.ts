import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { sendGathered } from '../../src/smtp/gathered-replies.ts';

// The submission listener's replies to pipelined commands leave in one write: a stream that
// records each write it is handed stands in for the socket (one entry = one write to the kernel).

function recordingSocket() {
  const writes: string[][] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push([chunk.toString()]);
      callback();
    },
    writev(chunks, callback) {
      writes.push(chunks.map(({ chunk }) => String(chunk)));
      callback();
    },
  });
  const reply = (code: number, text: string) =>
    sendGathered(socket, code, () => socket.write(`${code} ${text}\r\n`));
  return { socket, writes, reply };
}

test('250, 250 and 354 in one turn leave in one write, in order, once the turn ends', async () => {
  const { writes, reply } = recordingSocket();
  reply(250, 'MAIL ok');
  reply(250, 'RCPT ok');
  reply(354, 'go ahead');
  assert.deepEqual(writes, [], 'held until the turn ends');
  await nextTurn();
  assert.deepEqual(writes, [['250 MAIL ok\r\n', '250 RCPT ok\r\n', '354 go ahead\r\n']]);
});

test('any other reply sends what waits first and is not held (the 220 before a TLS handshake)', async () => {
  const { socket, writes, reply } = recordingSocket();
  reply(250, 'EHLO ok');
  reply(220, 'Ready to start TLS');
  assert.deepEqual(writes, [['250 EHLO ok\r\n'], ['220 Ready to start TLS\r\n']]);
  assert.equal(socket.writableCorked, 0);
  await nextTurn();
  assert.equal(writes.length, 2);
});

test('replies of later turns are gathered again, and a destroyed socket is written to as is', async () => {
  const { socket, writes, reply } = recordingSocket();
  reply(250, 'one');
  await nextTurn();
  reply(250, 'two');
  reply(250, 'three');
  await nextTurn();
  assert.deepEqual(writes, [['250 one\r\n'], ['250 two\r\n', '250 three\r\n']]);
  socket.destroy();
  let sent = false;
  sendGathered(socket, 250, () => (sent = true));
  assert.equal(sent, true);
  assert.equal(socket.writableCorked, 0);
});
