import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';

const checks = { smtpUriProblem: () => null };

test('operations variables: defaults', () => {
  const result = loadConfig({}, checks);
  assert.ok(result.ok);
  assert.equal(result.config.logLevel, 'info');
  assert.equal(result.config.retentionDays, null);
  assert.equal(result.config.retentionMaxMessages, null);
  assert.equal(result.config.retentionIntervalMs, 60_000);
  assert.equal(result.config.metricsToken, null);
});

test('operations variables: values, and every bad one named without its value', () => {
  const good = loadConfig(
    {
      LOG_LEVEL: 'silent',
      RETENTION_DAYS: '30',
      RETENTION_MAX_MESSAGES: '1000000',
      RETENTION_INTERVAL_MS: '5000',
      METRICS_TOKEN: 'scrape',
    },
    checks,
  );
  assert.ok(good.ok);
  assert.equal(good.config.logLevel, 'silent');
  assert.equal(good.config.retentionDays, 30);
  assert.equal(good.config.retentionMaxMessages, 1_000_000);
  assert.equal(good.config.retentionIntervalMs, 5_000);
  assert.equal(good.config.metricsToken, 'scrape');

  const bad = loadConfig(
    { LOG_LEVEL: 'verbose', RETENTION_DAYS: '0', RETENTION_MAX_MESSAGES: 'lots' },
    checks,
  );
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems.map((problem) => problem.split(':')[0]).sort(), [
    'LOG_LEVEL',
    'RETENTION_DAYS',
    'RETENTION_MAX_MESSAGES',
  ]);
  assert.ok(!bad.problems.join('\n').includes('verbose'));
});
