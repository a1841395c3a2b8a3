import assert from 'node:assert/strict';
import { parseJson } from '../../src/bounces/providers/webhook.ts';
import { test } from 'node:test';
import { mailgunOutcome } from '../../src/bounces/providers/mailgun.ts';
import { postmarkOutcome } from '../../src/bounces/providers/postmark.ts';
import { sendgridOutcome } from '../../src/bounces/providers/sendgrid.ts';
import { sesReports } from '../../src/bounces/providers/ses.ts';
import { allowedSnsUrl, canonicalString } from '../../src/bounces/providers/sns.ts';
import { targetFor } from '../../src/bounces/providers/webhook.ts';
import {
  correlationStamps,
  stampedProviderFor,
  stampRawMessage,
} from '../../src/smtp/correlation-stamps.ts';

const NO_SET = { sesConfigurationSet: null };

test('stamps go only to the provider that echoes them, recognised from the host', () => {
  const table: [string, string[]][] = [
    ['smtp.sendgrid.net', ['X-SMTPAPI']],
    ['smtp.mailgun.org', ['X-Mailgun-Variables']],
    ['smtp.eu.mailgun.org', ['X-Mailgun-Variables']],
    ['smtp.postmarkapp.com', ['X-PM-Metadata-mailscope-id']],
    ['email-smtp.eu-west-1.amazonaws.com', ['X-SES-MESSAGE-TAGS']],
    ['email-smtp.sa-east-1.amazonaws.com', ['X-SES-MESSAGE-TAGS']],
    ['SMTP.SendGrid.net', ['X-SMTPAPI']],
    ['smtp.example.com', []],
    ['127.0.0.1', []],
    ['smtp.sendgrid.net.evil.test', []],
    ['sendgrid.net', []],
    ['email-smtp.eu-west-1.amazonaws.com.evil.test', []],
  ];
  for (const [host, names] of table) {
    const stamps = correlationStamps(host, 42, [], NO_SET);
    assert.deepEqual(
      stamps.map((s) => s.name),
      names,
      host,
    );
  }
});

test('stamp spellings and values, merged with what the message already says', () => {
  assert.deepEqual(correlationStamps('smtp.sendgrid.net', 42, [], NO_SET), [
    { name: 'X-SMTPAPI', value: '{"unique_args":{"mailscope-id":"42"}}' },
  ]);
  const own = [{ name: 'x-smtpapi', value: '{"category":["welcome"],"unique_args":{"a":"b"}}' }];
  assert.deepEqual(JSON.parse(correlationStamps('smtp.sendgrid.net', 7, own, NO_SET)[0]!.value), {
    category: ['welcome'],
    unique_args: { a: 'b', 'mailscope-id': '7' },
  });
  assert.deepEqual(correlationStamps('smtp.mailgun.org', 42, [], NO_SET), [
    { name: 'X-Mailgun-Variables', value: '{"mailscope-id":"42"}' },
  ]);
  assert.deepEqual(correlationStamps('smtp.postmarkapp.com', 42, [], NO_SET), [
    { name: 'X-PM-Metadata-mailscope-id', value: '42' },
  ]);
  assert.deepEqual(
    correlationStamps('email-smtp.us-east-1.amazonaws.com', 42, [], {
      sesConfigurationSet: 'events',
    }),
    [
      { name: 'X-SES-MESSAGE-TAGS', value: 'mailscope-id=42' },
      { name: 'X-SES-CONFIGURATION-SET', value: 'events' },
    ],
  );
  assert.equal(stampedProviderFor('smtp.mailgun.org'), 'MAILGUN');
  // The preset a configuration was made with comes first; the host only without one.
  assert.equal(stampedProviderFor('smtp.sendgrid.net', 'GENERIC'), null);
  assert.equal(stampedProviderFor('smtp.eu.mailgun.org', 'MAILGUN_EU'), 'MAILGUN');
  assert.equal(
    stampedProviderFor('email-smtp.eu-west-1.amazonaws.com', 'AMAZON_SES_EU_WEST_1'),
    'SES',
  );
  assert.equal(stampedProviderFor('smtp.postmarkapp.com', 'POSTMARK'), 'POSTMARK');
  assert.deepEqual(
    correlationStamps('smtp.sendgrid.net', 42, [], { ...NO_SET, preset: 'GENERIC' }),
    [],
  );
  // Mail submitted over SMTP goes out as it came, with the stamps in front.
  const raw = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
  assert.equal(stampRawMessage(raw, []), raw);
  assert.equal(
    Buffer.from(
      stampRawMessage(raw, correlationStamps('smtp.postmarkapp.com', 9, [], NO_SET)),
    ).toString(),
    'X-PM-Metadata-mailscope-id: 9\r\nSubject: hi\r\n\r\nbody\r\n',
  );
});

