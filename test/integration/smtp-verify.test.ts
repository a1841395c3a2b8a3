import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { before, describe, test } from 'node:test';
import { parseSmtpUri } from '../../src/smtp/uri.ts';
import {
  verifySmtpEndpoint,
  type VerifyReport,
  type VerifyStep,
  type VerifyStepName,
} from '../../src/smtp/verify.ts';
import { issueCert, type TestCert } from '../helpers/certs.ts';
import { createTlsFixtures, type TlsFixtures } from '../helpers/fixtures.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import {
  startStallingServer,
  startTestSmtpServer,
  type TestSmtpServer,
  type TestSmtpServerOptions,
} from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const USER = 'mailer@example.test';
// Recognisable, and with characters that URI-encoding and base64 would change.
const PASSWORD = 'Zebra-Quokka/7@Pangolin';
const WRONG_PASSWORD = 'Wombat-Narwhal/9@Axolotl';
const auth = { username: USER, password: PASSWORD };

let certs: TlsFixtures;
before(() => {
  certs = createTlsFixtures();
});

// Many tests here run concurrently and share these helpers: what they start is closed when the
// file is done, however each test went.
const server = (options: TestSmtpServerOptions) => startTestSmtpServer(fileScope, options);

/** A connection URI as a user would write it: credentials URI-encoded. */
function uri(
  scheme: 'smtp' | 'smtps',
  target: { host: string; port: number },
  { password = PASSWORD as string | null, query = '' } = {},
): string {
  const userinfo =
    password === null ? '' : `${encodeURIComponent(USER)}:${encodeURIComponent(password)}@`;
  return `${scheme}://${userinfo}${target.host}:${target.port}/${query}`;
}

function secretForms(password: string): string[] {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    password,
    encodeURIComponent(password),
    base64(password),
    base64(`\u0000${USER}\u0000${password}`),
  ];
}

async function verify(connectionUri: string, timeoutMs = 3_000): Promise<VerifyReport> {
  const parsed = parseSmtpUri(connectionUri);
  assert.ok(parsed.ok, `bad test URI: ${JSON.stringify(parsed)}`);
  const report = await verifySmtpEndpoint(parsed.endpoint, {
    timeoutMs,
    extraCaCertificates: [certs.ca.cert],
  });
  const json = JSON.stringify(report);
  for (const secret of [...secretForms(PASSWORD), ...secretForms(WRONG_PASSWORD)]) {
    assert.ok(!json.includes(secret), `report leaks a password form ${secret}: ${json}`);
  }
  return report;
}

function names(report: VerifyReport): VerifyStepName[] {
  return report.steps.map((step) => step.name);
}

function step(report: VerifyReport, name: VerifyStepName, nth = 0): VerifyStep {
  const found = report.steps.filter((s) => s.name === name)[nth];
  assert.ok(found, `no ${name} step #${nth} in ${JSON.stringify(report)}`);
  return found;
}

function succeeded(report: VerifyReport, expected: VerifyStepName[]): VerifyReport {
  assert.equal(report.ok, true, `expected success, got ${JSON.stringify(report, null, 2)}`);
  assert.deepEqual(names(report), expected);
  for (const s of report.steps) {
    assert.equal(s.ok, true);
    assert.equal(s.error, undefined);
    assert.ok(Number.isInteger(s.durationMs) && s.durationMs >= 0);
    assert.ok(s.detail.length > 0 && !s.detail.includes('\n'), `detail: ${s.detail}`);
  }
  assert.ok(report.totalDurationMs >= 0);
  return report;
}

/** Asserts the run stopped at its last step, which failed; returns that step and its error. */
function failedAt(report: VerifyReport, expected: VerifyStepName[]) {
  assert.equal(report.ok, false, `expected failure, got ${JSON.stringify(report, null, 2)}`);
  assert.deepEqual(names(report), expected);
  const last = report.steps.at(-1)!;
  assert.ok(report.steps.slice(0, -1).every((s) => s.ok && !s.error));
  assert.equal(last.ok, false);
  assert.ok(last.error, 'the failing step carries an error');
  assert.ok(last.error.hint, 'the error carries a hint');
  return { step: last, error: last.error };
}

