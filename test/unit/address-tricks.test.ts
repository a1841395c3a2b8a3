import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressProblem,
  headerProblems,
  senderDomainProblem,
  singleLineProblem,
} from '../../src/delivery/input-rules.ts';

// Inputs that nodemailer's forgiving address parser, or a mail server, would read differently
// from what a person reads: each must be refused, not "fixed".

test('address-parser tricks are refused', () => {
  for (const address of [
    '"a@b x"@internal.domain',
    '"victim@example.com"@attacker.example',
    'g: a@b.com;',
    'undisclosed-recipients:;',
    'a@b.com (comment)',
    '(comment)a@b.com',
    'a@b.com, c@d.com',
    'a@b.com;c@d.com',
    'Name <a@b.com>',
    '<a@b.com>',
    'a@b.com\r\nBcc: c@d.com',
    'a@b.com\nX: y',
    'a\u0000@b.com',
    'a@b.com\u0085',
    'a@b.com\u2028',
    'a\uff20internal@example.com',
    'a\u202e@example.com',
    'a\u200b@example.com',
    'a@exam\u200bple.com',
    'a@[127.0.0.1]',
    'a@127.0.0.1',
    'a@localhost',
    'a@b.com.',
    '.a@b.com',
    'a.@b.com',
    'a@-b.com',
    'a\\@b.com@c.com',
    // Issue 19: encoded words, source routes, punycode that is not an international name.
    '=?utf-8?B?YXR0YWNrZXJAZXZpbC5leGFtcGxl?=@example.com',
    '=?utf-8?q?a=40b?=@example.com',
    'a%b@relay.example',
    'b!a@relay.example',
    'a@xn--zz.example',
    'a@xn--example-.com',
  ]) {
    assert.notEqual(addressProblem(address), null, JSON.stringify(address));
  }
});

test('international addresses still work', () => {
  for (const address of [
    'jörg@bücher.example',
    'δοκιμή@παράδειγμα.δοκιμή',
    'user@xn--bcher-kva.example',
  ]) {
    assert.equal(addressProblem(address), null, address);
  }
});

test('no line breaks of any kind in header parts', () => {
  for (const value of ['a\rb', 'a\nb', 'a\u0085b', 'a\u2028b', 'a\u2029b', 'a\u0000b']) {
    assert.notEqual(singleLineProblem(value, 100), null, JSON.stringify(value));
    assert.equal(headerProblems([{ name: 'X-Test', value }], 'h').length, 1, JSON.stringify(value));
  }
  assert.equal(singleLineProblem('tab\tis fine', 100), null);
});

test('custom headers may not set envelope, identity, MIME or trace headers', () => {
  for (const name of [
    'From',
    'To',
    'CC',
    'bcc',
    'Sender',
    'Return-Path',
    'Message-ID',
    'Date',
    'MIME-Version',
    'Content-Type',
    'content-transfer-encoding',
    'Resent-To',
    'Resent-Bcc',
    'Received',
    'DKIM-Signature',
    'ARC-Seal',
    'Authentication-Results',
  ]) {
    const problems = headerProblems([{ name, value: 'x' }], 'input.headers');
    assert.equal(problems.length, 1, name);
    assert.equal(problems[0]!.field, 'input.headers[0].name');
  }
  assert.deepEqual(
    headerProblems(
      [
        { name: 'Reply-To', value: 'a@b.com' },
        { name: 'X-Campaign', value: '7' },
      ],
      'h',
    ),
    [],
  );
});

test('SENDER_DOMAIN_ALLOWLIST: exact domains, case-insensitive', () => {
  const allowed = ['example.com'];
  assert.equal(senderDomainProblem('a@example.com', null), null);
  assert.equal(senderDomainProblem('a@EXAMPLE.com', allowed), null);
  assert.match(senderDomainProblem('a@evil.example', allowed)!, /not allowed/);
  assert.match(senderDomainProblem('a@sub.example.com', allowed)!, /not allowed/);
});
