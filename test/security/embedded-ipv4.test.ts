import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forbiddenAddressKind } from '../../src/smtp/destination-guard.ts';
import { fileScope } from '../helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServerOptions } from '../helpers/smtp-server.ts';
import { startService as startServiceIn } from '../helpers/service.ts';

// Issue 19, item 4: SMTP_DISALLOW_PRIVATE_IPS let IPv6 addresses through that carry a private
// IPv4 address for a translator, relay or tunnel to dial: ::ffff:0:127.0.0.1 (SIIT),
// 2002::/16 (6to4) and 2001::/32 (Teredo). Each now answers as the IPv4 address inside it.

const startSmtp = (options: TestSmtpServerOptions = {}) => startTestSmtpServer(fileScope, options);
const startService = (env: Record<string, string> = {}) =>
  startServiceIn(fileScope, { ...{ SMTP_DISALLOW_PRIVATE_IPS: 'true' }, ...env });

// Teredo: 2001:0:<server IPv4>:<flags>:<port ^ 0xffff>:<client IPv4 ^ 0xffffffff>.
const ATTACKS: [address: string, kind: RegExp][] = [
  ['::ffff:0:127.0.0.1', /^loopback \(127\.0\.0\.1, embedded as IPv4-translated \(SIIT\)\)$/],
  ['::ffff:0:7f00:1', /^loopback \(127\.0\.0\.1, embedded as IPv4-translated/],
  ['::ffff:0:a9fe:a9fe', /^link-local \(cloud metadata\) \(169\.254\.169\.254/],
  ['2002:7f00:1::', /^loopback \(127\.0\.0\.1, embedded as 6to4\)$/],
  ['2002:c0a8:101::1', /^private \(192\.168\.1\.1, embedded as 6to4\)$/],
  ['2002:a9fe:a9fe::', /^link-local/],
  [
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    /^loopback \(127\.0\.0\.1, embedded as Teredo client\)$/,
  ],
  ['2001:0:a00:1::1', /^private \(10\.0\.0\.1, embedded as Teredo server\)$/],
  ['2001:0:808:808:8000:63bf:f5ff:fffe', /^private \(10\.0\.0\.1, embedded as Teredo client\)$/],
];

describe('the IPv4 inside SIIT, 6to4 and Teredo addresses', () => {
  for (const [address, kind] of ATTACKS) {
    test(`${address} is refused`, () => {
      assert.match(String(forbiddenAddressKind(address)), kind);
    });
  }
  for (const address of [
    '::ffff:0:8.8.8.8',
    '2002:808:808::1',
    '2001:0:808:808:8000:63bf:f7f7:f7f7',
    '2001:4860:4860::8888',
  ]) {
    test(`${address} (public inside) is allowed`, () => {
      assert.equal(forbiddenAddressKind(address), null);
    });
  }
});

describe('over the API, with a real SMTP server on 127.0.0.1', () => {
  test('verifySmtp and configureSmtp refuse each form before any connection', async () => {
    const smtp = await startSmtp();
    const svc = await startService();
    const uri = (address: string) => `smtp://[${address}]:${smtp.port}/?disable_starttls=true`;
    for (const [address] of ATTACKS) {
      const verified = await svc.gql(
        `query ($uri: String) { verifySmtp(connectionUri: $uri) { ok steps { name ok error { code message } } } }`,
        { uri: uri(address) },
      );
      assert.equal(verified.errors, undefined, address);
      assert.equal(verified.data.verifySmtp.ok, false, address);
      const failed = verified.data.verifySmtp.steps.find((step: { ok: boolean }) => !step.ok);
      assert.equal(failed.error.code, 'CONFIG', address);
      assert.match(failed.error.message, /embedded as .*SMTP_DISALLOW_PRIVATE_IPS=true forbids/);
    }

    // Storing such an address is refused at once (a name is checked when it is dialled).
    const configured = await svc.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      { input: { connectionUri: uri('2002:7f00:1::'), fromAddress: 'a@example.com' } },
    );
    assert.equal(configured.errors![0]!.extensions!['code'], 'BAD_USER_INPUT');
    assert.match(
      configured.errors![0]!.extensions!['problems'][0].problem,
      /127\.0\.0\.1, embedded as 6to4/,
    );
    assert.equal(smtp.connectionCount, 0, 'nothing reached the server');
  });
});
