import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SmtpEndpoint } from '../../src/smtp/endpoint.ts';
import { formatSmtpUri, parseSmtpUri, redactUriPassword } from '../../src/smtp/uri.ts';

/** Fills in the defaults of a plain `smtp://host` so each row states only what it is about. */
function endpoint(overrides: Partial<SmtpEndpoint>): SmtpEndpoint {
  return {
    scheme: 'smtp',
    host: 'mail.example.com',
    port: 587,
    username: null,
    password: null,
    security: 'starttls',
    verifyCertificate: true,
    serverName: null,
    ...overrides,
  };
}

const creds = { username: 'user', password: 's3cret' };

const valid: Array<[uri: string, expected: SmtpEndpoint]> = [
  // The six forms of the contract's table, in its order.
  ['smtp://user:s3cret@mail.example.com:2525/', endpoint({ ...creds, port: 2525 })],
  [
    'smtp://user:s3cret@mail.example.com:2525/?skip_ssl_verify=true',
    endpoint({ ...creds, port: 2525, verifyCertificate: false }),
  ],
  [
    'smtp://user:s3cret@mail.example.com:25/?disable_starttls=true',
    endpoint({ ...creds, port: 25, security: 'cleartext' }),
  ],
  [
    'smtps://user:s3cret@mail.example.com:4650/',
    endpoint({ ...creds, scheme: 'smtps', port: 4650, security: 'implicit-tls' }),
  ],
  [
    'smtps://user:s3cret@mail.example.com:4650/?skip_ssl_verify=true',
    endpoint({
      ...creds,
      scheme: 'smtps',
      port: 4650,
      security: 'implicit-tls',
      verifyCertificate: false,
    }),
  ],
  [
    'smtps://user:s3cret@10.0.0.5:4650/?server_name=Mail.Example.COM',
    endpoint({
      ...creds,
      scheme: 'smtps',
      host: '10.0.0.5',
      port: 4650,
      security: 'implicit-tls',
      serverName: 'mail.example.com',
    }),
  ],
  // server_name works with smtp:// too, and alongside skip_ssl_verify in either order.
  [
    'smtp://10.0.0.5/?server_name=mail.example.com',
    endpoint({ host: '10.0.0.5', serverName: 'mail.example.com' }),
  ],
  [
    'smtp://10.0.0.5/?server_name=mx&skip_ssl_verify=true',
    endpoint({ host: '10.0.0.5', serverName: 'mx', verifyCertificate: false }),
  ],
  // Default ports, optional "/", no credentials.
  ['smtp://mail.example.com', endpoint({})],
  ['smtp://mail.example.com/', endpoint({})],
  ['smtps://mail.example.com', endpoint({ scheme: 'smtps', port: 465, security: 'implicit-tls' })],
  ['SMTP://Mail.Example.COM', endpoint({})],
  ['SmTpS://mail.example.com', endpoint({ scheme: 'smtps', port: 465, security: 'implicit-tls' })],
  ['smtp://mail.example.com:1', endpoint({ port: 1 })],
  ['smtp://mail.example.com:65535', endpoint({ port: 65535 })],
  ['smtp://mail.example.com:0587', endpoint({ port: 587 })],
  ['smtp://mail.example.com/?', endpoint({})],
  ['smtp://my_relay.internal-net.local', endpoint({ host: 'my_relay.internal-net.local' })],
  ['smtp://localhost:1025', endpoint({ host: 'localhost', port: 1025 })],
  ['smtp://127.0.0.1:1025', endpoint({ host: '127.0.0.1', port: 1025 })],
  // IPv6: stored without brackets, lowercased.
  ['smtp://[::1]:2525', endpoint({ host: '::1', port: 2525 })],
  [
    'smtps://[2001:DB8::1]',
    endpoint({ scheme: 'smtps', host: '2001:db8::1', port: 465, security: 'implicit-tls' }),
  ],
  // "=false" means the default.
  ['smtp://mail.example.com/?skip_ssl_verify=false', endpoint({})],
  ['smtp://mail.example.com/?disable_starttls=false', endpoint({})],
  [
    'smtp://mail.example.com/?disable_starttls=false&skip_ssl_verify=true',
    endpoint({ verifyCertificate: false }),
  ],
  // Credentials: user only; encoded; raw ":" in the password; unicode; sub-delims left raw.
  ['smtp://user@mail.example.com', endpoint({ username: 'user' })],
  [
    'smtp://me%40example.com:p%2Fa%3As%40s%25w%23d%3F@mail.example.com',
    endpoint({ username: 'me@example.com', password: 'p/a:s@s%w#d?' }),
  ],
  ['smtp://u:a:b:c@mail.example.com', endpoint({ username: 'u', password: 'a:b:c' })],
  [
    'smtp://J%C3%BCrgen:%F0%9F%94%91@mail.example.com',
    endpoint({ username: 'Jürgen', password: '🔑' }),
  ],
  ["smtp://u:!$&'()*+,;=~@mail.example.com", endpoint({ username: 'u', password: "!$&'()*+,;=~" })],
  ['smtp://u:%2a%2A@mail.example.com', endpoint({ username: 'u', password: '**' })],
];

