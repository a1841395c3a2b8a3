import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatTranscript,
  TRANSCRIPT_MAX_BYTES,
  TranscriptLines,
  type TranscriptParts,
} from '../../src/smtp/transcript.ts';

const same = (text: string) => text;

function parts(overrides: Partial<TranscriptParts>): TranscriptParts {
  return { setup: null, note: null, lines: null, outcome: null, ...overrides };
}

function lines(build: (lines: TranscriptLines) => void): TranscriptLines {
  const created = new TranscriptLines();
  build(created);
  return created;
}

describe('formatTranscript', () => {
  test('setup, note, the send and the outcome, in order, one reply line per line', () => {
    const setup = lines((l) => {
      l.server('220 mx.test ESMTP');
      l.client('EHLO client.example');
      l.server('250-mx.test Nice to meet you\n250 AUTH PLAIN LOGIN');
    });
    const send = lines((l) => {
      l.client('MAIL FROM:<a@example.com>');
      l.server('250 Accepted');
      l.client('DATA');
      l.server('354 Go ahead');
      l.body(1234);
      l.server('451 4.3.0 Try again later');
    });
    const text = formatTranscript(
      parts({ setup, note: '(connection #2 reused: send 3 on it)', lines: send }),
      same,
    );
    assert.equal(
      text,
      [
        'S: 220 mx.test ESMTP',
        'C: EHLO client.example',
        'S: 250-mx.test Nice to meet you',
        'S: 250 AUTH PLAIN LOGIN',
        '(connection #2 reused: send 3 on it)',
        'C: MAIL FROM:<a@example.com>',
        'S: 250 Accepted',
        'C: DATA',
        'S: 354 Go ahead',
        'C: <message body, 1234 bytes>',
        'S: 451 4.3.0 Try again later',
      ].join('\n'),
    );
    assert.equal(
      formatTranscript(parts({ setup, outcome: '(failed: Timeout)' }), same)
        .split('\n')
        .at(-1),
      '(failed: Timeout)',
    );
  });

  test('every line goes through redact', () => {
    const send = lines((l) => l.server('535 5.7.8 hunter2 is wrong'));
    const text = formatTranscript(parts({ lines: send }), (t) => t.replaceAll('hunter2', '***'));
    assert.equal(text, 'S: 535 5.7.8 *** is wrong');
  });

  test('over the cap: the head and the tail around a marker that counts what went', () => {
    const send = lines((l) => {
      // Fewer entries than a buffer holds, so only the formatter drops anything.
      for (let i = 0; i < 60; i++) {
        l.client(`RCPT TO:<recipient-${String(i).padStart(3, '0')}-${'x'.repeat(64)}@example.com>`);
      }
      l.server('550 5.1.1 The failing reply, which must survive');
    });
    const full = formatTranscript(parts({ lines: send }), same, Infinity);
    const text = formatTranscript(parts({ lines: send }), same);
    assert.ok(Buffer.byteLength(full) > TRANSCRIPT_MAX_BYTES);
    assert.ok(Buffer.byteLength(text) <= TRANSCRIPT_MAX_BYTES, `${Buffer.byteLength(text)}`);
    const out = text.split('\n');
    assert.match(out[0] ?? '', /^C: RCPT TO:<recipient-000-x+@example\.com>$/);
    assert.equal(out.at(-1), 'S: 550 5.1.1 The failing reply, which must survive');
    const markerAt = out.findIndex((line) => line.startsWith('… '));
    const marker = /^… (\d+) bytes omitted …$/.exec(out[markerAt] ?? '');
    assert.ok(marker, text);
    // The marker stands for exactly the lines that are missing.
    const kept = [...out.slice(0, markerAt), ...out.slice(markerAt + 1)];
    const keptBytes = kept.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    assert.equal(Number(marker[1]) + keptBytes, Buffer.byteLength(full) + 1);
    // More of the end than of the start is kept: that is where a failure is.
    assert.ok(out.length - markerAt > markerAt);
  });

  test('one huge line is cut and cannot push the rest out', () => {
    const send = lines((l) => {
      l.server(`250-${'x'.repeat(20_000)}\n250 SIZE 1000`);
      l.server('552 5.3.4 Too big');
    });
    const out = formatTranscript(parts({ lines: send }), same).split('\n');
    assert.equal(out.length, 3);
    assert.ok(out[0]!.length <= 513 && out[0]!.endsWith('…'));
    assert.equal(out.at(-1), 'S: 552 5.3.4 Too big');
  });
});

describe('TranscriptLines', () => {
  test('stays bounded: the start and the latest lines are kept, the middle is counted', () => {
    const many = lines((l) => {
      for (let i = 0; i < 5_000; i++) l.server(`250-line ${i}`);
    });
    assert.ok(many.length < 100, `${many.length} entries`);
    const out = formatTranscript(parts({ lines: many }), same, Infinity).split('\n');
    assert.equal(out[0], 'S: 250-line 0');
    assert.equal(out.at(-1), 'S: 250-line 4999');
    const markers = out.filter((line) => /^… \d+ bytes omitted …$/.test(line));
    assert.equal(markers.length, 1, 'one marker, however often the middle was dropped');
  });
});
