import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createWriteTurns } from '../../src/db/sqlite/write-turns.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Another thread holding the turn, as the delivery thread does during its transaction: it takes
// the turn as write-turns.ts does, says so, answers pings, and gives it back when told (or never).
const HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.buffer);
if (Atomics.compareExchange(state, 0, 0, 1) !== 0) throw new Error('turn not free');
parentPort.postMessage('held');
parentPort.on('message', (message) => {
  if (message === 'ping') parentPort.postMessage('pong');
  if (message !== 'release') return;
  Atomics.store(state, 0, 0);
  Atomics.notify(state, 0);
  parentPort.postMessage('released');
});
`;

/** A thread holding the turn, terminated when `scope` ends. */
async function holdInAnotherThread(scope: Scope, buffer: SharedArrayBuffer) {
  const thread = new Worker(HOLDER, { eval: true, workerData: { buffer } });
  closeWith(scope, () => thread.terminate());
  const messages: string[] = [];
  thread.on('message', (message: string) => messages.push(message));
  await waitFor(() => messages.includes('held'), { description: 'the other thread to hold it' });
  return {
    release: () => thread.postMessage('release'),
    /** A message to the other thread and its answer: a round trip through this event loop. */
    ping: async () => {
      thread.postMessage('ping');
      await waitFor(() => messages.includes('pong'), { description: 'the answer to a ping' });
    },
    stop: () => thread.terminate(),
  };
}

test('a free turn runs the work at once, in the caller', () => {
  const turns = createWriteTurns();
  let ran = false;
  turns.run(() => (ran = true));
  assert.equal(ran, true);
  turns.run(() => (ran = false)); // and the turn was given back
  assert.equal(ran, false);
});

test('while another thread holds the turn, works wait without blocking and run in order once it is released', async (t) => {
  const turns = createWriteTurns();
  const holder = await holdInAnotherThread(t, turns.buffer);
  const order: string[] = [];
  turns.run(() => order.push('first'));
  turns.run(() => order.push('second'));
  // The event loop is free meanwhile: a message goes to the other thread and its answer comes
  // back while the works wait (a blocked loop would never see the answer).
  await holder.ping();
  assert.deepEqual(order, []);
  holder.release();
  await waitFor(() => order.length === 2, { description: 'the queued works' });
  assert.deepEqual(order, ['first', 'second']);
  // The waiter gave the turn back after its works.
  let ran = false;
  turns.run(() => (ran = true));
  assert.equal(ran, true);
});

test('a turn never given back (its thread died mid-transaction) is taken over after maxWaitMs', async (t) => {
  const buffer = new SharedArrayBuffer(4);
  const turns = createWriteTurns(buffer, { maxWaitMs: 100 });
  const holder = await holdInAnotherThread(t, buffer);
  await holder.stop();
  let ranAfterMs: number | null = null;
  const started = performance.now();
  turns.run(() => (ranAfterMs = performance.now() - started));
  await waitFor(() => ranAfterMs !== null, { description: 'the work, past the deadline' });
  assert.ok(ranAfterMs! >= 90, `ran after ${ranAfterMs} ms`);
  // Taken over and given back: later writers do not wait for the dead holder again.
  let ranAtOnce = false;
  turns.run(() => (ranAtOnce = true));
  assert.equal(ranAtOnce, true);
});

test('two sets of turns on one buffer exclude each other (two threads share one this way)', () => {
  const buffer = new SharedArrayBuffer(4);
  const mainTurns = createWriteTurns(buffer);
  const deliveryTurns = createWriteTurns(buffer);
  const order: string[] = [];
  mainTurns.run(() => {
    order.push('main starts');
    deliveryTurns.run(() => order.push('delivery'));
    order.push('main ends');
  });
  return waitFor(() => order.length === 3).then(() =>
    assert.deepEqual(order, ['main starts', 'main ends', 'delivery']),
  );
});