/** The session was closed politely and no mail transaction was started. */
async function endedWithQuit(smtp: TestSmtpServer): Promise<void> {
  await waitFor(() => smtp.openConnections === 0, { description: 'the connection to close' });
  assert.equal(smtp.events.at(-1), 'QUIT', `server saw ${JSON.stringify(smtp.events)}`);
  assert.ok(!smtp.events.some((line) => /^(MAIL|RCPT|DATA)\b/i.test(line)));
  assert.equal(smtp.received.length, 0);
}

const STARTTLS_STEPS: VerifyStepName[] = [
  'DNS',
  'CONNECT',
  'GREETING',
  'EHLO',
  'STARTTLS',
  'TLS',
  'EHLO',
  'AUTH',
];
const IMPLICIT_STEPS: VerifyStepName[] = ['DNS', 'CONNECT', 'TLS', 'GREETING', 'EHLO', 'AUTH'];

describe('the six kinds of connection URI', { concurrency: true }, () => {
  test('smtp://: STARTTLS, verified certificate, AUTH after TLS only', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      size: 10_240_000,
    });
    const report = succeeded(await verify(uri('smtp', smtp)), STARTTLS_STEPS);

    assert.deepEqual(step(report, 'DNS').addresses, ['127.0.0.1']);
    assert.match(step(report, 'CONNECT').detail, new RegExp(`127\\.0\\.0\\.1:${smtp.port}`));
    assert.match(step(report, 'GREETING').banner ?? '', /^220 mx\.test /);
    const plain = step(report, 'EHLO', 0);
    assert.ok(plain.extensions?.includes('STARTTLS'), JSON.stringify(plain.extensions));
    assert.ok(plain.extensions?.includes('SIZE 10240000'));
    assert.equal(plain.startTls, true);
    assert.equal(plain.maxMessageSize, 10_240_000);
    assert.equal(plain.pipelining, true);
    assert.match(step(report, 'STARTTLS').detail, /^220 /);

    const tls = step(report, 'TLS').tls;
    assert.ok(tls);
    assert.equal(tls.protocol, 'TLSv1.3');
    assert.ok(tls.cipher);
    assert.equal(tls.subject, 'localhost');
    assert.deepEqual(tls.subjectAltNames, ['localhost', '127.0.0.1']);
    assert.equal(tls.issuer, 'mailscope test CA');
    assert.ok(Date.parse(tls.validFrom ?? '') < Date.now());
    assert.ok(Date.parse(tls.validTo ?? '') > Date.now());
    assert.equal(tls.trusted, true);
    assert.equal(tls.trustError, null);
    assert.equal(tls.nameChecked, '127.0.0.1');
    assert.equal(tls.nameMatches, true);
    assert.equal(tls.verificationSkipped, false);

    const secured = step(report, 'EHLO', 1);
    assert.ok(secured.extensions?.includes('AUTH PLAIN LOGIN'));
    assert.deepEqual(secured.authMechanisms, ['PLAIN', 'LOGIN']);
    assert.equal(secured.startTls, false);
    assert.deepEqual(step(report, 'AUTH').auth, {
      mechanism: 'PLAIN',
      accepted: true,
      response: '235 Authentication successful',
    });

    const cleartext = smtp.commands.filter((c) => !c.secure).map((c) => c.line);
    assert.deepEqual(cleartext, ['EHLO [127.0.0.1]', 'STARTTLS']);
    assert.ok(smtp.commands.some((c) => c.secure && /^AUTH PLAIN/.test(c.line)));
    await endedWithQuit(smtp);
  });

  test('smtp:// ?skip_ssl_verify=true: a self-signed certificate is reported, not fatal', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.selfSigned, auth });
    const report = await verify(uri('smtp', smtp, { query: '?skip_ssl_verify=true' }));
    succeeded(report, STARTTLS_STEPS);
    const tls = step(report, 'TLS').tls;
    assert.equal(tls?.verificationSkipped, true);
    assert.equal(tls?.trusted, false);
    assert.equal(tls?.trustError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(tls?.nameMatches, true);
    assert.equal(tls?.issuer, 'localhost');
    assert.match(step(report, 'TLS').detail, /not trusted \(self-signed certificate\)/);
    await endedWithQuit(smtp);
  });

  test('smtp:// ?disable_starttls=true: cleartext, even when STARTTLS is offered', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
    const report = await verify(uri('smtp', smtp, { query: '?disable_starttls=true' }));
    succeeded(report, ['DNS', 'CONNECT', 'GREETING', 'EHLO', 'AUTH']);
    assert.equal(step(report, 'EHLO').startTls, true);
    assert.equal(step(report, 'AUTH').auth?.accepted, true);
    assert.match(step(report, 'AUTH').detail, /cleartext/);
    assert.ok(!smtp.events.includes('STARTTLS'));
    assert.ok(smtp.commands.every((c) => !c.secure));
    await endedWithQuit(smtp);
  });

  test('smtps://: implicit TLS, verified certificate', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.trusted, auth });
    const report = succeeded(await verify(uri('smtps', smtp)), IMPLICIT_STEPS);
    const tls = step(report, 'TLS').tls;
    assert.equal(tls?.trusted, true);
    assert.equal(tls?.nameMatches, true);
    assert.equal(tls?.subject, 'localhost');
    assert.deepEqual(step(report, 'EHLO').authMechanisms, ['PLAIN', 'LOGIN']);
    assert.equal(step(report, 'AUTH').auth?.accepted, true);
    assert.ok(smtp.commands.every((c) => c.secure));
    await endedWithQuit(smtp);
  });

  test('smtps:// ?skip_ssl_verify=true, no credentials: no AUTH step', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.selfSigned });
    const report = await verify(
      uri('smtps', smtp, { password: null, query: '?skip_ssl_verify=true' }),
    );
    succeeded(report, ['DNS', 'CONNECT', 'TLS', 'GREETING', 'EHLO']);
    assert.equal(step(report, 'TLS').tls?.verificationSkipped, true);
    assert.equal(step(report, 'TLS').tls?.trusted, false);
    assert.deepEqual(step(report, 'EHLO').authMechanisms, []);
    await endedWithQuit(smtp);
  });

  test('smtps:// ?server_name=: checked against that name', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.otherName, auth });
    const report = await verify(uri('smtps', smtp, { query: '?server_name=mail.example.test' }));
    succeeded(report, IMPLICIT_STEPS);
    const tls = step(report, 'TLS').tls;
    assert.equal(tls?.nameChecked, 'mail.example.test');
    assert.equal(tls?.nameMatches, true);
    assert.deepEqual(tls?.subjectAltNames, ['mail.example.test']);
    await endedWithQuit(smtp);
  });
});

