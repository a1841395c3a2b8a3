import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { startTestDnsServer, type TestDnsServer, type Zones } from '../helpers/dns-server.ts';
import type { Scope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { closeWith } from '../helpers/scope.ts';
import { createSmtpTransports } from '../../src/smtp/transport.ts';

// DKIM signing for own servers, checked by two verifiers that share nothing with the signer but
// the test DNS server: mailauth's verifier and Debian's dkimpy (/usr/bin/python3).

const CONFIG_FIELDS = `version dkim { domain selector dnsRecordName dnsRecordValue }`;

interface Setup {
  service: TestService;
  smtp: TestSmtpServer;
  dns: TestDnsServer;
  zones: Zones;
}

async function setup(scope: Scope): Promise<Setup> {
  const smtp = await startTestSmtpServer(scope);
  const dns = await startTestDnsServer(scope, {});
  const service = await startService(scope, { DNS_SERVERS: dns.address });
  return { service, smtp, dns, zones: {} };
}

async function configure(s: Setup, dkim: unknown, omit = false) {
  const input: Record<string, unknown> = {
    connectionUri: `smtp://${s.smtp.host}:${s.smtp.port}/?disable_starttls=true`,
    fromAddress: 'no-reply@signed.test',
    fromName: 'Zoë Ångström',
  };
  if (!omit) input['dkim'] = dkim;
  return s.service.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { ${CONFIG_FIELDS} } }`,
    { input },
  );
}

async function send(s: Setup, input: Record<string, unknown>): Promise<string> {
  const before = s.smtp.received.length;
  const result = await s.service.gql(
    `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
    { input: { to: 'ada@example.com', ...input } },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  await waitFor(() => s.smtp.received.length > before);
  return s.smtp.received.at(-1)!.raw;
}

/** Publishes (or replaces) one TXT record, keeping the others. */
function publish(s: Setup, name: string, value: string) {
  s.zones[name] = [{ type: 'TXT', value }];
  s.dns.setZones(s.zones);
}

async function mailauthVerdict(s: Setup, raw: string): Promise<string[]> {
  const resolver = new dnsPromises.Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([s.dns.address]);
  const result = await dkimVerify(Buffer.from(raw), {
    resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT') as never,
  });
  return result.results.map((r) => r.status.result);
}

const DKIMPY = `
import sys, dkim, dns.resolver
host, port = sys.argv[1].rsplit(':', 1)
r = dns.resolver.Resolver(configure=False)
r.nameservers = [host]
r.port = int(port)
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return b''.join(b''.join(a.strings) for a in r.resolve(name.rstrip('.'), 'TXT'))
ok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print('pass' if ok else 'fail')
`;

