import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer';
import MimeNode from 'nodemailer/lib/mime-node';
import { composeMessage, mailOptions } from '../../src/smtp/compose.ts';
import type { OutgoingMail } from '../../src/smtp/transport.ts';

function mail(overrides: Partial<OutgoingMail>): OutgoingMail {
  return {
    from: { address: 'sender@example.test', name: null },
    to: 'rcpt@example.test',
    subject: 'Hello',
    text: null,
    html: null,
    headers: [],
    messageId: '<m1.abc@example.test>',
    ...overrides,
  };
}

/**
 * Which way composeMessage is expected to build the case: joined here ('joined') or by
 * nodemailer's stream ('stream'). Checked so that the corpus keeps covering both.
 */
type Path = 'joined' | 'stream';

const longQpLine = 'x'.repeat(70_000);

/** Mostly ASCII text (so quoted-printable, not base64) of exactly `bytes` UTF-8 bytes. */
function qpText(bytes: number): string {
  const line = `Grüße ${'z'.repeat(90)}\r\n`; // 99 bytes, over 76: QP wraps it
  const text = line.repeat(Math.floor(bytes / Buffer.byteLength(line)));
  return text + 'q'.repeat(bytes - Buffer.byteLength(text));
}
const corpus: [string, Path, OutgoingMail][] = [
  ['text only, CRLF', 'joined', mail({ text: 'Hello,\r\nsecond line\r\n\r\n-- \r\nme\r\n' })],
  ['text only, bare LF', 'joined', mail({ text: 'Hello,\nsecond line\n\nlast' })],
  [
    'html only with a 200-char line (QP)',
    'joined',
    mail({ html: `<p>${'lorem ipsum '.repeat(16)}</p>\n<p>${'a'.repeat(200)}</p>` }),
  ],
  [
    'text and html (multipart/alternative)',
    'joined',
    mail({ text: 'Plain body\r\n', html: '<p>HTML <b>body</b></p>' }),
  ],
  [
    'non-ASCII text, subject and from name',
    'joined',
    mail({
      from: { address: 'zoe@example.test', name: 'Zoë Ångström' },
      subject: 'Grüße aus Köln – ça va ?',
      text: 'Grüße,\r\nder Preis beträgt 5 €.\r\nBis bald!',
      html: '<p>Grüße, <i>café</i> – naïve</p>',
    }),
  ],
  ['ASCII text ending in a space', 'joined', mail({ text: 'ends with a space ' })],
  ['non-ASCII text ending in a space (QP)', 'stream', mail({ text: 'Prix : 5 €, merci ' })],
  [
    'CJK text (base64)',
    'stream',
    mail({
      subject: '会議のお知らせ',
      from: { address: 'tanaka@example.test', name: '田中 太郎' },
      text: 'こんにちは。\r\n明日の会議は十時からです。\r\n'.repeat(5),
    }),
  ],
  ['a 70,000-char ASCII line (over one QP pass)', 'stream', mail({ text: longQpLine })],
  [
    'QP text with "=", tabs, a lone CR and whitespace before line ends',
    'joined',
    mail({
      text: `a=b\tc \r\ncafé\t\r\nlone\rcr and lone\nlf \n${'é'.repeat(3)}${'y'.repeat(73)}=\r\nend`,
    }),
  ],
  ['QP text of exactly one pass (65,536 bytes)', 'joined', mail({ text: qpText(65_536) })],
  ['QP text one byte over one pass', 'stream', mail({ text: qpText(65_537) })],
  ['QP text ending in a tab', 'stream', mail({ text: 'naïve\t' })],
  ['empty text', 'joined', mail({ text: '' })],
  ['no text and no html', 'joined', mail({})],
  [
    'lines starting with a dot',
    'joined',
    mail({ text: '.\r\n.hidden\r\n..two dots\r\nplain\r\n.', html: '<p>x</p>\n.\n.y' }),
  ],
  [
    'custom headers: a duplicate in another case, a long folded value',
    'joined',
    mail({
      text: 'Headers',
      headers: [
        { name: 'X-Campaign', value: 'first' },
        { name: 'List-Unsubscribe', value: '<mailto:unsubscribe@example.test?subject=stop>' },
        { name: 'x-campaign', value: 'second' },
        {
          name: 'X-Long',
          value: Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '),
        },
        { name: 'X-Unicode', value: 'Grüße' },
      ],
    }),
  ],
];

/** The parts that differ from one build to the next. */
function masked(raw: Buffer): string {
  return raw
    .toString('utf8')
    .replace(/^Date: .*\r\n/m, 'Date: <masked>\r\n')
    .replace(/--_NmP-[0-9a-f]+-Part_(\d+)/g, '--_NmP-<masked>-Part_$1');
}

/** Counts nodemailer stream builds while `run` runs. */
async function countingBuilds<T>(run: () => Promise<T>): Promise<[T, number]> {
  const prototype = MimeNode.prototype as unknown as { build: (...args: unknown[]) => unknown };
  const original = prototype.build;
  let builds = 0;
  prototype.build = function (this: unknown, ...args: unknown[]) {
    builds++;
    return original.apply(this, args);
  };
  try {
    return [await run(), builds];
  } finally {
    prototype.build = original;
  }
}