test('parseSmtpUri accepts every documented form', async (t) => {
  for (const [uri, expected] of valid) {
    await t.test(uri, () => {
      assert.deepEqual(parseSmtpUri(uri), { ok: true, endpoint: expected });
    });
  }
});

// `secret` is the password (or the part of the input that is plainly one); it must never show up.
const invalid: Array<{ uri: string; problem: RegExp; secret?: string }> = [
  // Scheme.
  {
    uri: 'http://user:s3cret@host',
    problem: /unsupported scheme "http": use smtp/,
    secret: 's3cret',
  },
  { uri: 'smtp+starttls://host', problem: /unsupported scheme "smtp\+starttls"/ },
  { uri: 'submission://host', problem: /unsupported scheme "submission"/ },
  { uri: 'mail.example.com:587', problem: /missing scheme/ },
  { uri: 'user:s3cret@mail.example.com', problem: /missing scheme/, secret: 's3cret' },
  { uri: '//user:s3cret@host', problem: /missing scheme/, secret: 's3cret' },
  { uri: 'smtp:user:s3cret@host', problem: /followed by "\/\/"/, secret: 's3cret' },
  { uri: '', problem: /empty/ },
  // Host.
  { uri: 'smtp://', problem: /missing host/ },
  { uri: 'smtp:///', problem: /missing host/ },
  { uri: 'smtp://:25', problem: /missing host/ },
  { uri: 'smtp://user:s3cret@', problem: /missing host/, secret: 's3cret' },
  { uri: 'smtp://user:s3cret@:25/', problem: /missing host/, secret: 's3cret' },
  { uri: 'smtp://user:s3cret@/?skip_ssl_verify=true', problem: /missing host/, secret: 's3cret' },
  { uri: 'smtp://mail example.com', problem: /host may contain only letters/ },
  { uri: 'smtp://exa%6Dple.com', problem: /host may contain only letters/ },
  { uri: 'smtp://mäil.example.com', problem: /xn--/ },
  { uri: 'smtp://host\\evil.com', problem: /host may contain only letters/ },
  { uri: 'smtp://bad..example.com', problem: /host is not a valid host name/ },
  { uri: 'smtp://example.com.', problem: /host is not a valid host name/ },
  { uri: 'smtp://-bad.example.com', problem: /host is not a valid host name/ },
  { uri: `smtp://${'a'.repeat(64)}.com`, problem: /host is not a valid host name/ },
  { uri: 'smtp://999.1.1.1', problem: /host is not a valid IPv4 address/ },
  { uri: 'smtp://::1', problem: /IPv6 addresses must be in brackets/ },
  { uri: 'smtp://[::1', problem: /missing its closing "\]"/ },
  { uri: 'smtp://[::1]x', problem: /unexpected text after the IPv6 address/ },
  { uri: 'smtp://[not:an:ip]', problem: /not a valid IPv6 address/ },
  { uri: 'smtp://[]:25', problem: /not a valid IPv6 address/ },
  { uri: 'smtp://[fe80::1%25eth0]:25', problem: /not a valid IPv6 address/ },
  // Port.
  { uri: 'smtp://host:', problem: /port is empty/ },
  { uri: 'smtp://user:s3cret@host:/', problem: /port is empty/, secret: 's3cret' },
  {
    uri: 'smtp://user:s3cret@host:0',
    problem: /port "0" is out of range 1-65535/,
    secret: 's3cret',
  },
  {
    uri: 'smtp://user:s3cret@host:99999',
    problem: /port "99999" is out of range 1-65535/,
    secret: 's3cret',
  },
  { uri: 'smtp://host:99999', problem: /port is out of range 1-65535/ },
  {
    uri: 'smtp://user:s3cret@host:abc',
    problem: /port "abc" is not a decimal number/,
    secret: 's3cret',
  },
  { uri: 'smtp://host:-25', problem: /port is not a decimal number/ },
  { uri: 'smtp://host:+25', problem: /port is not a decimal number/ },
  { uri: 'smtp://host:0x19', problem: /port is not a decimal number/ },
  { uri: 'smtp://[::1]:', problem: /port is empty/ },
  { uri: 'smtp://[::1]:70000', problem: /port is out of range/ },
  // The host was forgotten, so the password sits where the port goes: it must not be echoed.
  { uri: 'smtp://user:s3cret', problem: /port is not a decimal number/, secret: 's3cret' },
  { uri: 'smtp://user:123456', problem: /port is out of range/, secret: '123456' },
  // Userinfo.
  { uri: 'smtp://:s3cret@host', problem: /password given without a user name/, secret: 's3cret' },
  { uri: 'smtp://@host', problem: /empty user name/ },
  { uri: 'smtp://user:@host', problem: /empty password/ },
  { uri: 'smtp://u:p@ss@host', problem: /unencoded "@": encode it as %40/, secret: 'p@ss' },
  { uri: 'smtp://u@v:s3cret@host', problem: /encode it as %40/, secret: 's3cret' },
  { uri: 'smtp://u:pa/ss@host', problem: /percent-encode "\/", "\?" and "#"/, secret: 'pa/ss' },
  { uri: 'smtp://u:pa?ss@host', problem: /percent-encode/, secret: 'pa?ss' },
  { uri: 'smtp://u:pa#ss@host', problem: /percent-encode/, secret: 'pa#ss' },
  {
    uri: 'smtp://u:s3cr%zzet@host',
    problem: /^password is not valid percent-encoding/,
    secret: 's3cr',
  },
  {
    uri: 'smtp://u:s3cret%4@host',
    problem: /^password is not valid percent-encoding/,
    secret: 's3cret',
  },
  {
    uri: 'smtp://u:s3cret%@host',
    problem: /^password is not valid percent-encoding/,
    secret: 's3cret',
  },
  { uri: 'smtp://u:s3cret%C3%28@host', problem: /^password .*not UTF-8/, secret: 's3cret' },
  { uri: 'smtp://u:s3cret%ED%A0%80@host', problem: /^password .*not UTF-8/, secret: 's3cret' },
  {
    uri: 'smtp://us%zzer:s3cret@host',
    problem: /^user name is not valid percent/,
    secret: 's3cret',
  },
  { uri: 'smtp://u:\uD800s3cret@host', problem: /not valid Unicode/, secret: 's3cret' },
  // Path and fragment.
  { uri: 'smtp://host/inbox', problem: /path is not allowed/ },
  { uri: 'smtp://host//', problem: /path is not allowed/ },
  { uri: 'smtp://user:s3cret@host/x/?skip_ssl_verify=true', problem: /path/, secret: 's3cret' },
  { uri: 'smtp://host/#frag', problem: /fragment/ },
  { uri: 'smtp://host#', problem: /fragment/ },
  { uri: 'smtp://user:s3cret@host/?skip_ssl_verify=true#x', problem: /fragment/, secret: 's3cret' },
  // Line breaks, control characters, surrounding whitespace.
  { uri: 'smtp://user:s3cret@host\r\n', problem: /line break/, secret: 's3cret' },
  { uri: 'smtp://user:s3cret@host\n', problem: /line break/, secret: 's3cret' },
  { uri: 'smtp://host/?server_name=a\rb', problem: /line break/ },
  { uri: 'smtp://host\u2028', problem: /line break/ },
  { uri: 'smtp://user:s3\u0000cret@host', problem: /control character/, secret: 's3' },
  { uri: 'smtp://user:s3cret\t@host', problem: /control character/, secret: 's3cret' },
  { uri: 'smtp://host\u007f', problem: /control character/ },
  { uri: 'smtp://host\u0085', problem: /control character/ },
  { uri: ' smtp://user:s3cret@host', problem: /leading or trailing whitespace/, secret: 's3cret' },
  { uri: 'smtp://user:s3cret@host ', problem: /leading or trailing whitespace/, secret: 's3cret' },
  { uri: 'smtp://host\u00a0', problem: /leading or trailing whitespace/ },
  { uri: `smtp://${'a'.repeat(3000)}`, problem: /longer than 2048 characters/ },
  // Query parameters.
  {
    uri: 'smtp://user:s3cret@host/?foo=1',
    problem: /^unknown query parameter "foo"$/,
    secret: 's3cret',
  },
  {
    uri: 'smtp://host/?SKIP_SSL_VERIFY=true',
    problem: /unknown query parameter "SKIP_SSL_VERIFY"/,
  },
  { uri: 'smtp://host/?starttls=false', problem: /unknown query parameter "starttls"/ },
  { uri: 'smtp://host/?%zz=1', problem: /query parameter name is not valid percent-encoding/ },
  {
    uri: 'smtp://host/?skip_ssl_verify=true&skip_ssl_verify=true',
    problem: /"skip_ssl_verify" is given more than once/,
  },
  {
    uri: 'smtp://host/?server_name=a&server_name=b',
    problem: /"server_name" is given more than once/,
  },
  { uri: 'smtp://host/?skip_ssl_verify', problem: /"skip_ssl_verify" needs a value/ },
  { uri: 'smtp://host/?skip_ssl_verify=', problem: /skip_ssl_verify must be "true" or "false"/ },
  { uri: 'smtp://host/?skip_ssl_verify=1', problem: /skip_ssl_verify must be "true" or "false"/ },
  {
    uri: 'smtp://host/?skip_ssl_verify=TRUE',
    problem: /skip_ssl_verify must be "true" or "false"/,
  },
  {
    uri: 'smtp://host/?disable_starttls=yes',
    problem: /disable_starttls must be "true" or "false"/,
  },
  { uri: 'smtp://host/?server_name=', problem: /server_name is empty/ },
  { uri: 'smtp://host/?server_name=bad%20name', problem: /server_name may contain only/ },
  { uri: 'smtp://host/?server_name=a..b', problem: /server_name is not a valid host name/ },
  { uri: 'smtp://host/?server_name=%zz', problem: /value of server_name is not valid percent/ },
  // Combinations.
  {
    uri: 'smtps://user:s3cret@host/?disable_starttls=true',
    problem: /disable_starttls only applies to smtp:\/\//,
    secret: 's3cret',
  },
  { uri: 'smtps://host/?disable_starttls=false', problem: /disable_starttls only applies/ },
  {
    uri: 'smtp://user:s3cret@host/?disable_starttls=true&skip_ssl_verify=true',
    problem: /cannot be combined with skip_ssl_verify: there is no TLS to relax/,
    secret: 's3cret',
  },
  {
    uri: 'smtp://host/?skip_ssl_verify=false&disable_starttls=true',
    problem: /cannot be combined with skip_ssl_verify/,
  },
  {
    uri: 'smtp://host/?disable_starttls=true&server_name=mx',
    problem: /cannot be combined with server_name: there is no TLS to relax/,
  },
];

