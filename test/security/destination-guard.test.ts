import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { SmtpEndpoint } from '../../src/smtp/endpoint.ts';
import {
  checkDestination,
  forbiddenAddressKind,
  type DestinationPolicy,
} from '../../src/smtp/destination-guard.ts';
import { createSmtpTransports, type SmtpTransportsOptions } from '../../src/smtp/transport.ts';
import { verifySmtpEndpoint } from '../../src/smtp/verify.ts';
import { createTlsFixtures, type TlsFixtures } from '../helpers/fixtures.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// SMTP_DISALLOW_PRIVATE_IPS and SMTP_ALLOWED_PORTS: where the service may connect, checked on
// the address that is dialled, for deliveries and for verifySmtp alike.

const startSmtp = startTestSmtpServer;
let certs: TlsFixtures;
before(() => {
  certs = createTlsFixtures();
});

const PRIVATE_ONLY: DestinationPolicy = { disallowPrivateIps: true, allowedPorts: null };

function transports(
  scope: Scope,
  destination: DestinationPolicy,
  extra: Partial<SmtpTransportsOptions> = {},
) {
  const created = createSmtpTransports({
    timeoutMs: 3_000,
    extraCaCertificates: [certs.ca.cert],
    destination,
    ...extra,
  });
  closeWith(scope, () => created.close());
  return created;
}

function endpoint(host: string, port: number, overrides: Partial<SmtpEndpoint> = {}): SmtpEndpoint {
  return {
    scheme: 'smtp',
    host,
    port,
    username: null,
    password: null,
    security: 'cleartext',
    verifyCertificate: true,
    serverName: null,
    ...overrides,
  };
}

const mail = () => ({
  from: { address: 'sender@example.test', name: null },
  to: 'rcpt@example.net',
  subject: 'Hello',
  text: 'Body',
  html: null,
  headers: [],
  messageId: `<${randomUUID()}@mailscope.test>`,
});

describe('which addresses are refused', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['100.64.0.1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['fc00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:a9fe:a9fe', true],
    ['64:ff9b::a00:1', true],
    ['ff02::1', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::808:808', false],
  ];
  for (const [address, refused] of cases) {
    test(`${address} is ${refused ? 'refused' : 'allowed'}`, () => {
      assert.equal(
        forbiddenAddressKind(address) !== null,
        refused,
        String(forbiddenAddressKind(address)),
      );
    });
  }

  test('a name is checked on what it resolves to; ports against the allow-list', async () => {
    const local = await checkDestination('localhost', 25, PRIVATE_ONLY);
    assert.equal(local.ok, false);
    assert.match(!local.ok ? local.message : '', /localhost resolves to a loopback address/);
    const port = await checkDestination('127.0.0.1', 2525, {
      disallowPrivateIps: false,
      allowedPorts: [25, 587],
    });
    assert.match(!port.ok ? port.message : '', /port 2525 is not allowed/);
    assert.deepEqual(
      await checkDestination('127.0.0.1', 587, { disallowPrivateIps: false, allowedPorts: [587] }),
      {
        ok: true,
        addresses: ['127.0.0.1'],
      },
    );
  });
});

describe('deliveries', () => {
  test('a loopback SMTP host is refused before any connection is made', async (t) => {
    const smtp = await startSmtp(t);
    for (const host of ['127.0.0.1', 'localhost']) {
      const outcome = await transports(t, PRIVATE_ONLY).send(
        randomUUID(),
        endpoint(host, smtp.port),
        mail(),
      );
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.error.code, 'CONFIG');
      assert.match(!outcome.ok ? outcome.error.message : '', /SMTP_DISALLOW_PRIVATE_IPS/);
    }
    assert.equal(smtp.connectionCount, 0);
  });

  test('a port outside SMTP_ALLOWED_PORTS is refused before any connection is made', async (t) => {
    const smtp = await startSmtp(t);
    const outcome = await transports(t, { disallowPrivateIps: false, allowedPorts: [587] }).send(
      randomUUID(),
      endpoint('127.0.0.1', smtp.port),
      mail(),
    );
    assert.equal(!outcome.ok && outcome.error.code, 'CONFIG');
    assert.equal(smtp.connectionCount, 0);
  });

  test('the guarded socket dials the checked address; TLS still checks the certificate against the name', async (t) => {
    const trusted = await startSmtp(t, { tls: 'starttls', certificate: certs.trusted });
    const policy = { disallowPrivateIps: false, allowedPorts: [trusted.port] };
    const sent = await transports(t, policy).send(
      randomUUID(),
      endpoint('localhost', trusted.port, { security: 'starttls' }),
      mail(),
    );
    assert.equal(sent.ok, true, JSON.stringify(sent));
    assert.equal(trusted.received[0]?.servername, 'localhost');
    assert.equal(trusted.received[0]?.secure, true);

    const wrongName = await startSmtp(t, { tls: 'starttls', certificate: certs.otherName });
    const refused = await transports(t, {
      disallowPrivateIps: false,
      allowedPorts: [wrongName.port],
    }).send(randomUUID(), endpoint('localhost', wrongName.port, { security: 'starttls' }), mail());
    assert.equal(!refused.ok && refused.error.code, 'TLS');
    assert.equal(wrongName.received.length, 0);
  });
});

