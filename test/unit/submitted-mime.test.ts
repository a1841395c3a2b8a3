import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressesIn,
  decodeWords,
  domainsNamedIn,
  readSubmittedMime,
} from '../../src/smtp/submitted-mime.ts';

const read = (text: string) =>
  readSubmittedMime(Buffer.from(text, 'utf8'), { newMessageId: () => '<new@mailscope.test>' });

const HEAD = 'Message-ID: <m@x>\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\n';

test('Bcc is removed (folded, any case, several) and nothing else changes', () => {
  const cases = [
    ['Bcc: a@x.com\r\n', ''],
    ['BCC: a@x.com,\r\n b@x.com\r\n', ''],
    ['bcc: a@x.com\r\nBcc: b@x.com\r\n', ''],
    ['Bcc:\r\n', ''],
    ['Resent-Bcc: a@x.com\r\n', ''],
    ['Bcc: a@x.com\r\nresent-bcc: b@x.com\r\n', ''],
  ];
  for (const [bcc] of cases) {
    const message = `${HEAD}From: f@x.com\r\n${bcc}To: t@x.com\r\nSubject: s\r\n\r\nBcc: in the body stays\r\n`;
    const result = read(message);
    assert.equal(
      result.raw.toString('utf8'),
      `${HEAD}From: f@x.com\r\nTo: t@x.com\r\nSubject: s\r\n\r\nBcc: in the body stays\r\n`,
      JSON.stringify(bcc),
    );
    assert.ok(!result.headers.some((h) => /^(resent-)?bcc$/i.test(h.name)));
  }
});

test('every From counts: two From headers are a problem, and their addresses are all read', () => {
  const one = read(`${HEAD}From: Ana <a@example.com>, b@example.com\r\n\r\nx\r\n`);
  assert.equal(one.headerProblem, null);
  assert.deepEqual(one.fromAddresses, ['a@example.com', 'b@example.com']);
  for (const twice of [
    `${HEAD}From: a@example.com\r\nFrom: boss@evil.com\r\n\r\nx\r\n`,
    `${HEAD}From: a@example.com\nfrom: boss@evil.com\n\nx\n`,
  ]) {
    const result = read(twice);
    assert.equal(result.headerProblem, 'the message has 2 From headers; RFC 5322 allows one');
    assert.deepEqual(result.fromAddresses, ['a@example.com', 'boss@evil.com']);
  }
});

test('a bare CR in the header section is a problem; in the body it is left alone', () => {
  // Read as one Subject here; a header of its own once the line endings are mended.
  const hidden = read(`${HEAD}Subject: cr\rFrom: boss@evil.com\r\n\r\nx\r\n`);
  assert.match(hidden.headerProblem ?? '', /bare CR/);
  const inBody = read(`${HEAD}From: a@example.com\r\n\r\nline\rmore\r\n`);
  assert.equal(inBody.headerProblem, null);
  const bareLf = read('From: a@example.com\nSubject: s\n\nbody\n');
  assert.equal(bareLf.headerProblem, null);
});

test('Message-ID and Date are added only when missing, on top, in the message line style', () => {
  const kept = read(`${HEAD}From: f@x.com\r\n\r\nbody\r\n`);
  assert.equal(kept.raw.toString('utf8'), `${HEAD}From: f@x.com\r\n\r\nbody\r\n`);
  assert.equal(kept.messageId, '<m@x>');

  const bare = readSubmittedMime(Buffer.from('From: f@x.com\n\nbody\n'), {
    newMessageId: () => '<new@mailscope.test>',
    now: () => new Date('2026-12-03T12:00:00Z'),
  });
  assert.equal(
    bare.raw.toString('utf8'),
    'Message-ID: <new@mailscope.test>\nDate: Thu, 03 Dec 2026 12:00:00 +0000\nFrom: f@x.com\n\nbody\n',
  );
  assert.equal(bare.messageId, '<new@mailscope.test>');
});