describe('TLS problems stop before AUTH', { concurrency: true }, () => {
  test('self-signed under smtps://: TLS fails, with the trust error and a hint', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.selfSigned, auth });
    const { step: tlsStep, error } = failedAt(await verify(uri('smtps', smtp)), [
      'DNS',
      'CONNECT',
      'TLS',
    ]);
    assert.equal(error.code, 'TLS');
    assert.equal(error.permanent, false);
    assert.match(error.message, /not trusted: self-signed certificate/);
    assert.match(error.hint ?? '', /self-signed/);
    assert.match(error.hint ?? '', /skip_ssl_verify=true/);
    assert.equal(tlsStep.tls?.trusted, false);
    assert.equal(tlsStep.tls?.trustError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(tlsStep.tls?.subject, 'localhost', 'the certificate is still described');
    await endedWithQuit(smtp);
  });

  test('self-signed under smtp://: fails at TLS after STARTTLS, nothing else sent', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.selfSigned, auth });
    const { error } = failedAt(await verify(uri('smtp', smtp)), [
      'DNS',
      'CONNECT',
      'GREETING',
      'EHLO',
      'STARTTLS',
      'TLS',
    ]);
    assert.equal(error.code, 'TLS');
    assert.equal(error.command, 'STARTTLS');
    assert.ok(!smtp.events.some((line) => /^AUTH/i.test(line)));
    await endedWithQuit(smtp);
  });

  test('a certificate for another name: the hint names it; server_name fixes it', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.otherName, auth });
    const { step: tlsStep, error } = failedAt(await verify(uri('smtps', smtp)), [
      'DNS',
      'CONNECT',
      'TLS',
    ]);
    assert.equal(error.code, 'TLS');
    assert.equal(error.permanent, false);
    assert.equal(tlsStep.tls?.trusted, true);
    assert.equal(tlsStep.tls?.nameMatches, false);
    assert.equal(tlsStep.tls?.nameChecked, '127.0.0.1');
    assert.match(error.hint ?? '', /certificate is for mail\.example\.test/);
    assert.match(error.hint ?? '', /you connected to 127\.0\.0\.1/);
    assert.match(error.hint ?? '', /\?server_name=mail\.example\.test/);
    assert.ok(!smtp.events.some((line) => /^AUTH/i.test(line)));

    const fixed = await verify(uri('smtps', smtp, { query: '?server_name=mail.example.test' }));
    succeeded(fixed, IMPLICIT_STEPS);
  });

  test('smtp:// without STARTTLS on the server: fails at STARTTLS, no AUTH in cleartext', async () => {
    const smtp = await server({ tls: 'none', auth });
    const report = await verify(uri('smtp', smtp));
    const { error } = failedAt(report, ['DNS', 'CONNECT', 'GREETING', 'EHLO', 'STARTTLS']);
    assert.equal(step(report, 'EHLO').startTls, false);
    assert.equal(error.code, 'TLS');
    assert.equal(error.permanent, false);
    assert.equal(error.command, 'STARTTLS');
    assert.equal(error.responseCode, 500);
    assert.match(error.hint ?? '', /smtps:\/\//);
    assert.match(error.hint ?? '', /465/);
    assert.match(error.hint ?? '', /disable_starttls=true/);
    assert.ok(smtp.events.includes('STARTTLS'));
    assert.ok(!smtp.events.some((line) => /^AUTH/i.test(line)), JSON.stringify(smtp.events));
    await endedWithQuit(smtp);
  });

  test('cleartext sent after the 220 to STARTTLS is not read as a reply after TLS', async () => {
    const scripted = await startScriptedServer(
      ['220 mx.scripted ESMTP'],
      (line) => {
        if (!line.startsWith('EHLO ')) return ['235 2.7.0 Authentication successful'];
        return ['250-mx.scripted', '250-STARTTLS', '250 AUTH PLAIN'];
      },
      // What an attacker on the path would add (CVE-2011-0411).
      { certificate: certs.trusted, sendAfter220: ['250-injected', '250 AUTH EVIL'] },
    );
    const report = succeeded(await verify(uri('smtp', scripted)), STARTTLS_STEPS);
    assert.deepEqual(step(report, 'EHLO', 1).extensions, ['STARTTLS', 'AUTH PLAIN']);
    assert.equal(step(report, 'AUTH').auth?.mechanism, 'PLAIN');
  });

  test('smtp:// with STARTTLS accepted but not advertised: tried anyway and used', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      hideStartTls: true,
      auth,
    });
    const report = succeeded(await verify(uri('smtp', smtp)), STARTTLS_STEPS);
    assert.equal(step(report, 'EHLO').startTls, false);
    assert.match(step(report, 'STARTTLS').detail, /not advertised/);
  });

  test('an expired certificate fails TLS with its dates reported', async () => {
    const expired = issueCert(certs.ca, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      expired: true,
    });
    const smtp = await server({ tls: 'implicit', certificate: expired });
    const report = await verify(uri('smtps', smtp, { password: null }));
    const { step: tlsStep, error } = failedAt(report, ['DNS', 'CONNECT', 'TLS']);
    assert.equal(error.code, 'TLS');
    assert.match(error.message, /expired/);
    assert.equal(tlsStep.tls?.trustError, 'CERT_HAS_EXPIRED');
    assert.ok(Date.parse(tlsStep.tls?.validTo ?? '') < Date.now());
  });
});

