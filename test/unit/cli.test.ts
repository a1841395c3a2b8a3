import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { palette } from '../../src/cli/colors.ts';
import type { CliIo, Command } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { main } from '../../src/cli/main.ts';
import { sinceToIso } from '../../src/cli/stats.ts';
import { formatEvent, type TailEvent } from '../../src/cli/tail.ts';

function io(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  return {
    stdout: sink((text) => (out += text)),
    stderr: sink((text) => (err += text)),
    env: {},
    untilStopped: () => new Promise(() => {}),
    out: () => out,
    err: () => err,
  };
}

const failed: TailEvent = {
  cursor: '7',
  at: '2026-11-25T13:45:07.123Z',
  status: 'QUEUED',
  reason: 'retry_scheduled',
  attempt: 2,
  message: { id: '42', recipient: 'ada@example.com', subject: 's' },
  error: {
    code: 'CONNECTION',
    message: 'connection refused',
    responseCode: null,
    enhancedStatus: null,
    hint: 'Is the server up?',
  },
};

test('tail lines: plain when piped, coloured on a terminal, with error code and hint', () => {
  const plain = formatEvent(failed, palette(false));
  assert.equal(
    plain,
    '2026-11-25T13:45:07.123Z  QUEUED     #42  ada@example.com  attempt 2  retry_scheduled\n' +
      '    CONNECTION: connection refused\n' +
      '    hint: Is the server up?',
  );
  const coloured = formatEvent({ ...failed, status: 'SENT', error: null }, palette(true));
  assert.match(coloured, /\u001b\[32mSENT {6}\u001b\[39m #42/);
  assert.ok(!coloured.includes('hint'));
});

test('--since takes a duration or an ISO time', () => {
  const now = Date.UTC(2026, 10, 25, 12);
  assert.equal(sinceToIso('90m', now), '2026-11-25T10:30:00.000Z');
  assert.equal(sinceToIso('7d', now), '2026-11-18T12:00:00.000Z');
  assert.equal(sinceToIso('2026-11-01T00:00:00.000Z', now), '2026-11-01T00:00:00.000Z');
  assert.throws(() => sinceToIso('yesterday', now), /--since takes a duration/);
});

test('a new command is one more entry: listed, parsed and run', async () => {
  const calls: unknown[] = [];
  const hello: Command = {
    name: 'hello',
    summary: 'says hello',
    usage: 'hello --name <name>',
    options: { name: { type: 'string' } },
    async run(args, cliIo) {
      calls.push(args.values['name']);
      cliIo.stdout.write(`hello ${String(args.values['name'])}\n`);
      return 0;
    },
  };
  const commands = [...COMMANDS, hello];
  const help = io();
  assert.equal(await main(['--help'], help, commands), 0);
  assert.match(help.out(), /^ {2}hello +says hello$/m);
  const run = io();
  assert.equal(await main(['hello', '--name', 'ops'], run, commands), 0);
  assert.equal(run.out(), 'hello ops\n');
  const bad = io();
  assert.equal(await main(['hello', '--nope'], bad, commands), 2);
  assert.match(bad.err(), /usage: mailscope hello --name <name>/);
});
