import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMailBacklog } from '../../src/delivery/mail-backlog.ts';
import { paceWebhooks, YIELDING_PACE } from '../../src/webhooks/yield-to-mail.ts';

// The throttle switch: the pace in force follows the mail backlog, both ways.

const FULL = { concurrency: 16, writeIntervalMs: 5 };

test('full pace while mail is not backlogged, the floor while it is, full pace again after', () => {
  const mail = createMailBacklog();
  const pacing = paceWebhooks(mail, FULL);
  const changes: boolean[] = [];
  pacing.onChange(() => changes.push(pacing.yielding()));
  assert.deepEqual(pacing.pace(), FULL);
  assert.equal(pacing.yielding(), false);

  mail.set(true);
  assert.equal(pacing.yielding(), true);
  assert.deepEqual(pacing.pace(), YIELDING_PACE);
  assert.ok(YIELDING_PACE.concurrency >= 1, 'a floor, never a stop');
  assert.ok(YIELDING_PACE.concurrency < FULL.concurrency);
  assert.ok(YIELDING_PACE.writeIntervalMs > FULL.writeIntervalMs);

  mail.set(true); // a repeat is no change
  mail.set(false);
  assert.deepEqual(pacing.pace(), FULL);
  assert.deepEqual(changes, [true, false]);
});

test('the floor never runs faster than the full pace it stands in for', () => {
  const mail = createMailBacklog();
  const full = { concurrency: 1, writeIntervalMs: 500 };
  mail.set(true);
  assert.deepEqual(paceWebhooks(mail, full).pace(), full);
  assert.deepEqual(paceWebhooks(mail, FULL, { concurrency: 0, writeIntervalMs: 50 }).pace(), {
    concurrency: 1,
    writeIntervalMs: 50,
  });
});

test('without a mail signal the pace is always full', () => {
  const pacing = paceWebhooks(null, FULL);
  assert.equal(pacing.yielding(), false);
  assert.deepEqual(pacing.pace(), FULL);
  pacing.onChange(() => assert.fail('no signal, no change'))();
});

test('a listener that stopped hears no more changes', () => {
  const mail = createMailBacklog();
  const heard: boolean[] = [];
  const stop = mail.onChange((backlogged) => heard.push(backlogged));
  mail.set(true);
  stop();
  mail.set(false);
  assert.deepEqual(heard, [true]);
  assert.equal(mail.backlogged(), false);
});