test('parseSmtpUri rejects bad input with a problem that never repeats the password', async (t) => {
  for (const { uri, problem, secret } of invalid) {
    await t.test(JSON.stringify(uri).slice(0, 80), () => {
      const result = parseSmtpUri(uri);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match(result.problem, problem);
      if (secret !== undefined) assert.ok(!result.problem.includes(secret), result.problem);
      if (uri.length > 8) assert.ok(!result.problem.includes(uri), 'echoes the whole input');
    });
  }
});

test('formatSmtpUri writes the canonical form and redacts by default', () => {
  const cases: Array<[SmtpEndpoint, string, string]> = [
    [endpoint({}), 'smtp://mail.example.com:587/', 'smtp://mail.example.com:587/'],
    [
      endpoint({ ...creds, verifyCertificate: false }),
      'smtp://user:***@mail.example.com:587/?skip_ssl_verify=true',
      'smtp://user:s3cret@mail.example.com:587/?skip_ssl_verify=true',
    ],
    [
      endpoint({ username: 'me@x.org', password: 'a b/c', security: 'cleartext', port: 25 }),
      'smtp://me%40x.org:***@mail.example.com:25/?disable_starttls=true',
      'smtp://me%40x.org:a%20b%2Fc@mail.example.com:25/?disable_starttls=true',
    ],
    [
      endpoint({ username: 'u', scheme: 'smtps', port: 465, security: 'implicit-tls' }),
      'smtps://u@mail.example.com:465/',
      'smtps://u@mail.example.com:465/',
    ],
    [
      endpoint({ scheme: 'smtps', host: '::1', port: 465, security: 'implicit-tls' }),
      'smtps://[::1]:465/',
      'smtps://[::1]:465/',
    ],
    [
      endpoint({ verifyCertificate: false, serverName: 'mx.example.com' }),
      'smtp://mail.example.com:587/?skip_ssl_verify=true&server_name=mx.example.com',
      'smtp://mail.example.com:587/?skip_ssl_verify=true&server_name=mx.example.com',
    ],
  ];
  for (const [input, redacted, clear] of cases) {
    assert.equal(formatSmtpUri(input), redacted);
    assert.equal(formatSmtpUri(input, { redact: true }), redacted);
    assert.equal(formatSmtpUri(input, { redact: false }), clear);
  }
});