test('provider events map to outcomes as CONTRACT.md says', () => {
  const sendgrid: [Record<string, unknown>, unknown][] = [
    [{ event: 'delivered' }, { outcome: 'DELIVERED', bounceType: null }],
    [{ event: 'deferred' }, { outcome: 'DEFERRED', bounceType: null }],
    [
      { event: 'bounce', type: 'bounce' },
      { outcome: 'BOUNCED', bounceType: 'HARD' },
    ],
    [
      { event: 'bounce', type: 'blocked' },
      { outcome: 'BOUNCED', bounceType: 'SOFT' },
    ],
    [{ event: 'dropped' }, { outcome: 'BOUNCED', bounceType: 'HARD' }],
    [{ event: 'spamreport' }, { outcome: 'COMPLAINED', bounceType: null }],
    [{ event: 'open' }, null],
  ];
  for (const [event, expected] of sendgrid) assert.deepEqual(sendgridOutcome(event), expected);
  const mailgun: [Record<string, unknown>, unknown][] = [
    [{ event: 'delivered' }, { outcome: 'DELIVERED', bounceType: null }],
    [
      { event: 'failed', severity: 'temporary' },
      { outcome: 'DEFERRED', bounceType: null },
    ],
    [
      { event: 'failed', severity: 'permanent' },
      { outcome: 'BOUNCED', bounceType: 'HARD' },
    ],
    [{ event: 'complained' }, { outcome: 'COMPLAINED', bounceType: null }],
    [{ event: 'opened' }, null],
  ];
  for (const [event, expected] of mailgun) assert.deepEqual(mailgunOutcome(event), expected);
  const postmark: [Record<string, unknown>, unknown][] = [
    [{ RecordType: 'Delivery' }, { outcome: 'DELIVERED', bounceType: null }],
    ...['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated'].map(
      (Type): [Record<string, unknown>, unknown] => [
        { RecordType: 'Bounce', Type },
        { outcome: 'BOUNCED', bounceType: 'HARD' },
      ],
    ),
    ...['SoftBounce', 'Transient', 'DnsError'].map((Type): [Record<string, unknown>, unknown] => [
      { RecordType: 'Bounce', Type },
      { outcome: 'BOUNCED', bounceType: 'SOFT' },
    ]),
    [
      { RecordType: 'SpamComplaint', Type: 'SpamComplaint' },
      { outcome: 'COMPLAINED', bounceType: null },
    ],
    [{ RecordType: 'Bounce', Type: 'AutoResponder' }, null],
    [{ RecordType: 'Open' }, null],
  ];
  for (const [record, expected] of postmark) assert.deepEqual(postmarkOutcome(record), expected);
  const ses = (event: Record<string, unknown>) =>
    sesReports({ mail: { messageId: 'ses-1' }, ...event }).map((r) => [
      r.outcome,
      r.detail.bounceType,
    ]);
  const bounce = (bounceType: string, bounceSubType = 'General') => ({
    bounce: {
      bounceType,
      bounceSubType,
      feedbackId: 'f',
      bouncedRecipients: [{ emailAddress: 'a@x.test' }],
    },
  });
  assert.deepEqual(ses({ notificationType: 'Delivery', delivery: { recipients: ['a@x.test'] } }), [
    ['DELIVERED', null],
  ]);
  assert.deepEqual(
    ses({
      eventType: 'DeliveryDelay',
      deliveryDelay: { delayedRecipients: [{ emailAddress: 'a@x.test' }] },
    }),
    [['DEFERRED', null]],
  );
  assert.deepEqual(ses({ notificationType: 'Bounce', ...bounce('Permanent') }), [
    ['BOUNCED', 'HARD'],
  ]);
  assert.deepEqual(
    ses({ eventType: 'Bounce', ...bounce('Permanent', 'OnAccountSuppressionList') }),
    [['BOUNCED', 'HARD']],
  );
  assert.deepEqual(ses({ notificationType: 'Bounce', ...bounce('Transient') }), [
    ['BOUNCED', 'SOFT'],
  ]);
  assert.deepEqual(ses({ notificationType: 'Bounce', ...bounce('Undetermined') }), [
    ['BOUNCED', 'UNDETERMINED'],
  ]);
  assert.deepEqual(
    ses({
      eventType: 'Complaint',
      complaint: { feedbackId: 'c', complainedRecipients: [{ emailAddress: 'a@x.test' }] },
    }),
    [['COMPLAINED', null]],
  );
  assert.deepEqual(ses({ eventType: 'Open' }), []);
});

test('an event names its message by our stamp, else by the Message-ID it echoes', () => {
  assert.deepEqual(targetFor('42', '<m@x>', null), { kind: 'id', id: 42 });
  assert.deepEqual(targetFor(['42'], null, null), { kind: 'id', id: 42 });
  assert.deepEqual(targetFor('0', null, null), { kind: 'none' });
  assert.deepEqual(targetFor('4x', 'm@x.test', 'a@b.test'), {
    kind: 'message_id',
    messageId: '<m@x.test>',
    recipient: 'a@b.test',
  });
  assert.deepEqual(targetFor(undefined, 'not an id', null), { kind: 'none' });
});

