import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPacer } from '../../src/graphql/pacer.ts';
import { stringifyPaced } from '../../src/graphql/paced-json.ts';

/** Counts turns of the event loop until `work` settles. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let counting = true;
  const spin = () => {
    if (!counting) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  await work();
  counting = false;
  return turns;
}

test('the pacer yields every stepsPerTurn steps, in order, and costs nothing below that', async () => {
  const frozen = () => 0; // time never passes: only the step count makes it yield
  const small = createPacer({ stepsPerTurn: 32, now: frozen });
  const direct = Array.from({ length: 31 }, (_, i) => small.paced(() => i));
  assert.deepEqual(
    direct,
    Array.from({ length: 31 }, (_, i) => i),
    'no promise below the limit',
  );

  const pacer = createPacer({ stepsPerTurn: 10, now: frozen });
  const order: number[] = [];
  const turns = await turnsDuring(() =>
    Promise.all(Array.from({ length: 100 }, (_, i) => pacer.paced(() => order.push(i)))),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.ok(turns >= 9, `100 steps, 10 a turn: ${turns} turns`);
});

test('the pacer also yields once msPerTurn has passed', async () => {
  let now = 0;
  const pacer = createPacer({ stepsPerTurn: 1_000, msPerTurn: 8, now: () => now });
  assert.equal(
    pacer.paced(() => 'at once'),
    'at once',
  );
  now = 9;
  const later = pacer.paced(() => 'after a turn');
  assert.ok(later instanceof Promise);
  assert.equal(await later, 'after a turn');
});

test('paced JSON is byte for byte JSON.stringify, and slices a big answer', async () => {
  const odd = {
    a: 1,
    b: [1, 'x', null, undefined, () => 1, { c: undefined, d: new Date(0) }],
    e: undefined,
    f: { g: [[1, [2]], {}] },
    h: '\u2028"\\',
  };
  const big = {
    data: {
      messages: {
        edges: Array.from({ length: 2_000 }, (_, i) => ({
          node: { id: String(i), html: 'x'.repeat(100), events: [{ status: 'SENT' }] },
        })),
      },
    },
  };
  for (const value of [odd, [], {}, null, 's', big]) {
    assert.equal(await stringifyPaced(value), JSON.stringify(value));
  }
  let clock = 0;
  // Every item looks like 1 ms of work: a slice ends every 8 items.
  const turns = await turnsDuring(() => stringifyPaced(big, { now: () => clock++ }));
  assert.ok(turns >= 100, `2,000 items: ${turns} turns`);
});
