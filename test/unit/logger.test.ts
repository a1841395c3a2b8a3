import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogLevel } from '../../src/config.ts';
import { capturedLog } from '../helpers/captured-log.ts';

const capture = (level: LogLevel) => capturedLog(level);

test('secret fields are replaced, at the top level and one level down', () => {
  const { log, lines } = capture('info');
  log.info(
    {
      password: 'p1',
      token: 't1',
      authorization: 'Bearer a1',
      connectionUri: 'smtp://u:p2@h/',
      smtp: { password: 'p3', connectionUri: 'smtp://u:p4@h/' },
      headers: { authorization: 'Bearer a2' },
      id: 7,
    },
    'hello',
  );
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.id, 7);
  assert.equal(record.msg, 'hello');
  assert.equal(record.level, 'info');
  assert.match(record.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  for (const secret of ['p1', 't1', 'a1', 'p2', 'p3', 'p4', 'a2']) {
    assert.ok(!lines[0]!.includes(secret), `${secret} leaked: ${lines[0]}`);
  }
  assert.equal(record.password, '***');
  assert.equal(record.smtp.connectionUri, '***');
});

test('LOG_LEVEL filters lines; silent writes nothing', () => {
  const warn = capture('warn');
  warn.log.info('no');
  warn.log.warn('yes');
  assert.deepEqual(
    warn.lines.map((l) => JSON.parse(l).msg),
    ['yes'],
  );
  const silent = capture('silent');
  silent.log.fatal('nothing');
  assert.deepEqual(silent.lines, []);
});

test('secret fields are replaced at any depth, in arrays too, whatever their case', () => {
  const { log, lines } = capture('info');
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic['self'] = cyclic;
  log.info(
    {
      a2: { b: { password: 'deep1', c: { d: { token: 'deep2' } } } },
      list: [{ password: 'inarray' }, [{ Authorization: 'Bearer nested' }]],
      ApiToken: 'casefold',
      cyclic,
      fine: { count: 3, when: new Date(0) },
    },
    'deep fields',
  );
  assert.equal(lines.length, 1);
  for (const secret of ['deep1', 'deep2', 'inarray', 'nested', 'casefold']) {
    assert.ok(!lines[0]!.includes(secret), `${secret} leaked: ${lines[0]}`);
  }
  const record = JSON.parse(lines[0]!);
  assert.equal(record.a2.b.password, '***');
  assert.equal(record.a2.b.c.d.token, '***');
  assert.equal(record.list[0].password, '***');
  assert.equal(record.fine.count, 3);
  assert.equal(record.fine.when, '1970-01-01T00:00:00.000Z');
});

test('an error logged with a secret in its fields keeps its message and loses the secret', () => {
  const { log, lines } = capture('info');
  const error = Object.assign(new Error('refused'), { details: { password: 'errsecret' } });
  log.error({ err: error }, 'failed');
  assert.ok(!lines[0]!.includes('errsecret'), lines[0]);
  assert.equal(JSON.parse(lines[0]!).err.message, 'refused');
});
