import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIsoTime } from '../../src/graphql/scalars.ts';

// Times in filters and windows: ISO 8601 only, and days the calendar has.

test('a day the calendar does not have is refused, not rolled over to the next month', () => {
  for (const value of [
    '2026-02-30T00:00:00Z',
    '2026-02-29',
    '2026-04-31T12:00:00Z',
    '2026-13-01',
  ]) {
    assert.throws(
      () => parseIsoTime(value, 'filter.createdBefore'),
      (error: any) =>
        error.extensions.code === 'BAD_USER_INPUT' &&
        error.extensions.problems[0].field === 'filter.createdBefore',
      value,
    );
  }
});

test('real days and times are read as written', () => {
  assert.equal(parseIsoTime('2028-02-29T00:00:00Z', 'f'), Date.UTC(2028, 1, 29));
  assert.equal(
    parseIsoTime('2026-12-31T23:59:59.999Z', 'f'),
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
  );
  assert.equal(parseIsoTime('2026-03-01T01:00:00+01:00', 'f'), Date.UTC(2026, 2, 1));
});