test('formatSmtpUri round-trips through parseSmtpUri', async (t) => {
  const awkward = [
    'p@ss',
    'a/b',
    'x:y:z',
    '100%',
    '%41',
    'two words',
    'Jürgen',
    '🔑🔑',
    '***',
    '#?&=',
  ];
  const endpoints = [
    ...valid.map(([, e]) => e),
    ...awkward.flatMap((text) => [
      endpoint({ username: text, password: text }),
      endpoint({
        username: text,
        password: null,
        scheme: 'smtps',
        port: 465,
        security: 'implicit-tls',
      }),
    ]),
  ];
  for (const e of endpoints) {
    await t.test(formatSmtpUri(e), () => {
      assert.deepEqual(parseSmtpUri(formatSmtpUri(e, { redact: false })), {
        ok: true,
        endpoint: e,
      });
    });
  }
});

test('redactUriPassword hides the password of valid and broken URIs alike', () => {
  const cases: Array<[string, string]> = [
    ['smtp://user:s3cret@host:587/', 'smtp://user:***@host:587/'],
    [
      'smtps://me%40x.org:p%2Fw@host/?skip_ssl_verify=true',
      'smtps://me%40x.org:***@host/?skip_ssl_verify=true',
    ],
    ['smtp://user@host', 'smtp://user@host'],
    ['smtp://host:587/', 'smtp://host:587/'],
    ['smtp://[::1]:25', 'smtp://[::1]:25'],
    ['smtp://u:p@ss@host', 'smtp://u:***@host'],
    ['smtp://u:pa/ss?x#y@host/?q=1', 'smtp://u:***@host/?q=1'],
    ['smtp://u:pa1b://x@host', 'smtp://u:***@host'],
    ['http://u:s3cret@host', 'http://u:***@host'],
    ['smtp://user:s3cret', 'smtp://user:***'],
    ['smtp://user:123456/', 'smtp://user:***/'],
    ['smtp://user:s3cret\r\n@host ', 'smtp://user:***@host '],
    ['user:s3cret@host', 'user:***@host'],
    ['smtp:user:s3cret@host', 'smtp:***@host'],
    ['SMTP_CONNECTION_URI=smtp://a:s3cret@h', 'SMTP_CONNECTION_URI=smtp://a:***@h'],
    ['from smtp://a:s1@h1 to smtps://b:s2@h2', 'from smtp://a:***@h1 to smtps://b:***@h2'],
    ['hello world', 'hello world'],
    ['localhost:2525', 'localhost:2525'],
    ['', ''],
  ];
  for (const [raw, expected] of cases) assert.equal(redactUriPassword(raw), expected, raw);
});

test('redactUriPassword hides the secret of every rejected input', () => {
  for (const { uri, secret } of invalid) {
    if (secret !== undefined) assert.ok(!redactUriPassword(uri).includes(secret), uri);
  }
});
