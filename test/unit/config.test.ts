import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';

const checks = {
  smtpUriProblem: (uri: string) => (uri.startsWith('smtp://') ? null : 'unsupported scheme'),
};

test('defaults match the contract', () => {
  const result = loadConfig({}, checks);
  assert.ok(result.ok);
  assert.equal(result.config.production, true, 'production unless NODE_ENV=development');
  assert.equal(result.config.port, 4000);
  assert.equal(result.config.host, '127.0.0.1');
  assert.equal(result.config.storage.databasePath, './data/mailscope.db');
  assert.equal(result.config.embeddedSmtpPort, 1025);
  assert.equal(result.config.deliveryMaxAttempts, 5);
  assert.equal(result.config.apiToken, null);
  assert.equal(result.config.smtpConnectionUri, null);
});

test('every bad variable is reported at once, without secret values', () => {
  const result = loadConfig(
    {
      PORT: 'eighty',
      EMBEDDED_SMTP_PORT: 'maybe',
      DELIVERY_MAX_ATTEMPTS: '0',
      DELIVERY_LEASE_MS: '-5',
      SMTP_CONNECTION_URI: 'http://user:hunter2@example.com',
      SMTP_FROM_ADDRESS: 'not an address',
    },
    checks,
  );
  assert.ok(!result.ok);
  const text = result.problems.join('\n');
  for (const name of [
    'PORT',
    'EMBEDDED_SMTP_PORT',
    'DELIVERY_MAX_ATTEMPTS',
    'DELIVERY_LEASE_MS',
    'SMTP_CONNECTION_URI',
    'SMTP_FROM_ADDRESS',
  ]) {
    assert.match(text, new RegExp(`^${name}:`, 'm'), name);
  }
  assert.doesNotMatch(text, /hunter2/);
});

test('numbers out of range name the range, whichever end they miss', () => {
  const result = loadConfig(
    { PORT: '70000', DELIVERY_MAX_ATTEMPTS: '0', SMTP_MAX_CONNECTIONS: 'five' },
    checks,
  );
  assert.ok(!result.ok);
  assert.deepEqual(result.problems.sort(), [
    'DELIVERY_MAX_ATTEMPTS: must be a whole number from 1 to 1000',
    'PORT: must be a whole number from 0 to 65535',
    'SMTP_MAX_CONNECTIONS: must be a whole number from 1 to 100',
  ]);
});

test('NODE_ENV: only development turns production behaviour off', () => {
  for (const [value, production] of [
    [undefined, true],
    ['', true],
    ['production', true],
    ['test', true],
    ['dev', true],
    ['development', false],
  ] as const) {
    const result = loadConfig(value === undefined ? {} : { NODE_ENV: value }, checks);
    assert.ok(result.ok);
    assert.equal(result.config.production, production, String(value));
  }
});

test('SMTP_FROM_ADDRESS goes through the API address rules when they are given', () => {
  const strict = {
    ...checks,
    addressProblem: (address: string) => (address.includes('%') ? 'no % routing' : null),
  };
  const result = loadConfig({ SMTP_FROM_ADDRESS: 'a%b@relay.example' }, strict);
  assert.ok(!result.ok);
  assert.match(result.problems.join('\n'), /^SMTP_FROM_ADDRESS: no % routing/m);
});

test('the checks between two variables are reported with the other problems, not after them', () => {
  const result = loadConfig(
    {
      PORT: 'eighty',
      HOST: '0.0.0.0',
      DELIVERY_RETRY_BASE_MS: '5000',
      DELIVERY_RETRY_MAX_MS: '10',
    },
    checks,
  );
  assert.ok(!result.ok);
  const text = result.problems.join('\n');
  assert.match(text, /^PORT:/m);
  assert.match(text, /^HOST: .*not a loopback address.*API_TOKEN/m);
  assert.match(text, /^DELIVERY_RETRY_MAX_MS: must not be smaller than DELIVERY_RETRY_BASE_MS/m);
  // A variable that is bad by itself is not also compared with another.
  const bad = loadConfig(
    { HOST: '0.0.0.0', API_TOKEN: 't', METRICS_TOKEN: 'm', DELIVERY_RETRY_MAX_MS: 'x' },
    checks,
  );
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.problems.map((problem) => problem.split(':')[0]),
    ['DELIVERY_RETRY_MAX_MS'],
  );
});

test('EMBEDDED_SMTP_PORT=off disables the embedded server', () => {
  const result = loadConfig({ EMBEDDED_SMTP_PORT: 'off' }, checks);
  assert.ok(result.ok);
  assert.equal(result.config.embeddedSmtpPort, null);
});

test('a non-loopback HOST needs API_TOKEN and METRICS_TOKEN; an empty token counts as unset', () => {
  for (const env of [{ HOST: '0.0.0.0' }, { HOST: '0.0.0.0', API_TOKEN: '', METRICS_TOKEN: '' }]) {
    const result = loadConfig(env, checks);
    assert.ok(!result.ok);
    assert.match(result.problems.join('\n'), /^HOST: .*API_TOKEN/m);
    assert.match(result.problems.join('\n'), /^METRICS_TOKEN: .*\/metrics/m);
  }
  const noMetricsToken = loadConfig({ HOST: '0.0.0.0', API_TOKEN: 's3cret' }, checks);
  assert.ok(!noMetricsToken.ok);
  assert.deepEqual(
    noMetricsToken.problems.map((p) => p.split(':')[0]),
    ['METRICS_TOKEN'],
  );
  // Reported with the other problems when another variable does not parse.
  const alongside = loadConfig({ HOST: '0.0.0.0', PORT: 'eighty' }, checks);
  assert.ok(!alongside.ok);
  assert.deepEqual(alongside.problems.map((p) => p.split(':')[0]).sort(), [
    'HOST',
    'METRICS_TOKEN',
    'PORT',
  ]);
  assert.ok(
    loadConfig({ HOST: '0.0.0.0', API_TOKEN: 's3cret', METRICS_TOKEN: 'm3trics' }, checks).ok,
  );
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
    assert.ok(loadConfig({ HOST: host }, checks).ok, host);
  }
});