test('From is added from the envelope sender only when the message has none', () => {
  const options = {
    newMessageId: () => '<new@mailscope.test>',
    envelopeSender: 'cron@example.com',
  };
  const without = readSubmittedMime(Buffer.from(`${HEAD}Subject: s\r\n\r\nbody\r\n`), options);
  assert.equal(
    without.raw.toString('utf8'),
    `From: <cron@example.com>\r\n${HEAD}Subject: s\r\n\r\nbody\r\n`,
  );
  assert.deepEqual(without.fromAddresses, ['cron@example.com']);

  const own = readSubmittedMime(
    Buffer.from(`${HEAD}From: App <app@example.com>\r\n\r\nb\r\n`),
    options,
  );
  assert.equal(own.raw.toString('utf8'), `${HEAD}From: App <app@example.com>\r\n\r\nb\r\n`);
  assert.deepEqual(own.fromAddresses, ['app@example.com']);

  // The null sender gives nothing to make a From of: the intake refuses the message.
  const nullSender = readSubmittedMime(Buffer.from(`${HEAD}\r\nb\r\n`), {
    ...options,
    envelopeSender: null,
  });
  assert.equal(nullSender.raw.toString('utf8'), `${HEAD}\r\nb\r\n`);
  assert.deepEqual(nullSender.fromAddresses, []);
});

test('encoded words: B and Q, adjacent ones joined, other charsets', () => {
  for (const [encoded, decoded] of [
    ['=?UTF-8?B?w6kgw6A=?=', 'é à'],
    ['=?utf-8?Q?caf=C3=A9_cr=C3=A8me?=', 'café crème'],
    ['=?UTF-8?Q?a?= =?UTF-8?Q?b?=', 'ab'],
    ['=?ISO-8859-1?Q?Andr=E9?= Pirard', 'André Pirard'],
    ['plain text', 'plain text'],
    ['=?UTF-8?Q?R=C3=A9initialisation_?=\r\n =?UTF-8?Q?=E2=9C=93?=', 'Réinitialisation ✓'],
  ]) {
    assert.equal(decodeWords(encoded!.replace(/\r\n /g, ' ')), decoded, encoded);
  }
});

test('the first text and html parts are read, attachments skipped', () => {
  const message =
    `${HEAD}From: "Doe, John" <j@x.com>\r\nSubject: =?UTF-8?B?SGVsbG8g8J+Riw==?=\r\n` +
    'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n' +
    'preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n' +
    '--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
    'caf=C3=A9 =\r\nau lait\r\n' +
    '--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
    `${Buffer.from('<p>café</p>').toString('base64')}\r\n` +
    '--inner--\r\n' +
    '--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n' +
    'attachment text\r\n--outer--\r\n';
  const result = read(message);
  assert.equal(result.subject, 'Hello 👋');
  assert.equal(result.text, 'café au lait');
  assert.equal(result.html, '<p>café</p>');
  assert.deepEqual(result.fromAddresses, ['j@x.com']);
});

test('a message without a Content-Type is text/plain; without text no parts are made up', () => {
  assert.equal(read(`${HEAD}From: f@x.com\r\n\r\nhello\r\n`).text, 'hello\r\n');
  const html = read(`${HEAD}Content-Type: text/html\r\n\r\n<b>x</b>`);
  assert.equal(html.text, null);
  assert.equal(html.html, '<b>x</b>');
});

test('addresses in an address list', () => {
  assert.deepEqual(addressesIn('"Doe, John" <j@x.com>, k@y.org (Kay), <z@z.io>'), [
    'j@x.com',
    'k@y.org',
    'z@z.io',
  ]);
  assert.deepEqual(addressesIn(''), []);
  assert.deepEqual(addressesIn('team: a@x.com, b@y.org;'), ['a@x.com', 'b@y.org']);
});

test('the domains a From could be read as: every one, however readers disagree', () => {
  // Values on which mail readers disagree about the sender (an outside review found each
  // passing an allowlist of example.com): every reading counts.
  for (const value of [
    'boss@evil.com ((x)<app@example.com>)',
    'boss@evil.com (comment (nested) <app@example.com>)',
    'boss@evil.com (\\) <app@example.com>)',
    'boss@evil.com <>, app@example.com',
    'boss@evil.com app@example.com',
    'boss@evil.com (x)app@example.com',
    'boss@evil.com;app@example.com',
    'boss@evil.com <app@example.com',
    '<@example.com:boss@evil.com>',
  ]) {
    assert.ok(domainsNamedIn(value).includes('evil.com'), value);
  }
  // A quoted display name is a name, however it looks; an encoded one too.
  assert.deepEqual(domainsNamedIn('"boss@evil.com" <app@example.com>'), ['example.com']);
  assert.deepEqual(domainsNamedIn('=?utf-8?q?boss=40evil.com?= <app@Example.COM>'), [
    'example.com',
  ]);
  assert.deepEqual(domainsNamedIn('app@[192.0.2.1]'), ['[192.0.2.1]']);
});
