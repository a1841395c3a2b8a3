import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { composeMessage } from '../../src/smtp/compose.ts';
import {
  checkDkimPrivateKey,
  dkimInfo,
  generateDkimPrivateKey,
  signMessage,
} from '../../src/smtp/dkim.ts';

test('generated keys are 2048-bit RSA; given keys are checked', async () => {
  const generated = await generateDkimPrivateKey();
  const info = dkimInfo({ domain: 'example.com', selector: 'mail', privateKey: generated });
  assert.equal(info.dnsRecordName, 'mail._domainkey.example.com');
  const p = info.dnsRecordValue.split('p=')[1]!;
  assert.equal(Buffer.from(p, 'base64').length, 294, '2048-bit SubjectPublicKeyInfo');
  const pem = (bits: number) =>
    generateKeyPairSync('rsa', { modulusLength: bits })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
  assert.ok('privateKey' in checkDkimPrivateKey(pem(1024)));
  assert.match((checkDkimPrivateKey(pem(512)) as { problem: string }).problem, /512-bit/);
  assert.match((checkDkimPrivateKey('nonsense') as { problem: string }).problem, /not a PEM/);
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
    .toString();
  const traditional = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
    .toString();
  for (const pem of [encrypted, traditional]) {
    assert.match(
      (checkDkimPrivateKey(pem) as { problem: string }).problem,
      /is encrypted with a passphrase/,
    );
  }
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
  const edInfo = dkimInfo({ domain: 'example.com', selector: 'ed', privateKey: ed.toString() });
  assert.match(edInfo.dnsRecordValue, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
});

// mailauth 4.13 reads the clock twice when not given signTime: a message signed across a second
// boundary got a t= other than the one hashed (about one in 200 failed to verify). Here the clock
// jumps a second at every read, so each signing straddles a boundary.
test('the signature verifies even when the clock turns while signing', async (t) => {
  const privateKey = await generateDkimPrivateKey();
  const key = { domain: 'example.com', selector: 'mail', privateKey };
  const record = dkimInfo(key).dnsRecordValue;
  const { raw } = await composeMessage({
    from: { address: 'no-reply@example.com', name: null },
    to: 'ada@example.com',
    subject: 'Hello',
    text: 'Hi Ada!',
    html: null,
    headers: [],
    messageId: '<m1@example.com>',
  });
  let now = Date.now();
  t.mock.method(Date, 'now', () => (now += 1_000));
  const signed = await signMessage(raw, key);
  t.mock.restoreAll();
  assert.ok(signed.ok);
  const verdict = await dkimVerify(signed.raw, { resolver: async () => [[record]] as never });
  assert.equal(verdict.results[0]!.status.result, 'pass');
});
