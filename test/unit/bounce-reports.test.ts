import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReportMail, targetOf, toIncomingReport } from '../../src/bounces/parse-report.ts';
import { createVerp } from '../../src/smtp/verp.ts';
import {
  arfComplaint,
  eximBounce,
  exchangeBounce,
  gmailBounce,
  postfixBounce,
  postfixDelay,
  qmailBounce,
  textDelayWarning,
  type FixtureInput,
} from '../helpers/bounce-fixtures.ts';

const verp = createVerp('bounces.sender.test', Buffer.alloc(32, 7));
const input: FixtureInput = {
  recipient: 'gone@example.com',
  messageId: '<abc-123@sender.test>',
  to: verp.address(42),
  envid: verp.token(42),
};

test('VERP: a token names its message and cannot be edited into another', () => {
  const address = verp.address(42);
  assert.match(address, /^bounces\+42-[a-z2-7]{24}@bounces\.sender\.test$/);
  assert.deepEqual(verp.match(address), { kind: 'valid', messageId: 42 });
  assert.deepEqual(verp.match(address.toUpperCase()), { kind: 'valid', messageId: 42 });
  const token = verp.token(42);
  const forged = `bounces+43-${token.slice(3)}@bounces.sender.test`;
  assert.deepEqual(verp.match(forged), { kind: 'invalid' });
  assert.deepEqual(verp.match('bounces+42-aaaa@bounces.sender.test'), { kind: 'invalid' });
  assert.deepEqual(verp.match('postmaster@bounces.sender.test'), { kind: 'none' });
  assert.deepEqual(verp.match(`bounces+${token}@other.test`), { kind: 'none' });
  // Another key makes other tokens.
  const other = createVerp('bounces.sender.test', Buffer.alloc(32, 8));
  assert.deepEqual(other.match(address), { kind: 'invalid' });
});

const CASES: {
  name: string;
  build: (input: FixtureInput) => string;
  expected: {
    outcome: string;
    source: string;
    bounceType: string | null;
    enhancedStatus: string | null;
    diagnostic?: RegExp;
    hint?: RegExp;
  };
}[] = [
  {
    name: 'Postfix bounce (RFC 3464)',
    build: postfixBounce,
    expected: {
      outcome: 'BOUNCED',
      source: 'DSN',
      bounceType: 'HARD',
      enhancedStatus: '5.1.1',
      diagnostic: /User unknown in virtual mailbox table/,
      hint: /does not exist/,
    },
  },
  {
    name: 'Postfix delay (Action: delayed)',
    build: postfixDelay,
    expected: { outcome: 'DEFERRED', source: 'DSN', bounceType: null, enhancedStatus: '4.4.1' },
  },
  {
    name: 'Exim (X-Failed-Recipients)',
    build: eximBounce,
    expected: {
      outcome: 'BOUNCED',
      source: 'DSN',
      bounceType: 'HARD',
      enhancedStatus: '5.2.1',
      diagnostic: /SMTP error from remote mail server/,
    },
  },
  {
    name: 'Exchange (X-Failed-Recipients)',
    build: exchangeBounce,
    expected: {
      outcome: 'BOUNCED',
      source: 'DSN',
      bounceType: 'HARD',
      enhancedStatus: '5.1.10',
      diagnostic: /RecipientNotFound/,
      hint: /does not exist/,
    },
  },
  {
    name: 'qmail (plain text)',
    build: qmailBounce,
    expected: {
      outcome: 'BOUNCED',
      source: 'DSN',
      bounceType: 'HARD',
      enhancedStatus: '5.1.1',
      diagnostic: /No such user here/,
    },
  },
  {
    name: 'Gmail (RFC 3464, DMARC 5.7.26)',
    build: gmailBounce,
    expected: {
      outcome: 'BOUNCED',
      source: 'DSN',
      bounceType: 'HARD',
      enhancedStatus: '5.7.26',
      diagnostic: /DMARC policy/,
      hint: /DMARC.*checkSenderDomain names the record/,
    },
  },
  {
    name: 'text-only delay warning: a delay, not a failure',
    build: textDelayWarning,
    expected: { outcome: 'DEFERRED', source: 'DSN', bounceType: null, enhancedStatus: '4.7.1' },
  },
  {
    name: 'ARF complaint (RFC 5965)',
    build: arfComplaint,
    expected: { outcome: 'COMPLAINED', source: 'ARF', bounceType: null, enhancedStatus: null },
  },
];

