import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createWakeSignal } from '../../src/delivery/wake-signal.ts';
import { closeWith } from '../helpers/scope.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('a raise wakes the listener; raises while it is busy collapse into one wake', async () => {
  const signal = createWakeSignal();
  let wakes = 0;
  const stop = signal.listen(() => wakes++);
  try {
    signal.raise();
    await waitFor(() => wakes === 1, { description: 'the first wake' });
    signal.raise();
    signal.raise();
    signal.raise();
    await waitFor(() => wakes >= 2, { description: 'a wake for the later raises' });
    // Three raises in one turn: one wake, or two if the listener ran between them, never three.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(wakes <= 3, `woke ${wakes} times`);
  } finally {
    stop();
  }
});

test('after stop, raises call nothing', async () => {
  const signal = createWakeSignal();
  let wakes = 0;
  const stop = signal.listen(() => wakes++);
  stop();
  signal.raise();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(wakes, 0);
});

/** A few turns of the event loop: long enough for a notify's wake to run, were there one. */
async function turns(count = 5) {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('held (a look is coming): raises wake nobody; caughtUp covers them; later raises wake', async () => {
  const signal = createWakeSignal();
  let wakes = 0;
  const stop = signal.listen(() => wakes++);
  try {
    await turns();
    signal.hold();
    signal.raise();
    signal.raise();
    await turns();
    assert.equal(wakes, 0, 'raised while held');
    // The look starts: it sees what those raises were about, so they need no wake of their own.
    signal.caughtUp();
    await turns();
    assert.equal(wakes, 0, 'caught up');
    signal.raise();
    await waitFor(() => wakes === 1, { description: 'a raise after the look starts wakes' });
  } finally {
    stop();
  }
});

test('a raise while the listener is held is not lost: the next look is told of it', async () => {
  const signal = createWakeSignal();
  let wakes = 0;
  const stop = signal.listen(() => {
    wakes++;
    signal.hold(); // as the worker does: the wake schedules a cycle
  });
  try {
    await turns();
    signal.raise();
    await waitFor(() => wakes === 1, { description: 'the first wake' });
    signal.raise(); // held: no wake, but the cycle scheduled by the first one is still coming
    await turns();
    assert.equal(wakes, 1);
    signal.caughtUp(); // the cycle starts
    signal.raise();
    await waitFor(() => wakes === 2, { description: 'woken again once the cycle started' });
  } finally {
    stop();
  }
});

// The delivery thread's side: a listener in another thread, woken by raises from this one.
const LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
// A pending wait does not keep a thread alive (the delivery thread has its port and timers).
parentPort.on('message', () => {});
import(workerData.tsxApi).then((tsx) => {
  tsx.register();
  return import(workerData.module);
}).then(({ createWakeSignal }) => {
  createWakeSignal(workerData.buffer).listen(() => parentPort.postMessage('woken'));
  parentPort.postMessage('listening');
});
`;

test('a raise in this thread wakes a listener in another', async (t) => {
  {
    const scope = t;
    const signal = createWakeSignal();
    const thread = new Worker(LISTENER, {
      eval: true,
      workerData: {
        buffer: signal.buffer,
        tsxApi: import.meta.resolve('tsx/esm/api'),
        module: new URL('../../src/delivery/wake-signal.ts', import.meta.url).href,
      },
    });
    closeWith(scope, () => thread.terminate());
    const messages: string[] = [];
    thread.on('message', (message: string) => messages.push(message));
    await waitFor(() => messages.includes('listening'), { description: 'the listener to start' });
    signal.raise();
    await waitFor(() => messages.includes('woken'), { description: 'the other thread to wake' });
  }
});
