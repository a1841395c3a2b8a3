import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';

const checks = { smtpUriProblem: () => null };
const key = Buffer.alloc(32, 3).toString('base64');

test('security options: defaults keep everything open as before', () => {
  const result = loadConfig({}, checks);
  assert.ok(result.ok);
  assert.deepEqual(result.config.security, {
    secretsKeys: [],
    allowedOrigins: null,
    sendRateLimitPerMinute: null,
    sendRateLimitTotalPerMinute: null,
    tokenCreateRateLimitPerHour: 20,
    senderDomainAllowlist: null,
    smtpDisallowPrivateIps: false,
    smtpAllowedPorts: null,
    wsMaxOperationsPerConnection: 20,
    wsMaxOperationsPerToken: 1_000,
  });
});

test('the service-wide send limit follows the per-token one unless set', () => {
  const follows = loadConfig({ SEND_RATE_LIMIT_PER_MINUTE: '2' }, checks);
  assert.ok(follows.ok);
  assert.equal(follows.config.security.sendRateLimitTotalPerMinute, 2);
  const raised = loadConfig(
    { SEND_RATE_LIMIT_PER_MINUTE: '2', SEND_RATE_LIMIT_TOTAL_PER_MINUTE: '100' },
    checks,
  );
  assert.ok(raised.ok);
  assert.equal(raised.config.security.sendRateLimitTotalPerMinute, 100);
  const bad = loadConfig(
    { SEND_RATE_LIMIT_TOTAL_PER_MINUTE: '0', TOKEN_CREATE_RATE_LIMIT_PER_HOUR: 'many' },
    checks,
  );
  assert.ok(!bad.ok);
  assert.match(bad.problems.join('\n'), /^SEND_RATE_LIMIT_TOTAL_PER_MINUTE:/m);
  assert.match(bad.problems.join('\n'), /^TOKEN_CREATE_RATE_LIMIT_PER_HOUR:/m);
});

test('graphql-ws operation caps are whole numbers', () => {
  const result = loadConfig(
    { WS_MAX_OPERATIONS_PER_CONNECTION: '5', WS_MAX_OPERATIONS_PER_TOKEN: '20000' },
    checks,
  );
  assert.ok(result.ok);
  assert.equal(result.config.security.wsMaxOperationsPerConnection, 5);
  assert.equal(result.config.security.wsMaxOperationsPerToken, 20_000);
  const bad = loadConfig({ WS_MAX_OPERATIONS_PER_TOKEN: 'lots' }, checks);
  assert.ok(!bad.ok);
  assert.match(bad.problems.join('\n'), /WS_MAX_OPERATIONS_PER_TOKEN/);
});

test('security options are parsed', () => {
  const result = loadConfig(
    {
      SECRETS_KEY: `${key}, ${Buffer.alloc(32, 4).toString('base64')}`,
      ALLOWED_ORIGINS: 'https://dash.example.com,http://localhost:5173',
      SEND_RATE_LIMIT_PER_MINUTE: '120',
      SENDER_DOMAIN_ALLOWLIST: 'Example.com,mail.example.org',
      SMTP_DISALLOW_PRIVATE_IPS: 'true',
      SMTP_ALLOWED_PORTS: '465,587',
    },
    checks,
  );
  assert.ok(result.ok);
  assert.equal(result.config.security.secretsKeys.length, 2);
  assert.deepEqual(result.config.security.allowedOrigins, [
    'https://dash.example.com',
    'http://localhost:5173',
  ]);
  assert.equal(result.config.security.sendRateLimitPerMinute, 120);
  assert.deepEqual(result.config.security.senderDomainAllowlist, [
    'example.com',
    'mail.example.org',
  ]);
  assert.equal(result.config.security.smtpDisallowPrivateIps, true);
  assert.deepEqual(result.config.security.smtpAllowedPorts, [465, 587]);
});

test('bad security options are all reported, never echoing a key', () => {
  const secret = 'not-a-real-key-but-secret';
  const result = loadConfig(
    {
      SECRETS_KEY: secret,
      ALLOWED_ORIGINS: 'evil',
      SEND_RATE_LIMIT_PER_MINUTE: '0',
      SENDER_DOMAIN_ALLOWLIST: 'not a domain',
      SMTP_DISALLOW_PRIVATE_IPS: 'yes',
      SMTP_ALLOWED_PORTS: '25,70000',
    },
    checks,
  );
  assert.ok(!result.ok);
  const text = result.problems.join('\n');
  for (const name of [
    'SECRETS_KEY',
    'ALLOWED_ORIGINS',
    'SEND_RATE_LIMIT_PER_MINUTE',
    'SENDER_DOMAIN_ALLOWLIST',
    'SMTP_DISALLOW_PRIVATE_IPS',
    'SMTP_ALLOWED_PORTS',
  ]) {
    assert.match(text, new RegExp(`^${name}: `, 'm'));
  }
  assert.ok(!text.includes(secret));
});