describe('verifySmtp', () => {
  test('a private host fails at the DNS step with CONFIG, without connecting', async (t) => {
    const smtp = await startSmtp(t);
    const report = await verifySmtpEndpoint(endpoint('localhost', smtp.port), {
      timeoutMs: 2_000,
      destination: PRIVATE_ONLY,
    });
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.steps.map((s) => [s.name, s.ok, s.error?.code]),
      [['DNS', false, 'CONFIG']],
    );
    assert.equal(smtp.connectionCount, 0);
  });

  test('with the guard on, a closed port says no more than "could not connect"', async () => {
    // Nothing listens on port 1: no port below 1024 is ever handed out to a test or a process.
    const port = 1;
    const open = await verifySmtpEndpoint(endpoint('127.0.0.1', port), { timeoutMs: 3_000 });
    assert.match(
      open.steps.at(-1)!.error!.message,
      /refused/,
      'without the guard: the plain reason',
    );
    const guarded = await verifySmtpEndpoint(endpoint('127.0.0.1', port), {
      timeoutMs: 3_000,
      destination: { disallowPrivateIps: false, allowedPorts: [port] },
    });
    const failed = guarded.steps.at(-1)!;
    assert.equal(failed.name, 'CONNECT');
    assert.equal(failed.error!.message, `Could not connect to 127.0.0.1:${port}`);
    assert.doesNotMatch(JSON.stringify(failed), /refused|ECONNREFUSED/i);
  });
});

describe('the service with SMTP_DISALLOW_PRIVATE_IPS=true', () => {
  test('deliveries and verifySmtp to a loopback server are refused; the server sees no connection', async (t) => {
    const smtp = await startSmtp(t);
    const svc = await startService(t, {
      SMTP_DISALLOW_PRIVATE_IPS: 'true',
      DELIVERY_MAX_ATTEMPTS: '1',
    });
    // A name, not an address: configureSmtp cannot tell where it leads, the connection can.
    const configured = await svc.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      {
        input: {
          connectionUri: `smtp://localhost:${smtp.port}/?disable_starttls=true`,
          fromAddress: 'a@example.com',
        },
      },
    );
    assert.equal(configured.errors, undefined);
    const sent = await svc.gql(
      `mutation { sendEmail(input: { to: "b@example.com", subject: "s", text: "t" }) { id } }`,
    );
    const id = sent.data.sendEmail.id as string;
    const message = await waitFor(async () => {
      const r = await svc.gql(
        `query ($id: ID!) { message(id: $id) { status lastError { code message } } }`,
        { id },
      );
      return r.data.message.status === 'ABANDONED' ? r.data.message : undefined;
    });
    assert.equal(message.lastError.code, 'CONFIG');
    assert.match(message.lastError.message, /loopback address, which SMTP_DISALLOW_PRIVATE_IPS/);

    const verified = await svc.gql(`{ verifySmtp { ok steps { name ok error { code } } } }`);
    assert.deepEqual(verified.data.verifySmtp, {
      ok: false,
      steps: [{ name: 'DNS', ok: false, error: { code: 'CONFIG' } }],
    });
    assert.equal(smtp.connectionCount, 0);
  });

  test('configureSmtp refuses a forbidden address or port it can see without DNS, and stores nothing', async (t) => {
    const svc = await startService(t, {
      SMTP_DISALLOW_PRIVATE_IPS: 'true',
      SMTP_ALLOWED_PORTS: '465,587',
    });
    const configure = (connectionUri: string) =>
      svc.gql(
        `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
        { input: { connectionUri, fromAddress: 'a@example.com' } },
      );
    const refused: [string, RegExp][] = [
      [
        'smtp://127.0.0.1:587/',
        /127\.0\.0\.1 is a loopback address, which SMTP_DISALLOW_PRIVATE_IPS/,
      ],
      ['smtp://[::ffff:10.0.0.5]:587/', /private \(10\.0\.0\.5, embedded as IPv4-mapped\)/],
      ['smtps://169.254.169.254/', /link-local/],
      [
        'smtp://smtp.example.com:25/',
        /port 25 is not allowed for SMTP \(SMTP_ALLOWED_PORTS: 465, 587\)/,
      ],
    ];
    for (const [uri, expected] of refused) {
      const result = await configure(uri);
      assert.equal(result.data, null, uri);
      assert.equal(result.errors![0]!.extensions!['code'], 'BAD_USER_INPUT', uri);
      const problems = result.errors![0]!.extensions!['problems'] as {
        field: string;
        problem: string;
      }[];
      assert.deepEqual(
        problems.map((p) => p.field),
        ['input.connectionUri'],
        uri,
      );
      assert.match(problems[0]!.problem, expected, uri);
    }
    const current = await svc.gql(`{ smtpConfig { version } }`);
    assert.equal(current.errors, undefined);
    assert.equal(current.data.smtpConfig?.version ?? null, null);
    // A public address on an allowed port is stored.
    const accepted = await configure('smtp://192.0.43.10:587/');
    assert.equal(accepted.errors, undefined);
  });
});
