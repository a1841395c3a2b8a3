import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelayMs } from '../../src/delivery/backoff.ts';

test('retry delays double from the base, within ±20% jitter', () => {
  const rows: [retry: number, random: number, expected: number][] = [
    [1, 0.5, 1_000],
    [2, 0.5, 2_000],
    [3, 0.5, 4_000],
    [1, 0, 800],
    [1, 1, 1_200],
    [4, 0, 6_400],
  ];
  for (const [retry, random, expected] of rows) {
    assert.equal(
      retryDelayMs(retry, 1_000, 1_000_000, () => random),
      expected,
      `retry ${retry}`,
    );
  }
});

test('the maximum is the longest delay, jitter included', () => {
  assert.equal(
    retryDelayMs(30, 1_000, 60_000, () => 0.5),
    60_000,
  );
  assert.equal(
    retryDelayMs(30, 1_000, 60_000, () => 1),
    60_000,
  );
  // Below the maximum, jitter still spreads them; near it, they may meet it but never pass.
  for (let random = 0; random <= 1; random += 0.05) {
    const delay = retryDelayMs(6, 1_000, 40_000, () => random);
    assert.ok(delay >= 25_600 && delay <= 40_000, String(delay));
  }
});

test('jitter spreads messages that failed together', () => {
  const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(2, 1_000, 60_000)));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  for (const delay of delays) assert.ok(delay >= 1_600 && delay <= 2_400, String(delay));
});
