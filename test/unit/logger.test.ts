import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import type { LogLevel } from '../../src/config.ts';

function capture(level: LogLevel) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { log: createLogger({ level, name: 'test', destination }), lines };
}

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