describe('AUTH', { concurrency: true }, () => {
  test('a wrong password: AUTH fails with the reply; no form of the password in the report', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
    const report = await verify(uri('smtp', smtp, { password: WRONG_PASSWORD }));
    const { step: authStep, error } = failedAt(report, STARTTLS_STEPS);
    assert.equal(error.code, 'AUTH');
    assert.equal(error.permanent, false);
    assert.equal(error.responseCode, 535);
    assert.equal(error.enhancedStatus, '5.7.8');
    assert.equal(error.command, 'AUTH PLAIN');
    assert.match(error.hint ?? '', /user name or password/);
    assert.deepEqual(authStep.auth, {
      mechanism: 'PLAIN',
      accepted: false,
      response: '535 5.7.8 Authentication credentials invalid',
    });
    const json = JSON.stringify(report);
    assert.doesNotMatch(json, /AUTH PLAIN [A-Za-z0-9+/=]{8,}/, 'the AUTH command line');
    await endedWithQuit(smtp);
  });

  test('credentials in the URI but no AUTH offered: AUTH fails and says so', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted });
    const report = await verify(uri('smtp', smtp));
    const { error } = failedAt(report, STARTTLS_STEPS);
    assert.equal(error.code, 'AUTH');
    assert.match(error.message, /does not offer AUTH/);
    assert.match(error.hint ?? '', /remove user:password/);
    assert.ok(!smtp.events.some((line) => /^AUTH/i.test(line)));
    await endedWithQuit(smtp);
  });

  test('LOGIN when PLAIN is not offered; multi-line replies read whole', async () => {
    let stage = 0;
    const scripted = await startScriptedServer(
      ['220-mx.scripted ESMTP', '220-no UCE', '220 ready'],
      (line) => {
        if (line.startsWith('EHLO ')) {
          return [
            '250-mx.scripted',
            '250-AUTH=LOGIN',
            '250-AUTH LOGIN',
            '250-SIZE 0',
            '250 SMTPUTF8',
          ];
        }
        if (line === 'AUTH LOGIN') stage = 1;
        else if (stage > 0) stage++;
        return stage === 1
          ? ['334 VXNlcm5hbWU6']
          : stage === 2
            ? ['334 UGFzc3dvcmQ6']
            : ['235 2.7.0 Authentication successful'];
      },
    );
    const report = await verify(uri('smtp', scripted, { query: '?disable_starttls=true' }));
    succeeded(report, ['DNS', 'CONNECT', 'GREETING', 'EHLO', 'AUTH']);
    assert.equal(step(report, 'GREETING').banner, '220-mx.scripted ESMTP\n220-no UCE\n220 ready');
    assert.match(step(report, 'GREETING').detail, /^220-mx\.scripted ESMTP \(\+2 more lines\)$/);
    const ehlo = step(report, 'EHLO');
    assert.deepEqual(ehlo.authMechanisms, ['LOGIN']);
    assert.equal(ehlo.maxMessageSize, null);
    assert.equal(ehlo.smtpUtf8, true);
    assert.equal(ehlo.pipelining, false);
    assert.deepEqual(step(report, 'AUTH').auth, {
      mechanism: 'LOGIN',
      accepted: true,
      response: '235 2.7.0 Authentication successful',
    });
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    assert.deepEqual(scripted.lines, [
      'EHLO [127.0.0.1]',
      'AUTH LOGIN',
      b64(USER),
      b64(PASSWORD),
      'QUIT',
    ]);
  });

  test('a server that echoes the credentials: the report shows *** instead', async () => {
    const scripted = await startScriptedServer(['220 mx.echo ESMTP'], (line) =>
      line.startsWith('EHLO ')
        ? ['250-mx.echo', '250 AUTH PLAIN']
        : [`535-5.7.8 Rejected: ${line}`, `535 5.7.8 Password ${WRONG_PASSWORD} is wrong`],
    );
    const report = await verify(
      uri('smtp', scripted, { password: WRONG_PASSWORD, query: '?disable_starttls=true' }),
    );
    const { step: authStep, error } = failedAt(report, [
      'DNS',
      'CONNECT',
      'GREETING',
      'EHLO',
      'AUTH',
    ]);
    assert.equal(error.code, 'AUTH');
    assert.equal(authStep.auth?.accepted, false);
    assert.equal(
      authStep.auth?.response,
      '535-5.7.8 Rejected: AUTH PLAIN ***\n535 5.7.8 Password *** is wrong',
    );
    assert.ok(scripted.lines.some((line) => line.startsWith('AUTH PLAIN ')));
  });
});

