import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SmtpEndpoint } from '../../src/smtp/endpoint.ts';
import {
  SMTP_PROVIDERS,
  buildProviderUri,
  getSmtpProvider,
  type ProviderUriResult,
} from '../../src/smtp/providers.ts';
import { parseSmtpUri } from '../../src/smtp/uri.ts';

type Credentials = Parameters<typeof buildProviderUri>[1];

/** Builds, asserts success, and parses the URI back. */
function build(providerId: string, credentials: Credentials): SmtpEndpoint {
  const result = buildProviderUri(providerId, credentials);
  assert.ok(result.ok, JSON.stringify(result));
  const parsed = parseSmtpUri(result.connectionUri);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.endpoint;
}

function starttls(host: string, port: number, username: string, password: string): SmtpEndpoint {
  return {
    scheme: 'smtp',
    host,
    port,
    username,
    password,
    security: 'starttls',
    verifyCertificate: true,
    serverName: null,
  };
}

function implicitTls(host: string, port: number, username: string, password: string): SmtpEndpoint {
  return { ...starttls(host, port, username, password), scheme: 'smtps', security: 'implicit-tls' };
}

test('preset ids are GraphQL-enum friendly and unique', () => {
  const ids = SMTP_PROVIDERS.map((p) => p.id);
  for (const id of ids) assert.match(id, /^[A-Z][A-Z0-9_]*$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(new Set(SMTP_PROVIDERS.map((p) => p.name)).size, ids.length, 'names are unique');
});

test('presets describe themselves without inventing URLs', () => {
  for (const p of SMTP_PROVIDERS) {
    for (const text of [p.name, p.usernameRule, p.passwordRule, p.documentationNote]) {
      assert.notEqual(text.trim(), '', p.id);
      assert.doesNotMatch(text, /https?:|www\.|\.com\//, p.id);
    }
    assert.equal(p.fixedUsername === null, p.id !== 'SENDGRID', p.id);
    assert.equal(p.host === null, p.id === 'GENERIC', p.id);
    assert.ok(Object.isFrozen(p), p.id);
  }
  assert.ok(Object.isFrozen(SMTP_PROVIDERS));
  assert.equal(getSmtpProvider('POSTMARK')?.host, 'smtp.postmarkapp.com');
  assert.equal(getSmtpProvider('postmark'), undefined);
});

// Every preset, with the user name it needs; a new preset without a row fails the coverage check.
const presets: Record<string, { host: string; username: string | null }> = {
  SENDGRID: { host: 'smtp.sendgrid.net', username: null },
  MAILGUN_US: { host: 'smtp.mailgun.org', username: 'postmaster@mg.example.com' },
  MAILGUN_EU: { host: 'smtp.eu.mailgun.org', username: 'postmaster@mg.example.com' },
  POSTMARK: { host: 'smtp.postmarkapp.com', username: null },
  GENERIC: { host: 'mail.example.com', username: 'mailer' },
  ...Object.fromEntries(
    [
      'us-east-1',
      'us-east-2',
      'us-west-2',
      'ca-central-1',
      'eu-west-1',
      'eu-west-2',
      'eu-central-1',
      'ap-south-1',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-northeast-1',
    ].map((region) => [
      `AMAZON_SES_${region.toUpperCase().replaceAll('-', '_')}`,
      { host: `email-smtp.${region}.amazonaws.com`, username: 'AKIAEXAMPLEEXAMPLE12' },
    ]),
  ),
};

test('every preset builds a STARTTLS URI on port 587 that parses back', async (t) => {
  assert.deepEqual(SMTP_PROVIDERS.map((p) => p.id).sort(), Object.keys(presets).sort());
  for (const preset of SMTP_PROVIDERS) {
    await t.test(preset.id, () => {
      const row = presets[preset.id];
      assert.ok(row);
      assert.equal(preset.host ?? row.host, row.host);
      assert.equal(preset.port, 587);
      assert.equal(preset.security, 'starttls');
      const password = 'p@ss/w:rd';
      const endpoint = build(preset.id, {
        username: row.username,
        password,
        host: preset.host === null ? row.host : null,
      });
      // SendGrid's fixed "apikey" and Postmark's token-as-user-name are filled in.
      const username = row.username ?? (preset.id === 'SENDGRID' ? 'apikey' : password);
      assert.deepEqual(endpoint, starttls(row.host, 587, username, password));
    });
  }
});

test('the canonical URI is exactly what configureSmtp would store', () => {
  const cases: Array<[id: string, credentials: Credentials, uri: string]> = [
    [
      'SENDGRID',
      { password: 'SG.abc/def+ghi=' },
      'smtp://apikey:SG.abc%2Fdef%2Bghi%3D@smtp.sendgrid.net:587/',
    ],
    [
      'MAILGUN_EU',
      { username: 'postmaster@mg.example.com', password: 'k3y' },
      'smtp://postmaster%40mg.example.com:k3y@smtp.eu.mailgun.org:587/',
    ],
    ['POSTMARK', { password: 'tok-en' }, 'smtp://tok-en:tok-en@smtp.postmarkapp.com:587/'],
    [
      'GENERIC',
      { username: 'u', password: 'p', host: 'smtp.example.com', port: 465 },
      'smtps://u:p@smtp.example.com:465/',
    ],
  ];
  for (const [id, credentials, uri] of cases) {
    assert.deepEqual(buildProviderUri(id, credentials), { ok: true, connectionUri: uri });
  }
});

test('credentials with URI-special and non-ASCII characters round-trip exactly', async (t) => {
  const secrets = [
    'SG.abc/def+ghi=',
    'postmaster@mg.example.com',
    'a:b@c/d?e#f%g',
    '100%25 literal',
    'with inner spaces',
    "!*'()~-_.",
    'pässwörd-日本語-🔑',
    '%41%',
    'a&b=c;d,e[f]g',
    'tab\tinside',
  ];
  for (const secret of secrets) {
    await t.test(JSON.stringify(secret), () => {
      assert.deepEqual(
        build('GENERIC', { username: secret, password: secret, host: 'mail.example.com' }),
        starttls('mail.example.com', 587, secret, secret),
      );
      assert.equal(build('SENDGRID', { password: secret }).password, secret);
      assert.deepEqual(build('POSTMARK', { password: secret }).username, secret);
    });
  }
  const mailgun = build('MAILGUN_US', { username: 'postmaster@mg.example.com', password: 'x/y' });
  assert.equal(mailgun.username, 'postmaster@mg.example.com');
});

test('user name defaults, port overrides and host spellings', () => {
  const cases: Array<[id: string, credentials: Credentials, expected: SmtpEndpoint]> = [
    [
      'SENDGRID',
      { username: 'apikey', password: 'k' },
      starttls('smtp.sendgrid.net', 587, 'apikey', 'k'),
    ],
    [
      'SENDGRID',
      { username: '', password: 'k' },
      starttls('smtp.sendgrid.net', 587, 'apikey', 'k'),
    ],
    [
      'SENDGRID',
      { username: null, password: 'k', port: 2525 },
      starttls('smtp.sendgrid.net', 2525, 'apikey', 'k'),
    ],
    [
      'SENDGRID',
      { password: 'k', port: 465 },
      implicitTls('smtp.sendgrid.net', 465, 'apikey', 'k'),
    ],
    [
      'POSTMARK',
      { username: 'access', password: 'secret' },
      starttls('smtp.postmarkapp.com', 587, 'access', 'secret'),
    ],
    [
      'MAILGUN_US',
      { username: 'a@b.example', password: 'k', host: 'SMTP.Mailgun.org' },
      starttls('smtp.mailgun.org', 587, 'a@b.example', 'k'),
    ],
    [
      'AMAZON_SES_EU_WEST_1',
      { username: 'U', password: 'k', port: 2465 },
      implicitTls('email-smtp.eu-west-1.amazonaws.com', 2465, 'U', 'k'),
    ],
    [
      'AMAZON_SES_EU_WEST_1',
      { username: 'U', password: 'k', port: 2587 },
      starttls('email-smtp.eu-west-1.amazonaws.com', 2587, 'U', 'k'),
    ],
    [
      'GENERIC',
      { username: 'u', password: 'p', host: 'Mail.Example.COM', port: 25 },
      starttls('mail.example.com', 25, 'u', 'p'),
    ],
    [
      'GENERIC',
      { username: 'u', password: 'p', host: 'mail.example.com', port: 2465 },
      starttls('mail.example.com', 2465, 'u', 'p'),
    ],
    [
      'GENERIC',
      { username: 'u', password: 'p', host: '10.0.0.5', port: 465 },
      implicitTls('10.0.0.5', 465, 'u', 'p'),
    ],
    [
      'GENERIC',
      { username: 'u', password: 'p', host: '2001:DB8::1' },
      starttls('2001:db8::1', 587, 'u', 'p'),
    ],
    ['GENERIC', { username: 'u', password: 'p', host: '[::1]' }, starttls('::1', 587, 'u', 'p')],
  ];
  for (const [id, credentials, expected] of cases) {
    assert.deepEqual(build(id, credentials), expected, `${id} ${JSON.stringify(credentials)}`);
  }
});

const PASSWORD = 'Sup3r/Secret@Key';
const generic = { username: 'mailer', password: PASSWORD, host: 'mail.example.com' };

const invalid: Array<{
  id: string;
  credentials: Credentials;
  problems: Array<[field: string, problem: RegExp]>;
}> = [
  {
    id: 'MAILJET',
    credentials: { password: PASSWORD },
    problems: [['provider', /unknown provider; use one of SENDGRID, .*GENERIC/]],
  },
  {
    id: 'sendgrid',
    credentials: { password: PASSWORD },
    problems: [['provider', /unknown provider/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: '' },
    problems: [['password', /password is required: a SendGrid API key/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: null as unknown as string },
    problems: [['password', /password is required/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: ` ${PASSWORD}` },
    problems: [['password', /leading or trailing whitespace/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: `${PASSWORD}\n` },
    problems: [['password', /leading or trailing whitespace/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: `${PASSWORD}\uD800` },
    problems: [['password', /not valid Unicode/]],
  },
  {
    id: 'SENDGRID',
    credentials: { username: 'me@example.com', password: PASSWORD },
    problems: [['username', /literal word "apikey": leave it empty/]],
  },
  {
    id: 'SENDGRID',
    credentials: { username: 'SG.secret-key-in-the-wrong-field', password: PASSWORD },
    problems: [['username', /"apikey"/]],
  },
  {
    id: 'SENDGRID',
    credentials: { username: 'APIKEY', password: PASSWORD },
    problems: [['username', /"apikey"/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: PASSWORD, host: 'smtp.sendgrid.com' },
    problems: [['host', /SendGrid always uses smtp\.sendgrid\.net.*GENERIC/]],
  },
  {
    id: 'MAILGUN_EU',
    credentials: { password: PASSWORD },
    problems: [['username', /user name is required: the full SMTP login/]],
  },
  {
    id: 'MAILGUN_US',
    credentials: { username: 'mailer-login', password: PASSWORD },
    problems: [['username', /full SMTP login, e\.g\. postmaster@mg/]],
  },
  {
    id: 'MAILGUN_US',
    credentials: { username: 'a@b.example', password: PASSWORD, host: 'smtp.eu.mailgun.org' },
    problems: [['host', /smtp\.mailgun\.org/]],
  },
  {
    id: 'AMAZON_SES_US_EAST_1',
    credentials: { username: null, password: PASSWORD },
    problems: [['username', /user name is required: the SMTP user name of an SES SMTP credential/]],
  },
  {
    id: 'AMAZON_SES_US_EAST_1',
    credentials: { username: 'AKIA\uDC00', password: PASSWORD },
    problems: [['username', /not valid Unicode/]],
  },
  {
    id: 'AMAZON_SES_US_EAST_1',
    credentials: { username: 'AKIA ', password: PASSWORD },
    problems: [['username', /whitespace/]],
  },
  {
    id: 'POSTMARK',
    credentials: { password: '' },
    problems: [['password', /password is required: your Server API token/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: null },
    problems: [['host', /host is required for GENERIC/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: '' },
    problems: [['host', /host is required/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: ' mail.example.com' },
    problems: [['host', /whitespace/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'smtp://mail.example.com' },
    problems: [['host', /without a scheme/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'mail.example.com:2525' },
    problems: [['host', /port in input\.port/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: '[::1]:25' },
    problems: [['host', /port in input\.port/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'fe80::1%25eth0' },
    problems: [['host', /not a valid IPv6/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'evil.example/?skip_ssl_verify=true' },
    problems: [['host', /only letters, digits/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'user@mail.example.com' },
    problems: [['host', /only letters, digits/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: 'mail..example.com' },
    problems: [['host', /host is not a valid host name/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: '-mail.example.com' },
    problems: [['host', /host is not a valid host name/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, host: '999.1.1.1' },
    problems: [['host', /not a valid IPv4/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, username: '' },
    problems: [['username', /user name is required/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, port: 0 },
    problems: [['port', /port 0 is out of range 1-65535/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, port: 65536 },
    problems: [['port', /out of range/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, port: 58.7 },
    problems: [['port', /whole number/]],
  },
  {
    id: 'SENDGRID',
    credentials: { password: PASSWORD, port: -1 },
    problems: [['port', /out of range/]],
  },
  {
    id: 'GENERIC',
    credentials: { ...generic, password: PASSWORD.repeat(200) },
    problems: [['', /longer than 2048 characters/]],
  },
  // Every problem at once, in field order.
  {
    id: 'GENERIC',
    credentials: { username: null, password: '', host: null, port: 70000 },
    problems: [
      ['host', /host is required/],
      ['port', /out of range/],
      ['password', /password is required/],
      ['username', /user name is required/],
    ],
  },
];

test('bad input is rejected with problems that name the field and never the secrets', async (t) => {
  for (const { id, credentials, problems } of invalid) {
    await t.test(`${id} ${JSON.stringify(credentials).slice(0, 80)}`, () => {
      const result: ProviderUriResult = buildProviderUri(id, credentials);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(
        result.problems.map((p) => p.field),
        problems.map(([field]) => field),
      );
      result.problems.forEach(({ problem }, i) => {
        assert.match(problem, problems[i]?.[1] ?? /^$/);
        assert.ok(!problem.includes(PASSWORD.slice(0, 8)), problem);
        for (const secret of [credentials.username, credentials.host]) {
          if (secret && secret.length > 3) {
            assert.ok(!problem.includes(secret.trim()), `${problem} repeats ${secret}`);
          }
        }
      });
    });
  }
});
