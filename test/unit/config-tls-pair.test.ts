import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { test } from 'node:test';
import { certificateValidTo, tlsPairProblems } from '../../src/config-tls-pair.ts';
import { createSelfSignedCert } from '../helpers/certs.ts';

// SUBMISSION_TLS_CERT and SUBMISSION_TLS_KEY are checked when the service starts: a pair that
// would fail every handshake, or that OpenSSL cannot read, is a configuration problem naming
// its variable, not a start-up that succeeds and a listener whose STARTTLS always fails.

const names = { cert: 'SUBMISSION_TLS_CERT', key: 'SUBMISSION_TLS_KEY' };
const problems = (cert: string, key: string) =>
  tlsPairProblems(
    names,
    { path: '/etc/mailscope/fullchain.pem', pem: cert },
    { path: '/etc/mailscope/privkey.pem', pem: key },
  );

const server = createSelfSignedCert({ dnsNames: ['mailscope.internal'] });
const other = createSelfSignedCert({ dnsNames: ['elsewhere.internal'] });

test('a certificate with its own key, alone or followed by its chain, has no problem', () => {
  assert.deepEqual(problems(server.cert, server.key), []);
  assert.deepEqual(problems(server.cert + other.cert, server.key), []);
  // The key in PKCS#1 form ("BEGIN RSA PRIVATE KEY") is as good as PKCS#8.
  const pkcs1 = createPrivateKey(server.key).export({ type: 'pkcs1', format: 'pem' }) as string;
  assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  assert.deepEqual(problems(server.cert, pkcs1), []);
});

test("another certificate's key: refused before any handshake, naming both variables", () => {
  const [problem, ...rest] = problems(server.cert, other.key);
  assert.deepEqual(rest, []);
  assert.match(
    problem!,
    /^SUBMISSION_TLS_KEY: does not match the certificate in SUBMISSION_TLS_CERT \(".*mailscope\.internal.*"\); every TLS handshake would fail$/,
  );
});

test('a key encrypted with a passphrase says so, and how to decrypt it', () => {
  const encrypted = createPrivateKey(server.key).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'secret',
  }) as string;
  assert.match(encrypted, /ENCRYPTED PRIVATE KEY/);
  const [problem] = problems(server.cert, encrypted);
  assert.match(
    problem!,
    /^SUBMISSION_TLS_KEY: ".*" is encrypted with a passphrase; .*openssl pkey/,
  );
  assert.doesNotMatch(problem!, /secret/);
});

test('swapped files and files that are not PEM are named as such', () => {
  const swapped = problems(server.key, server.cert);
  assert.equal(swapped.length, 2);
  assert.match(swapped[0]!, /^SUBMISSION_TLS_CERT: .* holds a private key, not a certificate/);
  assert.match(swapped[1]!, /^SUBMISSION_TLS_KEY: .* holds a certificate, not a private key/);

  const junk = problems('not a pem\n', 'neither\n');
  assert.match(junk[0]!, /^SUBMISSION_TLS_CERT: .* is not a PEM certificate/);
  assert.match(junk[1]!, /^SUBMISSION_TLS_KEY: .* is not a PEM private key/);
});

test('no problem ever quotes the key', () => {
  const keyBody = server.key.split('\n')[1]!;
  for (const list of [problems(server.cert, other.key), problems(server.key, server.key)]) {
    for (const problem of list) assert.ok(!problem.includes(keyBody), problem);
  }
});

test("the certificate's expiry is read for the start-up warning", () => {
  const expired = createSelfSignedCert({ dnsNames: ['old.internal'], expired: true });
  assert.ok(certificateValidTo(expired.cert).getTime() < Date.now());
  assert.ok(certificateValidTo(server.cert).getTime() > Date.now());
});
