import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSecretBox, isEncrypted } from '../../src/secrets/secret-box.ts';

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
const URI = 'smtp://user:S3cret%2Fpw@mail.example.com:587/';

test('no keys, no box: passwords stay as they are (with a warning at start)', () => {
  assert.equal(createSecretBox([]), null);
});

test('round trip; a fresh IV every time; the value carries no trace of the secret', () => {
  const box = createSecretBox([key(1)])!;
  const a = box.encrypt(URI, 'ctx');
  const b = box.encrypt(URI, 'ctx');
  assert.notEqual(a, b);
  assert.ok(isEncrypted(a));
  assert.match(a, /^enc:v1:[0-9a-f]{8}:[\w-]+:[\w-]+:[\w-]+$/);
  assert.ok(!a.includes('S3cret'));
  assert.equal(box.decrypt(a, 'ctx'), URI);
  assert.equal(box.needsRewrite(a), false);
  assert.equal(box.needsRewrite(URI), true, 'cleartext is rewritten');
});

test('rotation: the first key encrypts, every key decrypts, old values are marked for rewrite', () => {
  const old = createSecretBox([key(1)])!;
  const stored = old.encrypt(URI, 'ctx');
  const rotated = createSecretBox([key(2), key(1)])!;
  assert.equal(rotated.decrypt(stored, 'ctx'), URI);
  assert.equal(rotated.needsRewrite(stored), true);
  assert.equal(rotated.needsRewrite(rotated.encrypt(URI, 'ctx')), false);
  assert.throws(
    () => createSecretBox([key(2)])!.decrypt(stored, 'ctx'),
    /SECRETS_KEY does not hold/,
  );
});

test('tampering, another context or a truncated value fail instead of decrypting to garbage', () => {
  const box = createSecretBox([key(1)])!;
  const stored = box.encrypt(URI, 'ctx');
  const parts = stored.split(':');
  const flipped = Buffer.from(parts[4]!, 'base64url');
  flipped[0] = flipped[0]! ^ 1;
  parts[4] = flipped.toString('base64url');
  assert.throws(() => box.decrypt(parts.join(':'), 'ctx'));
  assert.throws(() => box.decrypt(stored, 'other column'));
  assert.throws(() => box.decrypt(stored.split(':').slice(0, 4).join(':'), 'ctx'));
});

test('keys must be 32 bytes', () => {
  assert.throws(() => createSecretBox([Buffer.alloc(16).toString('base64')]), /32 bytes/);
});