describe('failures before SMTP', { concurrency: true }, () => {
  test('connection refused: CONNECT fails with CONNECTION', async () => {
    // Nothing listens on port 1: no port below 1024 is ever handed out to a test or a process.
    const port = 1;
    const report = await verify(uri('smtp', { host: '127.0.0.1', port }));
    const { error } = failedAt(report, ['DNS', 'CONNECT']);
    assert.equal(error.code, 'CONNECTION');
    assert.equal(error.command, 'CONN');
    assert.match(error.message, /refused/);
    assert.match(error.hint ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  test('a server that never greets: GREETING fails with TIMEOUT', async (t) => {
    const stalling = await startStallingServer(t);
    const report = await verify(uri('smtp', stalling), 300);
    const { error } = failedAt(report, ['DNS', 'CONNECT', 'GREETING']);
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(error.command, 'CONN');
    assert.match(error.message, /greeting/);
    // It waited for the timeout (a slower machine only makes it later).
    assert.ok(step(report, 'GREETING').durationMs >= 290);
  });

  test('smtps:// to a server that never answers the handshake: TLS fails with TIMEOUT', async (t) => {
    const stalling = await startStallingServer(t);
    const report = await verify(uri('smtps', stalling), 300);
    const { error } = failedAt(report, ['DNS', 'CONNECT', 'TLS']);
    assert.equal(error.code, 'TIMEOUT');
    assert.ok(step(report, 'TLS').durationMs >= 290);
  });

  test('smtps:// to a plaintext SMTP port: TLS fails with the wrong-port hint', async () => {
    const smtp = await server({ tls: 'none' });
    const report = await verify(uri('smtps', smtp, { password: null }));
    const { error } = failedAt(report, ['DNS', 'CONNECT', 'TLS']);
    assert.equal(error.code, 'TLS');
    assert.match(error.hint ?? '', /smtps:\/\/ is for port 465/);
  });

  test('a host name that does not resolve: DNS fails', async () => {
    const report = await verify('smtp://nonexistent.invalid:587/');
    const { error } = failedAt(report, ['DNS']);
    assert.equal(error.code, 'CONNECTION');
    assert.match(error.message, /nonexistent\.invalid/);
    assert.match(error.hint ?? '', /spelling|DNS/);
  });

  test('a host name that resolves: DNS lists its addresses', async () => {
    const smtp = await server({ tls: 'none' });
    const report = await verify(
      uri(
        'smtp',
        { host: 'localhost', port: smtp.port },
        { password: null, query: '?disable_starttls=true' },
      ),
    );
    succeeded(report, ['DNS', 'CONNECT', 'GREETING', 'EHLO']);
    const dns = step(report, 'DNS');
    assert.ok(dns.addresses?.includes('127.0.0.1'), JSON.stringify(dns));
    assert.match(dns.detail, /^resolved localhost to /);
  });

  test('EHLO refused: HELO is tried, as a delivery would', async () => {
    const scripted = await startScriptedServer(['220 mx.old SMTP'], (line) =>
      line.startsWith('HELO ') ? ['250 mx.old'] : ['502 5.5.2 Error: command not recognized'],
    );
    const report = await verify(
      uri('smtp', scripted, { password: null, query: '?disable_starttls=true' }),
    );
    succeeded(report, ['DNS', 'CONNECT', 'GREETING', 'EHLO']);
    assert.match(step(report, 'EHLO').detail, /EHLO refused .*HELO accepted/);
    assert.deepEqual(step(report, 'EHLO').extensions, []);
    assert.deepEqual(scripted.lines, ['EHLO [127.0.0.1]', 'HELO [127.0.0.1]', 'QUIT']);
  });

  test('a port that does not speak SMTP: GREETING fails with PROTOCOL', async () => {
    const scripted = await startScriptedServer(['SSH-2.0-OpenSSH_9.6'], () => []);
    const report = await verify(uri('smtp', scripted, { password: null }));
    const { error } = failedAt(report, ['DNS', 'CONNECT', 'GREETING']);
    assert.equal(error.code, 'PROTOCOL');
    assert.match(error.message, /SSH-2\.0/);
    assert.match(error.hint ?? '', /SMTP server/);
  });

  test('a server that turns the client away: GREETING fails with its reply', async () => {
    const scripted = await startScriptedServer(['554 5.7.1 No SMTP service here'], () => []);
    const report = await verify(uri('smtp', scripted, { password: null }));
    const { step: greeting, error } = failedAt(report, ['DNS', 'CONNECT', 'GREETING']);
    assert.equal(error.code, 'CONNECTION');
    assert.equal(error.responseCode, 554);
    assert.equal(greeting.banner, '554 5.7.1 No SMTP service here');
  });
});

/**
 * A tiny SMTP server that answers from a script: the replies smtp-server cannot be made to give
 * (LOGIN without PLAIN, old-style "AUTH=", multi-line greetings, echoes, no EHLO). `answer` gets
 * each line and returns the reply lines; QUIT, and STARTTLS when given a certificate, are
 * answered here. Records every line it reads.
 */
async function startScriptedServer(
  greeting: string[],
  answer: (line: string) => string[],
  starttls?: { certificate: TestCert; sendAfter220: string[] },
) {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const reply = (stream: net.Socket, out: string[]) =>
    stream.write(out.map((line) => `${line}\r\n`).join(''));
  const converse = (stream: net.Socket) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        lines.push(line);
        if (line === 'QUIT') {
          reply(stream, ['221 2.0.0 Bye']);
          stream.end();
        } else if (line === 'STARTTLS' && starttls) {
          stream.off('data', onData);
          reply(stream, ['220 2.0.0 Ready to start TLS', ...starttls.sendAfter220]);
          const { cert, key } = starttls.certificate;
          const secure = new tls.TLSSocket(stream, { isServer: true, cert, key });
          secure.on('error', () => {});
          converse(secure);
          return;
        } else {
          reply(stream, answer(line));
        }
      }
    };
    stream.on('data', onData);
  };
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    reply(socket, greeting);
    converse(socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const { port } = tcp.address() as net.AddressInfo;
  closeWith(
    fileScope,
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        tcp.close(() => resolve());
      }),
  );
  return { host: '127.0.0.1', port, lines };
}