test('SNS: certificates only from Amazon SNS hosts, or exactly the SNS_CERT_HOSTS entries', () => {
  const amazon: [string, boolean][] = [
    ['https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['https://sns.cn-north-1.amazonaws.com.cn/x.pem', true],
    ['http://sns.us-east-1.amazonaws.com/x.pem', false],
    ['https://sns.us-east-1.amazonaws.com:8443/x.pem', false],
    ['https://sns.us-east-1.amazonaws.com.evil.test/x.pem', false],
    ['https://evil.test/sns.us-east-1.amazonaws.com/x.pem', false],
    ['https://user@sns.us-east-1.amazonaws.com/x.pem', false],
    ['https://s3.amazonaws.com/x.pem', false],
    ['not a url', false],
  ];
  for (const [url, ok] of amazon) assert.equal(allowedSnsUrl(url, null) !== null, ok, url);
  assert.ok(allowedSnsUrl('https://localhost:8443/c.pem', ['localhost:8443']));
  assert.equal(allowedSnsUrl('https://localhost:8444/c.pem', ['localhost:8443']), null);
  assert.equal(
    allowedSnsUrl('https://sns.us-east-1.amazonaws.com/x.pem', ['localhost:8443']),
    null,
  );
  assert.equal(
    canonicalString({
      Type: 'Notification',
      MessageId: 'm',
      TopicArn: 't',
      Message: 'hello',
      Timestamp: 'ts',
      SignatureVersion: '1',
      Signature: '',
      SigningCertURL: '',
    }),
    'Message\nhello\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n',
  );
});

test('webhook variables: every bad one reported at once, secrets never echoed', async () => {
  const { loadConfig } = await import('../../src/config.ts');
  const checks = { smtpUriProblem: () => null };
  const bad = loadConfig(
    {
      SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5',
      POSTMARK_WEBHOOK_PASSWORD: 'pm-secret-value',
      SES_SNS_TOPIC_ARNS: 'arn:aws:sns:us-east-1:123456789012:ok,not-an-arn',
      SNS_CERT_HOSTS: 'https://sns.example.com/',
      SES_CONFIGURATION_SET: 'has space',
      PORT: 'eighty',
    },
    checks,
  );
  assert.equal(bad.ok, false);
  const problems = bad.ok ? [] : bad.problems;
  for (const name of [
    'SENDGRID_WEBHOOK_PUBLIC_KEY',
    'POSTMARK_WEBHOOK_USER',
    'SES_SNS_TOPIC_ARNS',
    'SNS_CERT_HOSTS',
    'SES_CONFIGURATION_SET',
    'PORT',
  ]) {
    assert.ok(
      problems.some((p) => p.startsWith(`${name}:`)),
      `${name} in ${problems.join('\n')}`,
    );
  }
  assert.doesNotMatch(problems.join('\n'), /pm-secret-value/);

  const { publicKey } = (await import('node:crypto')).generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
  });
  const good = loadConfig(
    {
      SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey
        .export({ type: 'spki', format: 'der' })
        .toString('base64'),
      MAILGUN_WEBHOOK_SIGNING_KEY: 'key-abc',
      POSTMARK_WEBHOOK_USER: 'pm',
      POSTMARK_WEBHOOK_PASSWORD: 'pw',
      SES_SNS_TOPIC_ARNS:
        'arn:aws:sns:us-east-1:123456789012:a, arn:aws-cn:sns:cn-north-1:123456789012:b',
      SNS_CERT_HOSTS: 'SNS.Example.com:8443,localhost',
      SES_CONFIGURATION_SET: 'events_1',
    },
    checks,
  );
  assert.ok(good.ok, good.ok ? '' : good.problems.join('\n'));
  assert.deepEqual(good.config.webhooks.sesTopicArns, [
    'arn:aws:sns:us-east-1:123456789012:a',
    'arn:aws-cn:sns:cn-north-1:123456789012:b',
  ]);
  assert.deepEqual(good.config.webhooks.snsCertHosts, ['sns.example.com:8443', 'localhost']);
  assert.deepEqual(good.config.webhooks.postmark, { user: 'pm', password: 'pw' });
  const off = loadConfig({}, checks);
  assert.ok(off.ok);
  assert.deepEqual(off.config.webhooks, {
    sendgridPublicKey: null,
    mailgunSigningKey: null,
    postmark: null,
    sesTopicArns: null,
    snsCertHosts: null,
    sesConfigurationSet: null,
  });
});

test('event ids past 2^53 are read as written, not rounded into one another', () => {
  const read = (json: string) => {
    const parsed = parseJson(Buffer.from(json));
    assert.ok(parsed.ok);
    return parsed.value as Record<string, unknown>;
  };
  assert.equal(read('{"ID":9007199254740993}')['ID'], '9007199254740993');
  assert.equal(read('{"ID":9007199254740992}')['ID'], '9007199254740992');
  // Strings, short numbers, decimals and exponents stay as they were.
  assert.deepEqual(read('{"a":"x: 12345678901234567,","t":1700000000,"f":1.5e3,"q":"\\"1"}'), {
    a: 'x: 12345678901234567,',
    t: 1700000000,
    f: 1500,
    q: '"1',
  });
});
