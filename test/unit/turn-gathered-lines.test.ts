import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { gatherLinesPerTurn } from '../../src/turn-gathered-lines.ts';

// Log lines of one turn leave in one write (each entry of `writes` is one write to the sink).

const line = (level: string, msg: string) => `{"level":"${level}","msg":"${msg}"}\n`;

function recording() {
  const writes: string[] = [];
  return { writes, lines: gatherLinesPerTurn({ write: (chunk) => writes.push(chunk) }) };
}

test('the lines of one turn leave in one write, in order, once the turn ends', async () => {
  const { writes, lines } = recording();
  lines.write(line('info', 'one'));
  lines.write(line('warn', 'two'));
  lines.write(line('info', 'three'));
  assert.deepEqual(writes, []);
  await nextTurn();
  assert.deepEqual(writes, [line('info', 'one') + line('warn', 'two') + line('info', 'three')]);
  lines.write(line('info', 'four'));
  await nextTurn();
  assert.deepEqual(writes.slice(1), [line('info', 'four')]);
});

test('an error or fatal line is written at once, after what waited before it', async () => {
  const { writes, lines } = recording();
  lines.write(line('info', 'before'));
  lines.write(line('error', 'broken'));
  assert.deepEqual(writes, [line('info', 'before') + line('error', 'broken')]);
  lines.write(line('fatal', 'gone'));
  assert.deepEqual(writes.slice(1), [line('fatal', 'gone')]);
  await nextTurn();
  assert.equal(writes.length, 2, 'nothing left to write');
});

test('what waits is written when the process exits in the same turn', () => {
  const module = new URL('../../src/turn-gathered-lines.ts', import.meta.url).href;
  const script = `
    import { writeSync } from 'node:fs';
    import { gatherLinesPerTurn } from ${JSON.stringify(module)};
    const lines = gatherLinesPerTurn({ write: (chunk) => writeSync(1, chunk) });
    lines.write('{"level":"info","msg":"last words"}\\n');
    process.exit(0);
  `;
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(output, '{"level":"info","msg":"last words"}\n');
});