test('API_TOKEN and METRICS_TOKEN must be what a bearer header can carry', () => {
  for (const token of ['a b', 'tab\there', 'zoë', 'x'.repeat(513)]) {
    for (const name of ['API_TOKEN', 'METRICS_TOKEN']) {
      const result = loadConfig({ [name]: token }, checks);
      assert.ok(!result.ok, `${name}=${JSON.stringify(token)}`);
      assert.match(result.problems.join('\n'), new RegExp(`^${name}: .*visible ASCII`, 'm'));
    }
  }
  assert.ok(loadConfig({ API_TOKEN: 'ms_Abc-123._~+/=', METRICS_TOKEN: '!#$%' }, checks).ok);
});

test('SQLITE_SYNCHRONOUS and SQLITE_BUSY_TIMEOUT_MS: durable defaults, bad values named', () => {
  const defaults = loadConfig({}, checks);
  assert.ok(defaults.ok);
  assert.equal(defaults.config.storage.sqliteSynchronous, 'full');
  assert.equal(defaults.config.storage.sqliteBusyTimeoutMs, 5_000);
  const chosen = loadConfig(
    { SQLITE_SYNCHRONOUS: 'normal', SQLITE_BUSY_TIMEOUT_MS: '250' },
    checks,
  );
  assert.ok(chosen.ok);
  assert.equal(chosen.config.storage.sqliteSynchronous, 'normal');
  assert.equal(chosen.config.storage.sqliteBusyTimeoutMs, 250);
  const bad = loadConfig({ SQLITE_SYNCHRONOUS: 'off', SQLITE_BUSY_TIMEOUT_MS: 'soon' }, checks);
  assert.ok(!bad.ok);
  assert.match(bad.problems.join('\n'), /^SQLITE_SYNCHRONOUS: must be full or normal/m);
  assert.match(bad.problems.join('\n'), /^SQLITE_BUSY_TIMEOUT_MS:/m);
});

test('SUBMISSION_*: off by default; implicit TLS needs a certificate; files must be readable', () => {
  const defaults = loadConfig({}, checks);
  assert.ok(defaults.ok);
  assert.equal(defaults.config.submission.port, null);
  assert.equal(defaults.config.submission.maxBytes, 26_214_400);
  assert.equal(defaults.config.submission.implicitTls, false);
  assert.equal(defaults.config.submission.tls, null);

  const onHost = loadConfig({ HOST: '127.0.0.1', SUBMISSION_PORT: '2587' }, checks);
  assert.ok(onHost.ok);
  assert.equal(onHost.config.submission.port, 2587);
  assert.equal(onHost.config.submission.host, '127.0.0.1', 'SUBMISSION_HOST defaults to HOST');

  const bad = loadConfig(
    {
      SUBMISSION_PORT: 'smtp',
      SUBMISSION_IMPLICIT_TLS: 'true',
      SUBMISSION_MAX_BYTES: 'lots',
      SUBMISSION_TLS_KEY: '/nonexistent/key.pem',
    },
    checks,
  );
  assert.ok(!bad.ok);
  const text = bad.problems.join('\n');
  for (const name of [
    'SUBMISSION_PORT',
    'SUBMISSION_IMPLICIT_TLS',
    'SUBMISSION_MAX_BYTES',
    'SUBMISSION_TLS_CERT',
    'SUBMISSION_TLS_KEY',
  ]) {
    assert.match(text, new RegExp(`^${name}:`, 'm'), name);
  }
  assert.match(text, /SUBMISSION_IMPLICIT_TLS: needs a certificate/);

  const implicitOnly = loadConfig(
    { SUBMISSION_PORT: '465', SUBMISSION_IMPLICIT_TLS: 'true' },
    checks,
  );
  assert.ok(!implicitOnly.ok, 'implicit TLS without a certificate is a configuration error');
});

test('DNS_SERVERS: IP addresses with optional ports; anything else is reported', () => {
  const parse = (value: string) => loadConfig({ DNS_SERVERS: value }, checks);
  const none = loadConfig({}, checks);
  assert.ok(none.ok);
  assert.equal(none.config.dnsServers, null);
  assert.equal(none.config.dnsTimeoutMs, 5_000);
  const good = parse('127.0.0.1:5353, 10.0.0.2,[::1]:53');
  assert.ok(good.ok);
  assert.deepEqual(good.config.dnsServers, ['127.0.0.1:5353', '10.0.0.2:53', '[::1]:53']);
  for (const bad of ['dns.example.com:53', '127.0.0.1:99999', '127.0.0.1,,10.0.0.1', '::1:53']) {
    const result = parse(bad);
    assert.ok(!result.ok, bad);
    assert.match(result.problems.join('\n'), /^DNS_SERVERS:/m, bad);
  }
});