describe('composeMessage', () => {
  test('the masks find what changes between builds', async () => {
    const options = mailOptions(mail({ text: 'a', html: '<p>a</p>' }));
    const raw = await new MailComposer(options).compile().build();
    const text = masked(raw);
    assert.match(text, /^Date: <masked>\r\n/m);
    assert.match(text, /boundary="--_NmP-<masked>-Part_1"/);
    assert.doesNotMatch(text, /_NmP-[0-9a-f]/);
  });

  for (const [name, , input] of corpus) {
    test(`same bytes as nodemailer: ${name}`, async () => {
      const composed = await composeMessage(input);
      const expected = await new MailComposer(mailOptions(input)).compile().build();
      assert.equal(masked(composed.raw), masked(expected));
      assert.equal(composed.raw.length, expected.length);
      assert.ok(composed.raw.subarray(-2).equals(Buffer.from('\r\n')), 'raw ends with CRLF');
      assert.deepEqual(composed.envelope, { from: input.from.address, to: [input.to] });
    });
  }

  // Without this the comparisons above could all be of nodemailer's stream with itself.
  test('the corpus goes both ways: joined here, and through nodemailer’s stream', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [name, path, input] of corpus) {
      const [, builds] = await countingBuilds(() => composeMessage(input));
      got.push(`${name}: ${builds > 0 ? 'stream' : 'joined'}`);
      want.push(`${name}: ${path}`);
    }
    assert.deepEqual(got, want);
  });

  test('a later header replaces an earlier one of the same name, whatever its case', async () => {
    const [, , input] = corpus.find(([name]) => name.startsWith('custom headers'))!;
    const raw = (await composeMessage(input)).raw.toString('utf8');
    assert.doesNotMatch(raw, /^X-Campaign: first/im);
    assert.match(raw, /^X-Campaign: second\r\n/im);
    // The long value is folded, every line within 78 characters.
    const header = /^X-Long: .*(?:\r\n[ \t].*)*/m.exec(raw)?.[0] ?? '';
    assert.ok(header.includes('\r\n '), 'folded');
    for (const line of header.split('\r\n')) assert.ok(line.length <= 78, line);
    assert.match(header.replace(/\r\n /g, ' '), /word0 .* word39$/);
  });
});

describe('composeMessage, the template for plain messages', () => {
  const names = [null, '', 'Mail Scope', 'A', 'Ann Lee 2', 'Müller', 'Acme, Inc.', 'a  b', ' x'];
  const addresses = [
    'a@b.c',
    'first.last+tag@sub.example.com',
    'x_y%z-1@host-1.example',
    'A@Example.COM',
    'ü@example.com',
    'a@[127.0.0.1]',
  ];
  const subjects = [
    'Hi',
    // "Subject: " and 66 characters is 75, the longest line nodemailer does not fold.
    's'.repeat(66),
    's'.repeat(67),
    'word '.repeat(13) + 'end',
    'word '.repeat(14) + 'end',
    'ends with a space ',
    ' starts with one',
    '',
    'a=b?c "quoted" (parens) <angles> ;:,',
    "a=b?c (parens) <angles> ;:, %s 'single' [x] {y} \\ | ~ `",
    '=?utf-8?B?aGk=?=',
    'tab\there',
    'Grüße',
  ];
  const bodies = [
    'Line 1\nLine 2',
    'a\r\nb\r\n',
    'ends with CR\r',
    '.leading dot\n.\n',
    'x'.repeat(76),
    'x'.repeat(77),
    `${'x'.repeat(76)}\r${'y'.repeat(76)}\n${'z'.repeat(76)}`,
    `${'x'.repeat(76)}\r\n${'y'.repeat(77)}`,
    `tab\t${'x'.repeat(72)}`,
    'ünïcode',
    ' ',
  ];
  const cases: OutgoingMail[] = [];
  for (const name of names) cases.push(mail({ from: { address: 'a@b.c', name }, text: 'hi' }));
  for (const address of addresses) {
    cases.push(mail({ from: { address, name: 'Sender' }, text: 'hi' }));
    cases.push(mail({ to: address, text: 'hi' }));
  }
  for (const subject of subjects) cases.push(mail({ subject, text: 'hi' }));
  for (const body of bodies) {
    cases.push(mail({ text: body }));
    cases.push(mail({ html: body }));
  }
  cases.push(mail({ text: 'hi', html: '<p>hi</p>' }));
  cases.push(mail({ text: 'hi', headers: [{ name: 'X-Tag', value: 'a' }] }));
  cases.push(mail({ text: 'hi', messageId: `<${'m'.repeat(70)}@x>` }));

  test('gives nodemailer’s bytes, and is used for the plain ones', async () => {
    const prototype = MailComposer.prototype as unknown as { compile: () => unknown };
    const original = prototype.compile;
    let compiled = 0;
    prototype.compile = function (this: unknown) {
      compiled++;
      return original.call(this);
    };
    let templated = 0;
    try {
      for (const input of cases) {
        const before = compiled;
        const composed = await composeMessage(input);
        if (compiled === before) templated++;
        const expected = await original.call(new MailComposer(mailOptions(input)));
        const bytes = await (expected as MimeNode).build();
        assert.equal(masked(composed.raw), masked(bytes), JSON.stringify(input));
        const envelope = (expected as MimeNode).getEnvelope();
        assert.deepEqual(composed.envelope, { from: envelope.from, to: envelope.to });
      }
    } finally {
      prototype.compile = original;
    }
    // The plain ones: most names, addresses, subjects and bodies above.
    assert.ok(templated >= 20, `only ${templated} of ${cases.length} went by the template`);
    assert.ok(templated < cases.length - 15, 'the near misses went to MailComposer');
  });
});