/** Runs dkimpy in a child process (asynchronously: the test DNS server answers from this one). */
async function dkimpyVerdict(s: Setup, raw: string): Promise<string> {
  const child = spawn('/usr/bin/python3', ['-c', DKIMPY, s.dns.address]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(Buffer.from(raw));
  const [status] = (await once(child, 'close')) as [number | null];
  assert.equal(status, 0, stderr);
  return stdout.trim();
}

describe('DKIM signing', () => {
  test('a generated key: the record is returned, the key never; every message verifies with both verifiers', async (t) => {
    const s = await setup(t);
    const configured = await configure(s, { domain: 'signed.test', selector: 'mail' });
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    const dkim = configured.data.configureSmtp.dkim;
    assert.equal(dkim.dnsRecordName, 'mail._domainkey.signed.test');
    assert.match(dkim.dnsRecordValue, /^v=DKIM1; k=rsa; p=MIIBIjAN/); // 2048-bit SPKI
    assert.doesNotMatch(JSON.stringify(configured), /PRIVATE KEY/);
    publish(s, dkim.dnsRecordName, dkim.dnsRecordValue);

    // The template path (plain ASCII) and MailComposer's (non-ASCII headers, a long body).
    const plain = await send(s, { subject: 'Hello', text: 'Hi Ada!' });
    const longBody = Array.from(
      { length: 4_000 },
      (_, i) => `Zeile ${i}: grüße, naïve café — ${'x'.repeat(i % 300)}`,
    ).join('\n');
    const fancy = await send(s, {
      subject:
        'Grüße aus Köln — 東京 ✉️ and a subject long enough to be folded over several lines by the composer',
      text: longBody,
      html: `<p>${longBody.slice(0, 20_000)}</p>`,
      headers: [{ name: 'X-Note', value: 'Ünïcödé header value' }],
    });
    assert.ok(fancy.length > 200_000, `long body: ${fancy.length} bytes`);
    for (const raw of [plain, fancy]) {
      assert.match(raw, /^DKIM-Signature: [^]*?d=signed\.test;[^]*?s=mail;/);
      assert.deepEqual(await mailauthVerdict(s, raw), ['pass']);
      assert.equal(await dkimpyVerdict(s, raw), 'pass');
    }

    // A receiver whose DNS has another key sees the signature fail: the verifiers really check.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    publish(s, dkim.dnsRecordName, `v=DKIM1; k=rsa; p=${other}`);
    assert.deepEqual(await mailauthVerdict(s, plain), ['fail']);
    assert.equal(await dkimpyVerdict(s, plain), 'fail');

    // ...and checkSenderDomain says the published key is not ours.
    const check = await s.service.gql(
      `{ checkSenderDomain { checks { name status expected detail } } }`,
    );
    const item = check.data.checkSenderDomain.checks.find((c: any) => c.name === 'DKIM');
    assert.equal(item.status, 'INVALID');
    assert.match(item.detail, /different key/);
    assert.equal(item.expected, `${dkim.dnsRecordName} TXT "${dkim.dnsRecordValue}"`);
    publish(s, dkim.dnsRecordName, dkim.dnsRecordValue);
    const fixed = await s.service.gql(`{ checkSenderDomain { checks { name status } } }`);
    assert.equal(
      fixed.data.checkSenderDomain.checks.find((c: any) => c.name === 'DKIM').status,
      'OK',
    );
  });

  test('a given key is used; later versions keep it, the same selector keeps it, null turns signing off', async (t) => {
    const s = await setup(t);
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const given = await configure(s, { domain: 'signed.test', selector: 's2026', privateKey: pem });
    assert.equal(given.errors, undefined, JSON.stringify(given.errors));
    const record = given.data.configureSmtp.dkim.dnsRecordValue;
    publish(s, 'mail._domainkey.signed.test', 'unused');
    publish(s, 's2026._domainkey.signed.test', record);
    assert.equal(await dkimpyVerdict(s, await send(s, { subject: 'one', text: 'x' })), 'pass');

    const kept = await configure(s, undefined, true);
    assert.equal(kept.data.configureSmtp.dkim.dnsRecordValue, record);
    const same = await configure(s, { domain: 'signed.test', selector: 's2026' });
    assert.equal(same.data.configureSmtp.dkim.dnsRecordValue, record);
    assert.equal(await dkimpyVerdict(s, await send(s, { subject: 'two', text: 'x' })), 'pass');

    const off = await configure(s, null);
    assert.equal(off.data.configureSmtp.dkim, null);
    assert.doesNotMatch(await send(s, { subject: 'three', text: 'x' }), /^DKIM-Signature/m);

    const history = await s.service.gql(`{ smtpConfigHistory { version dkim { selector } } }`);
    assert.deepEqual(
      history.data.smtpConfigHistory.map((c: any) => c.dkim?.selector ?? null),
      [null, 's2026', 's2026', 's2026'],
    );
  });

  test('bad DKIM input is refused with typed errors, nothing stored, the key never echoed', async (t) => {
    const s = await setup(t);
    const weak = generateKeyPairSync('rsa', { modulusLength: 512 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    for (const [dkim, field] of [
      [{ domain: 'signed.test', selector: 'mail', privateKey: weak }, 'input.dkim.privateKey'],
      [
        { domain: 'signed.test', selector: 'mail', privateKey: 'SECRET-NOT-A-KEY' },
        'input.dkim.privateKey',
      ],
      [{ domain: 'not a domain', selector: 'mail' }, 'input.dkim.domain'],
      [{ domain: 'signed.test', selector: 'a b' }, 'input.dkim.selector'],
    ] as const) {
      const result = await configure(s, dkim);
      assert.equal(
        result.errors?.[0]?.extensions?.['code'],
        'BAD_USER_INPUT',
        JSON.stringify(result),
      );
      const problems = result.errors![0]!.extensions!['problems'] as { field: string }[];
      assert.deepEqual(
        problems.map((p) => p.field),
        [field],
      );
      const text = JSON.stringify(result);
      assert.ok(!text.includes('SECRET-NOT-A-KEY') && !text.includes(weak.split('\n')[1]!), text);
    }
    const config = await s.service.gql(`{ smtpConfig { version } }`);
    assert.equal(config.data.smtpConfig.version, null, 'nothing was stored');
  });

  test('a key that cannot sign fails the attempt with a clear error; nothing is sent unsigned', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const transports = createSmtpTransports({ timeoutMs: 3_000 });
    closeWith(t, () => transports.close());
    const endpoint = {
      scheme: 'smtp' as const,
      host: smtp.host,
      port: smtp.port,
      username: null,
      password: null,
      security: 'cleartext' as const,
      verifyCertificate: true,
      serverName: null,
    };
    const outcome = await transports.send('dkim-broken', endpoint, {
      from: { address: 'no-reply@signed.test', name: null },
      to: 'ada@example.com',
      subject: 'Hello',
      text: 'Hi',
      html: null,
      headers: [],
      messageId: '<broken-key@signed.test>',
      dkim: { domain: 'signed.test', selector: 'mail', privateKey: 'SECRET-NOT-A-KEY' },
    });
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.code, 'CONFIG');
    assert.match(outcome.error.message, /DKIM signing failed for mail\._domainkey\.signed\.test/);
    assert.match(outcome.error.message, /not sent unsigned/);
    assert.doesNotMatch(JSON.stringify(outcome), /SECRET-NOT-A-KEY/);
    assert.equal(smtp.received.length, 0);
    assert.equal(smtp.connectionCount, 0);
  });

  test('a stored key that no longer reads stops start-up with a message naming DKIM and the selector', async (t) => {
    const s = await setup(t);
    const configured = await configure(s, { domain: 'signed.test', selector: 'mail' });
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    await s.service.close();
    // Damaged in storage (no SECRETS_KEY: stored as plain PEM).
    const junk = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    const sql = 'update smtp_configs set dkim_private_key = $1';
    if (s.service.databaseUrl !== null) {
      const client = new pg.Client({ connectionString: s.service.databaseUrl });
      await client.connect();
      await client.query(sql, [junk]);
      await client.end();
    } else {
      const db = new Database(s.service.databasePath);
      db.prepare(sql.replace('$1', '?')).run(junk);
      db.close();
    }
    await assert.rejects(
      startService(
        t,
        s.service.databaseUrl !== null
          ? { DATABASE_URL: s.service.databaseUrl, DNS_SERVERS: s.dns.address }
          : { DATABASE_PATH: s.service.databasePath, DNS_SERVERS: s.dns.address },
      ),
      /DKIM private key for mail\._domainkey\.signed\.test cannot be read/,
    );
  });

  test('with SECRETS_KEY the private key is stored encrypted, like the SMTP password', async (t) => {
    const smtp = await startTestSmtpServer(t);
    const service = await startService(t, { SECRETS_KEY: Buffer.alloc(32, 9).toString('base64') });
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const result = await service.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      {
        input: {
          connectionUri: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
          fromAddress: 'no-reply@signed.test',
          dkim: { domain: 'signed.test', selector: 'mail', privateKey: pem },
        },
      },
    );
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const sql = 'select dkim_private_key as key from smtp_configs';
    let rows: { key: string }[];
    if (service.databaseUrl !== null) {
      const client = new pg.Client({ connectionString: service.databaseUrl });
      await client.connect();
      rows = (await client.query<{ key: string }>(sql)).rows;
      await client.end();
    } else {
      const db = new Database(service.databasePath, { readonly: true });
      rows = db.prepare(sql).all() as { key: string }[];
      db.close();
    }
    assert.equal(rows.length, 1);
    assert.ok(rows[0]!.key.startsWith('enc:v1:'), 'stored encrypted');
    assert.ok(!rows[0]!.key.includes(pem.split('\n')[1]!));
    // ...and still signs.
    const sent = await service.gql(
      `mutation { sendEmail(input: { to: "ada@example.com", subject: "x", text: "y" }) { id } }`,
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    await waitFor(() => smtp.received.length === 1);
    assert.match(smtp.received[0]!.raw, /^DKIM-Signature: /);
  });
});
