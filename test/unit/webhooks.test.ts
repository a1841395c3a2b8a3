import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createSecretBox } from '../../src/secrets/secret-box.ts';
import {
  nextRetryDelayMs,
  parseRetryAfter,
  MAX_WEBHOOK_ATTEMPTS,
} from '../../src/webhooks/schedule.ts';
import { newWebhookSecret, openSecret, sealSecret } from '../../src/webhooks/secret.ts';
import { signedHeaders } from '../../src/webhooks/sign.ts';
import { literalAddressProblem, webhookUrlProblem } from '../../src/webhooks/url-guard.ts';

describe('webhook retry schedule', () => {
  const middle = () => 0.5;
  test('the contract schedule at the default base, then nothing', () => {
    const delays = Array.from({ length: 8 }, (_, i) =>
      nextRetryDelayMs(i + 1, 5_000, null, middle),
    );
    assert.deepEqual(delays, [
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      null,
    ]);
    assert.equal(MAX_WEBHOOK_ATTEMPTS, 8);
  });
  test('WEBHOOK_RETRY_BASE_MS scales every step (100: 0.1 s, 6 s, 36 s, …)', () => {
    assert.deepEqual(
      [1, 2, 3].map((n) => nextRetryDelayMs(n, 100, null, middle)),
      [100, 6_000, 36_000],
    );
  });
  test('jitter stays within ±20 %', () => {
    assert.equal(
      nextRetryDelayMs(2, 5_000, null, () => 0),
      240_000,
    );
    assert.equal(
      nextRetryDelayMs(2, 5_000, null, () => 1),
      360_000,
    );
  });
  test('a longer Retry-After wins, held to 10 hours', () => {
    assert.equal(nextRetryDelayMs(1, 5_000, 60_000, middle), 60_000);
    assert.equal(nextRetryDelayMs(1, 5_000, 1_000, middle), 5_000);
    assert.equal(nextRetryDelayMs(1, 5_000, 1e12, middle), 36_000_000);
  });
  test('Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1);
    for (const [value, expected] of [
      ['120', 120_000],
      [' 5 ', 5_000],
      [new Date(now + 30_000).toUTCString(), 30_000],
      [new Date(now - 30_000).toUTCString(), 0],
      ['soon', null],
      ['', null],
      [undefined, null],
    ] as const) {
      assert.equal(parseRetryAfter(value, now), expected, String(value));
    }
  });
});

describe('webhook signatures', () => {
  test('standardwebhooks verifies what we sign; two secrets give two signatures', () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    assert.match(oldSecret, /^whsec_[A-Za-z0-9+/]{32}$/);
    const body = JSON.stringify({ type: 'message.sent', data: { message: { id: '1' } } });
    const timestamp = Math.floor(Date.now() / 1_000);
    const headers = signedHeaders('msg_1', timestamp, body, [oldSecret, newSecret]);
    assert.equal(headers['webhook-signature']!.split(' ').length, 2);
    assert.ok(headers['webhook-signature']!.split(' ').every((s) => s.startsWith('v1,')));
    for (const secret of [oldSecret, newSecret]) {
      assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    }
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
    assert.throws(() => new Webhook(newSecret).verify(`${body} `, headers));
  });
  test('secrets are stored encrypted with SECRETS_KEY, bound to their column', () => {
    const box = createSecretBox([Buffer.alloc(32, 3).toString('base64')]);
    const secret = newWebhookSecret();
    const stored = sealSecret(secret, box);
    assert.ok(!stored.includes(secret.slice(6)));
    assert.equal(openSecret(stored, box), secret);
    assert.throws(() => openSecret(stored, null), /SECRETS_KEY/);
    assert.equal(sealSecret(secret, null), secret);
  });
});

describe('webhook URLs', () => {
  test('internal addresses are refused, in every spelling', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.1/',
      'http://0x7f000001/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://169.254.169.254/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://localhost:3000/',
    ]) {
      assert.notEqual(await webhookUrlProblem(url, false), null, url);
      assert.equal(await webhookUrlProblem(url, true), null, url);
    }
  });
  test('public addresses pass; bad URLs do not', async () => {
    assert.equal(await webhookUrlProblem('https://93.184.215.14/hooks', false), null);
    for (const url of ['ftp://93.184.215.14/', 'nonsense', 'https://user:pw@93.184.215.14/']) {
      assert.notEqual(await webhookUrlProblem(url, true), null, url);
    }
  });
  test('a literal address is checked again before connecting', () => {
    assert.notEqual(literalAddressProblem('[::ffff:10.0.0.1]', false), null);
    assert.equal(literalAddressProblem('93.184.215.14', false), null);
    assert.equal(literalAddressProblem('127.0.0.1', true), null);
  });
});
