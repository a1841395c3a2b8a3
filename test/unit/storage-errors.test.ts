import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storageProblem } from '../../src/db/storage-errors.ts';

const cases: [string, unknown, ReturnType<typeof storageProblem>][] = [
  ['locked past busy_timeout', { code: 'SQLITE_BUSY' }, 'busy'],
  ['a stale WAL snapshot', { code: 'SQLITE_BUSY_SNAPSHOT' }, 'busy'],
  ['a shared-cache lock', { code: 'SQLITE_LOCKED' }, 'busy'],
  ['disk full', { code: 'SQLITE_FULL' }, 'full'],
  ['a failed write', { code: 'SQLITE_IOERR_WRITE' }, 'io'],
  ['a failed fsync', { code: 'SQLITE_IOERR_FSYNC' }, 'io'],
  ['a constraint: a bug or bad input, not storage', { code: 'SQLITE_CONSTRAINT_UNIQUE' }, null],
  ['a plain error', new Error('boom'), null],
  ['not an error at all', 'SQLITE_FULL', null],
  ['null', null, null],
];

for (const [name, error, expected] of cases) {
  test(`storageProblem: ${name}`, () => {
    assert.equal(storageProblem(error), expected);
  });
}