for (const { name, build, expected } of CASES) {
  test(`reads ${name}`, async () => {
    const reports = await parseReportMail(Buffer.from(build(input)));
    assert.equal(reports.length, 1, 'one report');
    const [report] = reports;
    assert.equal(report!.outcome, expected.outcome);
    assert.equal(report!.source, expected.source);
    assert.equal(report!.bounceType, expected.bounceType);
    assert.equal(report!.enhancedStatus, expected.enhancedStatus);
    assert.equal(report!.recipient?.toLowerCase(), input.recipient);
    assert.equal(report!.quotedMessageId, input.messageId);
    if (expected.diagnostic) assert.match(report!.diagnostic ?? '', expected.diagnostic);
    const incoming = toIncomingReport(report!, targetOf(report!, input.to, verp), 'r1');
    assert.deepEqual(incoming.target, { kind: 'id', id: 42 });
    if (expected.hint) assert.match(incoming.detail.hint ?? '', expected.hint);
  });
}

test('matching: VERP, else ENVID, else the quoted Message-ID; a bad VERP token matches nothing', async () => {
  const [report] = await parseReportMail(Buffer.from(postfixBounce(input)));
  assert.deepEqual(targetOf(report!, verp.address(42), verp), { kind: 'id', id: 42 });
  // Sent to a plain address at the bounce domain: the ENVID names it.
  assert.deepEqual(targetOf(report!, 'postmaster@bounces.sender.test', verp), {
    kind: 'id',
    id: 42,
  });
  // No ENVID either: the quoted Message-ID, with the failed recipient.
  const [noEnvid] = await parseReportMail(Buffer.from(postfixBounce({ ...input, envid: '' })));
  assert.deepEqual(targetOf(noEnvid!, 'postmaster@bounces.sender.test', verp), {
    kind: 'message_id',
    messageId: input.messageId,
    recipient: input.recipient,
  });
  // A forged token: nothing, even though the Message-ID would match.
  const forged = `bounces+43-${verp.token(42).slice(3)}@bounces.sender.test`;
  assert.deepEqual(targetOf(report!, forged, verp), { kind: 'none' });
  // A forged ENVID to a plain address: nothing either.
  const [badEnvid] = await parseReportMail(
    Buffer.from(postfixBounce({ ...input, envid: `42-${'a'.repeat(24)}` })),
  );
  assert.deepEqual(targetOf(badEnvid!, 'postmaster@bounces.sender.test', verp), { kind: 'none' });
});

test('the same report read twice has the same event id; another report another', async () => {
  const raw = Buffer.from(postfixBounce({ ...input, reportId: '<once@mta.test>' }));
  const [a] = await parseReportMail(raw);
  const [b] = await parseReportMail(raw);
  const target = targetOf(a!, input.to, verp);
  assert.equal(
    toIncomingReport(a!, target, '<once@mta.test>').sourceEventId,
    toIncomingReport(b!, target, '<once@mta.test>').sourceEventId,
  );
  assert.notEqual(
    toIncomingReport(a!, target, '<once@mta.test>').sourceEventId,
    toIncomingReport(a!, target, '<twice@mta.test>').sourceEventId,
  );
});

test('mail that is not a report yields nothing', async () => {
  const raw = Buffer.from('From: a@b.test\r\nSubject: hello\r\n\r\nJust mail.\r\n');
  assert.deepEqual(await parseReportMail(raw), []);
});
