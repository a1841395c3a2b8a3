import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { before, describe, test } from 'node:test';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { SmtpEndpoint } from '../../src/smtp/endpoint.ts';
import {
  createSmtpTransports,
  type OutgoingMail,
  type SendOutcome,
  type SmtpTransports,
  type SmtpTransportsOptions,
} from '../../src/smtp/transport.ts';
import { issueCert } from '../helpers/certs.ts';
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

let certs: TlsFixtures;
before(() => {
  certs = createTlsFixtures();
});

// Many tests here run concurrently and share these helpers: what they start is closed when the
// file is done, however each test went.
const server = (options: TestSmtpServerOptions) => startTestSmtpServer(fileScope, options);

/** Where nothing listens: no test or process gets a port below 1024 handed out. */
const NOTHING_LISTENS = { host: '127.0.0.1', port: 1 };

function transports(
  timeoutMs = 3_000,
  maxConnections?: number,
  extra: Partial<SmtpTransportsOptions> = {},
): SmtpTransports {
  const created = createSmtpTransports({
    timeoutMs,
    ...(maxConnections ? { maxConnections } : {}),
    extraCaCertificates: [certs.ca.cert],
    ...extra,
  });
  closeWith(fileScope, () => created.close());
  return created;
}

/** The endpoint a connection URI would give, pointed at `target`. */
function endpoint(
  target: { host: string; port: number },
  overrides: Partial<SmtpEndpoint> = {},
): SmtpEndpoint {
  return {
    scheme: 'smtp',
    host: target.host,
    port: target.port,
    username: USER,
    password: PASSWORD,
    security: 'starttls',
    verifyCertificate: true,
    serverName: null,
    ...overrides,
  };
}

function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: { address: 'sender@example.test', name: 'Mailscope Tests' },
    to: 'rcpt@example.net',
    subject: 'Hello',
    text: 'Plain body',
    html: '<p>HTML body</p>',
    headers: [],
    messageId: `<${randomUUID()}@mailscope.test>`,
    ...overrides,
  };
}

async function send(
  target: { host: string; port: number },
  overrides: Partial<SmtpEndpoint> = {},
  message = mail(),
  via = transports(),
): Promise<SendOutcome> {
  const outcome = await via.send(randomUUID(), endpoint(target, overrides), message);
  const text = JSON.stringify(outcome);
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `outcome leaks the password: ${text}`);
  }
  return outcome;
}

function failure(outcome: SendOutcome) {
  assert.equal(outcome.ok, false, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

function success(outcome: SendOutcome) {
  assert.equal(outcome.ok, true, `expected success, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/**
 * A bare SMTP server on a socket, for replies no SMTP library would send: `reply` may answer a
 * client line (a command, or "." ending the message) with any text; otherwise the usual reply.
 */
async function scriptedServer(reply: (line: string) => string | null) {
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    socket.write('220 scripted ESMTP\r\n');
    let buffered = '';
    let inData = false;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (inData && line !== '.') continue;
        if (line === '.') inData = false;
        const custom = reply(line);
        const verb = line.slice(0, 4).toUpperCase();
        const answer =
          custom ??
          (verb === 'EHLO' || verb === 'HELO'
            ? '250 scripted'
            : verb === 'DATA'
              ? '354 go ahead'
              : verb === 'QUIT'
                ? '221 bye'
                : '250 2.0.0 Ok');
        if (verb === 'DATA' && custom === null) inData = true;
        socket.write(`${answer}\r\n`);
        if (verb === 'QUIT') socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  closeWith(fileScope, () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => listener.close(() => resolve()));
  });
  return { host: '127.0.0.1', port: (listener.address() as net.AddressInfo).port };
}

/** Asserts the server saw no mail transaction and no credentials. */
function assertNothingSent(smtp: TestSmtpServer): void {
  const leaked = smtp.events.filter((line) => /^(AUTH|MAIL|RCPT|DATA)\b/i.test(line));
  assert.deepEqual(leaked, [], `server saw ${JSON.stringify(smtp.events)}`);
  assert.equal(smtp.received.length, 0);
}

const auth = { username: USER, password: PASSWORD };

/** Every form of the password a transcript or an error could leak. */
const SECRETS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64'),
];

describe('security modes that succeed', { concurrency: true }, () => {
  test('smtp:// STARTTLS, certificate verified: AUTH and the envelope only after TLS', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      acceptMessage: () => '2.0.0 Ok: queued as 4XyZ',
    });
    const outcome = success(await send(smtp));
    assert.equal(outcome.response, '250 2.0.0 Ok: queued as 4XyZ');
    assert.ok(outcome.durationMs > 0);
    const [received] = smtp.received;
    assert.ok(received);
    assert.equal(received.secure, true);
    assert.equal(received.user, USER);
    const cleartext = smtp.commands.filter((c) => !c.secure).map((c) => c.line);
    assert.deepEqual(cleartext, ['EHLO [127.0.0.1]', 'STARTTLS']);
  });

  test('smtp:// STARTTLS is used even when the server does not announce it', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      hideStartTls: true,
      auth,
    });
    success(await send(smtp));
    assert.equal(smtp.received[0]?.secure, true);
  });

  test('smtp:// ?skip_ssl_verify=true accepts a self-signed certificate', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.selfSigned, auth });
    success(await send(smtp, { verifyCertificate: false }));
    assert.equal(smtp.received[0]?.secure, true);
  });

  test('smtp:// ?disable_starttls=true stays in cleartext even when STARTTLS is offered', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
    success(await send(smtp, { security: 'cleartext' }));
    assert.equal(smtp.received[0]?.secure, false);
    assert.ok(!smtp.events.includes('STARTTLS'));
  });

  test('smtps:// implicit TLS, certificate verified', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.trusted, auth });
    success(await send(smtp, { scheme: 'smtps', security: 'implicit-tls' }));
    assert.equal(smtp.received[0]?.secure, true);
    assert.equal(smtp.received[0]?.user, USER);
  });

  test('smtps:// ?skip_ssl_verify=true accepts a self-signed certificate', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.selfSigned });
    const outcome = await send(smtp, {
      scheme: 'smtps',
      security: 'implicit-tls',
      verifyCertificate: false,
      username: null,
      password: null,
    });
    success(outcome);
  });

  test('smtps:// ?server_name= verifies against that name and sends it as SNI', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.otherName });
    const overrides = {
      scheme: 'smtps',
      security: 'implicit-tls',
      serverName: 'mail.example.test',
    } as const;
    success(await send(smtp, { ...overrides, username: null, password: null }));
    assert.equal(smtp.received[0]?.servername, 'mail.example.test');
  });

  test('smtp:// ?server_name= works with STARTTLS too', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.otherName, auth });
    success(await send(smtp, { serverName: 'mail.example.test' }));
    assert.equal(smtp.received[0]?.servername, 'mail.example.test');
  });

  test('an IP address as server_name is checked against the certificate IP SANs', async () => {
    const ipOnly = issueCert(certs.ca, { ipAddresses: ['127.0.0.1'] });
    const smtp = await server({ tls: 'implicit', certificate: ipOnly });
    const overrides = {
      scheme: 'smtps',
      security: 'implicit-tls',
      serverName: '127.0.0.1',
      username: null,
      password: null,
    } as const;
    success(await send({ host: 'localhost', port: smtp.port }, overrides));
    const wrong = await server({ tls: 'implicit', certificate: certs.otherName });
    const error = failure(await send({ host: 'localhost', port: wrong.port }, overrides));
    assert.equal(error.code, 'TLS');
  });

  test('localhost is checked as a name, and sent as SNI', async () => {
    const smtp = await server({ tls: 'implicit', certificate: certs.trusted });
    const outcome = await send(
      { host: 'localhost', port: smtp.port },
      { scheme: 'smtps', security: 'implicit-tls', username: null, password: null },
    );
    success(outcome);
    assert.equal(smtp.received[0]?.servername, 'localhost');
  });
});

describe('the message on the wire', () => {
  test('envelope, Message-ID, custom headers (a later one of the same name wins)', async () => {
    const smtp = await server({ tls: 'none' });
    const message = mail({
      from: { address: 'sender@example.test', name: 'Zoë Sender' },
      headers: [
        { name: 'X-Campaign', value: 'from-config' },
        { name: 'X-Entity-Ref', value: 'abc-123' },
        { name: 'x-campaign', value: 'from-message' },
      ],
    });
    success(await send(smtp, { security: 'cleartext', username: null, password: null }, message));
    const [received] = smtp.received;
    assert.ok(received);
    assert.equal(received.from, 'sender@example.test');
    assert.deepEqual(received.to, ['rcpt@example.net']);
    assert.match(received.raw, new RegExp(`^Message-ID: ${message.messageId}\r$`, 'm'));
    assert.match(received.raw, /^X-Campaign: from-message\r$/im);
    assert.doesNotMatch(received.raw, /from-config/);
    assert.match(received.raw, /^X-Entity-Ref: abc-123\r$/m);
    assert.match(received.raw, /^From: =\?UTF-8\?Q\?Zo=C3=AB_Sender\?= <sender@example\.test>\r$/m);
    assert.match(received.raw, /^To: rcpt@example\.net\r$/m);
  });
});

describe(
  'TLS failures are TLS errors, not permanent, and nothing is sent in cleartext',
  { concurrency: true },
  () => {
    test('STARTTLS missing under smtp:// fails before AUTH or MAIL FROM', async () => {
      const smtp = await server({ tls: 'none', auth });
      const error = failure(await send(smtp));
      assert.equal(error.code, 'TLS');
      assert.equal(error.permanent, false);
      assert.equal(error.command, 'STARTTLS');
      assert.equal(error.responseCode, 500);
      assert.match(error.hint ?? '', /smtps:\/\//);
      assert.match(error.hint ?? '', /disable_starttls=true/);
      assert.ok(smtp.events.includes('STARTTLS'));
      assertNothingSent(smtp);
    });

    test('self-signed certificate under smtp:// is rejected during STARTTLS', async () => {
      const smtp = await server({ tls: 'starttls', certificate: certs.selfSigned, auth });
      const error = failure(await send(smtp));
      assert.equal(error.code, 'TLS');
      assert.equal(error.permanent, false);
      assert.equal(error.command, 'STARTTLS');
      assert.match(error.hint ?? '', /skip_ssl_verify=true/);
      assertNothingSent(smtp);
    });

    test('self-signed certificate under smtps:// is rejected', async () => {
      const smtp = await server({ tls: 'implicit', certificate: certs.selfSigned, auth });
      const error = failure(await send(smtp, { scheme: 'smtps', security: 'implicit-tls' }));
      assert.equal(error.code, 'TLS');
      assert.equal(error.permanent, false);
      assert.match(error.message, /self-signed/);
      assert.match(error.hint ?? '', /self-signed/);
      assertNothingSent(smtp);
    });

    test('a certificate for another name is rejected; the hint names it and server_name', async () => {
      const smtp = await server({ tls: 'implicit', certificate: certs.otherName, auth });
      const error = failure(await send(smtp, { scheme: 'smtps', security: 'implicit-tls' }));
      assert.equal(error.code, 'TLS');
      assert.equal(error.permanent, false);
      assert.match(error.hint ?? '', /certificate is for mail\.example\.test/);
      assert.match(error.hint ?? '', /you connected to 127\.0\.0\.1/);
      assert.match(error.hint ?? '', /\?server_name=mail\.example\.test/);
      assertNothingSent(smtp);
    });

    test('a wrong server_name is rejected too', async () => {
      const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
      const error = failure(await send(smtp, { serverName: 'wrong.example.test' }));
      assert.equal(error.code, 'TLS');
      assert.match(error.message, /wrong\.example\.test/);
      assertNothingSent(smtp);
    });

    test('an expired certificate is rejected', async () => {
      const expired = issueCert(certs.ca, {
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
        expired: true,
      });
      const smtp = await server({ tls: 'implicit', certificate: expired });
      const error = failure(await send(smtp, { scheme: 'smtps', security: 'implicit-tls' }));
      assert.equal(error.code, 'TLS');
      assert.match(error.message, /expired/);
    });

    test('smtps:// to a plaintext (STARTTLS) port: TLS error with the port hint', async () => {
      const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
      const error = failure(await send(smtp, { scheme: 'smtps', security: 'implicit-tls' }));
      assert.equal(error.code, 'TLS');
      assert.equal(error.permanent, false);
      assert.match(error.hint ?? '', /smtps:\/\/ is for port 465/);
      assert.match(error.hint ?? '', /587/);
      assertNothingSent(smtp);
    });

    test('smtp:// to an implicit-TLS port: the greeting never comes, hint says smtps://', async () => {
      const smtp = await server({ tls: 'implicit', certificate: certs.trusted, auth });
      const error = failure(await send(smtp, {}, mail(), transports(500)));
      assert.equal(error.code, 'TIMEOUT');
      assert.equal(error.permanent, false);
      assert.equal(error.command, 'CONN');
      assert.match(error.hint ?? '', /use smtps:\/\//);
      assertNothingSent(smtp);
    });
  },
);

describe('server replies', { concurrency: true }, () => {
  test('AUTH 535 is an AUTH error, not permanent, with the URI-encoding hint', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth: { username: USER, password: 'other' },
    });
    const error = failure(await send(smtp));
    assert.equal(error.code, 'AUTH');
    assert.equal(error.permanent, false);
    assert.equal(error.responseCode, 535);
    assert.equal(error.enhancedStatus, '5.7.8');
    assert.equal(error.command, 'AUTH PLAIN');
    assert.equal(error.response, '535 5.7.8 Authentication credentials invalid');
    assert.match(error.hint ?? '', /%40/);
    assert.match(error.hint ?? '', /apikey/);
    assert.ok(!smtp.events.some((line) => line.startsWith('MAIL')));
  });

  test('credentials configured but AUTH not offered: AUTH error rather than sending unauthenticated', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted });
    const error = failure(await send(smtp));
    assert.equal(error.code, 'AUTH');
    assert.equal(error.permanent, false);
    assert.equal(smtp.received.length, 0);
  });

  test('RCPT 550 5.1.1 is a permanent recipient rejection', async () => {
    const reply = {
      code: 550,
      message: '5.1.1 <rcpt@example.net>: Recipient address rejected: User unknown',
    };
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      rejectRecipients: () => reply,
    });
    const outcome = await send(smtp);
    const error = failure(outcome);
    assert.equal(error.code, 'RECIPIENT_REJECTED');
    assert.equal(error.permanent, true);
    assert.equal(error.responseCode, 550);
    assert.equal(error.enhancedStatus, '5.1.1');
    assert.equal(error.command, 'RCPT TO');
    assert.equal(error.response, `550 ${reply.message}`);
    assert.match(error.hint ?? '', /does not exist/);
    // Failures keep their transcript by default.
    assert.match(outcome.transcript ?? '', /^C: RCPT TO:<rcpt@example\.net>$/m);
    assert.match(outcome.transcript ?? '', new RegExp(`^S: 550 ${reply.message}$`, 'm'));
  });

  test('451 greylisting is not permanent, and the retry goes through', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth, greylist: 1 });
    const via = transports();
    const error = failure(await send(smtp, {}, mail(), via));
    assert.equal(error.code, 'RECIPIENT_REJECTED');
    assert.equal(error.permanent, false);
    assert.equal(error.responseCode, 451);
    assert.equal(error.enhancedStatus, '4.7.1');
    assert.match(error.hint ?? '', /greylisting/);
    assert.doesNotMatch(error.hint ?? '', /will be retried/);
    success(await send(smtp, {}, mail(), via));
  });

  test('MAIL FROM 553 is a permanent sender rejection', async () => {
    const reply = {
      code: 553,
      message: '5.7.1 <sender@example.test>: Sender address rejected: not owned by user',
    };
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      rejectSender: () => reply,
    });
    const error = failure(await send(smtp));
    assert.equal(error.code, 'SENDER_REJECTED');
    assert.equal(error.permanent, true);
    assert.equal(error.command, 'MAIL FROM');
    assert.equal(error.enhancedStatus, '5.7.1');
  });

  for (const [stage, command] of [
    ['MAIL', 'MAIL FROM'],
    ['END', 'DATA'],
  ] as const) {
    test(`a reply with no reply code at ${command} is PROTOCOL and retried, not a rejection`, async () => {
      const smtp = await scriptedServer((line) => {
        if (stage === 'MAIL' && /^MAIL FROM/i.test(line)) return 'hello there';
        if (line === '.') return stage === 'END' ? 'garbage reply' : '250 2.0.0 Ok';
        return null;
      });
      const error = failure(
        await send(smtp, { security: 'cleartext', username: null, password: null }),
      );
      assert.equal(error.code, 'PROTOCOL');
      assert.equal(error.permanent, false);
      assert.equal(error.command, command);
      assert.equal(error.responseCode, null);
      assert.match(error.message, /with no SMTP reply code: (hello there|garbage reply)/);
      assert.doesNotMatch(error.hint ?? '', /SIZE|recipient address is not valid/);
    });
  }

  test('the connection dropped at MAIL FROM: nothing was sent, and the hint does not blame the port', async () => {
    const smtp = await server({ mailFromFault: () => 'close' });
    const error = failure(
      await send(smtp, { security: 'cleartext', username: null, password: null }),
    );
    assert.equal(error.code, 'CONNECTION');
    assert.match(error.hint!, /before the message was sent: nothing was delivered/);
    assert.doesNotMatch(error.hint!, /smtps|465/);
  });

  test('a 554 after DATA is a permanent message rejection', async () => {
    const reply = { code: 554, message: '5.7.1 Message rejected as spam' };
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      rejectData: reply,
    });
    const error = failure(await send(smtp));
    assert.equal(error.code, 'MESSAGE_REJECTED');
    assert.equal(error.permanent, true);
    assert.equal(error.command, 'DATA');
    assert.equal(error.response, '554 5.7.1 Message rejected as spam');
  });
});

describe('SMTPUTF8', () => {
  test('a non-ASCII recipient to a server without SMTPUTF8: a permanent recipient rejection that says so', async () => {
    const smtp = await customServer({
      hideSMTPUTF8: true,
      // What a server that does not speak SMTPUTF8 answers; smtp-server itself would take it.
      onRcptTo(address, _session, callback) {
        if (/^[\x00-\x7f]*$/.test(address.address)) return callback();
        callback(
          Object.assign(
            new Error('5.6.7 Non-ASCII addresses are not permitted for that recipient'),
            {
              responseCode: 553,
            },
          ),
        );
      },
    });
    const outcome = await send(
      smtp,
      { security: 'cleartext', username: null, password: null },
      mail({ to: 'jörg@example.com' }),
    );
    const error = failure(outcome);
    assert.equal(error.code, 'RECIPIENT_REJECTED');
    assert.equal(error.permanent, true);
    assert.equal(error.enhancedStatus, '5.6.7');
    assert.equal(error.command, 'RCPT TO');
    assert.match(error.hint ?? '', /SMTPUTF8/);
    assert.match(error.hint ?? '', /internationalized addresses/);
    // Nodemailer does not refuse by itself: it sends the address as it is, without the SMTPUTF8
    // parameter the server never offered.
    const transcript = outcome.transcript ?? '';
    assert.doesNotMatch(transcript, /^S: 250.SMTPUTF8$/m);
    assert.match(transcript, /^C: MAIL FROM:<sender@example\.test>$/m);
    assert.match(transcript, /^C: RCPT TO:<jörg@example\.com>$/m);
  });
});

describe('transcripts', { concurrency: true }, () => {
  test('a failure keeps the transcript of its attempt: setup, envelope, the rejection; no secrets', async () => {
    const smtp = await server({
      tls: 'starttls',
      certificate: certs.trusted,
      auth,
      rejectRecipients: () => ({ code: 550, message: '5.1.1 User unknown' }),
    });
    const outcome = await send(smtp);
    failure(outcome);
    const lines = (outcome.transcript ?? '').split('\n');
    assert.deepEqual(lines.slice(0, 2), ['S: 220 mx.test ESMTP', 'C: EHLO [127.0.0.1]']);
    assert.ok(lines.includes('C: STARTTLS'));
    assert.ok(lines.includes(`C: AUTH PLAIN <credentials hidden>`));
    assert.ok(lines.includes('S: 235 Authentication successful'));
    assert.ok(lines.indexOf('C: STARTTLS') < lines.indexOf('C: AUTH PLAIN <credentials hidden>'));
    assert.ok(lines.includes('C: MAIL FROM:<sender@example.test>'));
    assert.ok(lines.includes('C: RCPT TO:<rcpt@example.net>'));
    assert.ok(lines.includes('S: 550 5.1.1 User unknown'));
    // The user name travels base64-encoded inside the AUTH PLAIN token: that is gone too.
    assert.ok(!outcome.transcript?.includes(Buffer.from(USER).toString('base64').slice(0, 12)));
    assert.doesNotMatch(outcome.transcript ?? '', /secret/);
  });

  test('AUTH LOGIN: user name and password lines are placeholders', async () => {
    const smtp = await customServer({
      authMethods: ['LOGIN'],
      authOptional: false,
      onAuth(login, _session, callback) {
        if (login.password === PASSWORD) return callback(null, { user: login.username });
        callback(Object.assign(new Error('5.7.8 Authentication failed'), { responseCode: 535 }));
      },
    });
    const cleartext = { security: 'cleartext' } as const;
    const rejected = await send(smtp, { ...cleartext, password: `${PASSWORD}!` });
    assert.equal(failure(rejected).code, 'AUTH');
    assert.deepEqual((rejected.transcript ?? '').split('\n').slice(-6), [
      'C: AUTH LOGIN',
      'S: 334 VXNlcm5hbWU6',
      'C: <user name hidden>',
      'S: 334 UGFzc3dvcmQ6',
      'C: <password hidden>',
      'S: 535 5.7.8 Authentication failed',
    ]);
    const accepted = await send(
      smtp,
      cleartext,
      mail(),
      transports(3_000, 1, { transcripts: 'all' }),
    );
    success(accepted);
    assert.match(accepted.transcript ?? '', /^C: <password hidden>\nS: 235 /m);
    for (const transcript of [rejected.transcript, accepted.transcript]) {
      assert.ok(!transcript?.includes(Buffer.from(USER).toString('base64')), transcript ?? '');
      assert.ok(!transcript?.includes(Buffer.from(`${PASSWORD}!`).toString('base64')));
    }
  });

  test('a password the server echoes is replaced in the transcript', async () => {
    const smtp = await server({
      tls: 'none',
      auth,
      rejectSender: () => ({
        code: 550,
        message: `5.7.1 not with ${PASSWORD} (${encodeURIComponent(PASSWORD)}, ${Buffer.from(PASSWORD).toString('base64')})`,
      }),
    });
    const outcome = await send(smtp, { security: 'cleartext' }); // send() checks every form
    assert.equal(failure(outcome).code, 'SENDER_REJECTED');
    assert.match(outcome.transcript ?? '', /^S: 550 5\.7\.1 not with \*\*\* \(\*\*\*, \*\*\*\)$/m);
  });

  test('successes have none by default; with "all" the message is one placeholder line', async () => {
    const smtp = await server({ tls: 'none' });
    const target = { security: 'cleartext', username: null, password: null } as const;
    assert.equal(success(await send(smtp, target)).transcript, null);
    const message = mail({ text: 'The body must not appear', html: null });
    const outcome = success(
      await send(smtp, target, message, transports(3_000, 1, { transcripts: 'all' })),
    );
    const lines = (outcome.transcript ?? '').split('\n');
    const bodyLine = lines.find((line) => line.startsWith('C: <message body'));
    assert.match(bodyLine ?? '', /^C: <message body, \d+ bytes>$/);
    assert.equal(lines.at(-1), `S: ${outcome.response}`);
    assert.doesNotMatch(outcome.transcript ?? '', /must not appear|Subject:|Message-ID/i);
  });

  test('"off": no transcript, not even for a failure', async () => {
    const smtp = await server({
      tls: 'none',
      rejectRecipients: () => ({ code: 550, message: '5.1.1 User unknown' }),
    });
    const outcome = await send(
      smtp,
      { security: 'cleartext', username: null, password: null },
      mail(),
      transports(3_000, 1, { transcripts: 'off' }),
    );
    failure(outcome);
    assert.equal(outcome.transcript, null);
  });

  test('a failure without a reply ends with what happened', async () => {
    const smtp = await server({ tls: 'none', stall: 'data' });
    const outcome = await send(
      smtp,
      { security: 'cleartext', username: null, password: null },
      mail(),
      transports(300),
    );
    const error = failure(outcome);
    const lines = (outcome.transcript ?? '').split('\n');
    assert.match(lines.at(-2) ?? '', /^C: <message body, \d+ bytes>$/);
    assert.equal(lines.at(-1), `(failed: ${error.message})`);

    const refused = await send(NOTHING_LISTENS);
    assert.equal(refused.transcript, `(failed: ${failure(refused).message})`);
  });

  for (const pipelining of [true, false]) {
    test(`pooled and concurrent (${pipelining ? 'PIPELINING' : 'no PIPELINING'}): each transcript is its own message's`, async () => {
      const smtp = await customServer({
        hidePIPELINING: !pipelining,
        authMethods: ['PLAIN'],
        authOptional: false,
        onAuth(login, _session, callback) {
          callback(null, { user: login.username });
        },
        // Random delays shuffle how the three connections' lines interleave.
        onRcptTo(address, _session, callback) {
          setTimeout(() => {
            if (!address.address.startsWith('bad-')) return callback();
            const message = `5.1.1 <${address.address}>: User unknown`;
            callback(Object.assign(new Error(message), { responseCode: 550 }));
          }, Math.random() * 8);
        },
        onData(stream, session, callback) {
          stream.resume();
          stream.on('end', () => {
            const to = session.envelope.rcptTo[0]?.address;
            setTimeout(() => callback(null, `2.0.0 Queued for <${to}>`), Math.random() * 8);
          });
        },
      });
      const via = transports(3_000, 3, { transcripts: 'all' });
      const target = endpoint(smtp, { security: 'cleartext' });
      const recipients = Array.from(
        { length: 20 },
        (_, i) => `${i % 3 === 1 ? 'bad' : 'ok'}-${i}@example.net`,
      );
      const outcomes = await Promise.all(
        recipients.map((to) => via.send('pooled', target, mail({ to }))),
      );

      const notes: string[] = [];
      outcomes.forEach((outcome, i) => {
        const to = recipients[i]!;
        const transcript = outcome.transcript ?? '';
        const lines = transcript.split('\n');
        // Its connection's setup, once, and its own envelope only.
        assert.equal(lines[0], 'S: 220 mx.test ESMTP', transcript);
        assert.equal(lines.filter((l) => l === 'C: AUTH PLAIN <credentials hidden>').length, 1);
        assert.deepEqual(
          lines.filter((line) => line.startsWith('C: RCPT TO:')),
          [`C: RCPT TO:<${to}>`],
          transcript,
        );
        assert.deepEqual(
          [...new Set(transcript.match(/(?:ok|bad)-\d+@example\.net/g))],
          [to],
          transcript,
        );
        const note = lines.find((line) => line.startsWith('(connection'));
        if (note) notes.push(note);
        if (to.startsWith('ok-')) {
          success(outcome);
          assert.equal(lines.at(-1), `S: 250 2.0.0 Queued for <${to}>`, transcript);
          assert.equal(lines.filter((l) => l.startsWith('C: <message body')).length, 1);
          return;
        }
        assert.equal(failure(outcome).code, 'RECIPIENT_REJECTED');
        const rejection = `S: 550 5.1.1 <${to}>: User unknown`;
        if (pipelining) {
          // MAIL, RCPT and DATA went out together; the reply to DATA comes last.
          assert.equal(lines.at(-2), rejection, transcript);
          assert.match(lines.at(-1) ?? '', /^S: 5\d\d /, transcript);
        } else {
          assert.equal(lines.at(-1), rejection, transcript);
        }
        assert.ok(!lines.includes('C: RSET'), transcript);
      });
      // Every send on a reused connection says which one it was, and no two say the same.
      assert.equal(new Set(notes).size, notes.length, notes.join('\n'));
      assert.equal(outcomes.length - notes.length, smtp.connectionCount, 'one first send each');
      assert.ok(smtp.connectionCount >= 2 && smtp.connectionCount <= 3, `${smtp.connectionCount}`);
    });
  }

  test('concurrent AUTH failures: each send gets the setup of the connection that failed it', async () => {
    const smtp = await server({ tls: 'none', auth });
    const via = transports(3_000, 3);
    const target = endpoint(smtp, { security: 'cleartext', password: `${PASSWORD}?` });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => via.send('bad-password', target, mail())),
    );
    for (const outcome of outcomes) {
      assert.equal(failure(outcome).code, 'AUTH');
      const lines = (outcome.transcript ?? '').split('\n');
      assert.equal(lines[0], 'S: 220 mx.test ESMTP');
      assert.equal(lines.filter((line) => line.startsWith('S: 220 ')).length, 1);
      assert.equal(lines.at(-1), 'S: 535 5.7.8 Authentication credentials invalid');
      assert.ok(!lines.some((line) => line.startsWith('C: MAIL')));
    }
  });
});

describe('network failures', { concurrency: true }, () => {
  test('connection refused is a CONNECTION error', async () => {
    const error = failure(await send(NOTHING_LISTENS));
    assert.equal(error.code, 'CONNECTION');
    assert.equal(error.permanent, false);
    assert.equal(error.command, 'CONN');
    assert.match(error.message, /refused/);
    assert.match(error.hint ?? '', /host and port/);
  });

  test('a server that never greets times out, after timeoutMs', async (t) => {
    const stalling = await startStallingServer(t);
    const outcome = await send(stalling, {}, mail(), transports(500));
    const error = failure(outcome);
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(error.permanent, false);
    // Not before its time (a slower machine only makes it later).
    assert.ok(outcome.durationMs >= 450, `took ${outcome.durationMs} ms`);
  });

  test('a server that never answers the end of data times out', async () => {
    const smtp = await server({ tls: 'none', stall: 'data' });
    const via = transports(500);
    const outcome = await send(
      smtp,
      { security: 'cleartext', username: null, password: null },
      mail(),
      via,
    );
    const error = failure(outcome);
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(error.permanent, false);
  });
});

describe('pools', () => {
  test('sends share pooled connections, up to maxConnections', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
    const via = transports(3_000, 2);
    const target = endpoint(smtp);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => via.send('config-1', target, mail())),
    );
    assert.ok(outcomes.every((o) => o.ok));
    assert.equal(smtp.received.length, 20);
    assert.ok(smtp.connectionCount <= 2, `${smtp.connectionCount} connections`);
  });

  test('retainOnly closes the pools of other keys; the next send opens a new one', async () => {
    const smtp = await server({ tls: 'none' });
    const via = transports();
    const target = endpoint(smtp, { security: 'cleartext', username: null, password: null });
    success(await via.send('v1', target, mail()));
    success(await via.send('v1', target, mail()));
    assert.equal(smtp.connectionCount, 1);
    via.retainOnly(new Set(['v2']));
    success(await via.send('v1', target, mail()));
    assert.equal(smtp.connectionCount, 2);
  });

  test('a pooled connection that idled past the timeout is replaced', async () => {
    const smtp = await server({ tls: 'starttls', certificate: certs.trusted, auth });
    const via = transports(300);
    const target = endpoint(smtp);
    success(await via.send('v1', target, mail()));
    await waitFor(() => smtp.openConnections === 0, {
      description: 'the idle connection to close',
    });
    success(await via.send('v1', target, mail()));
    assert.equal(smtp.connectionCount, 2);
  });

  test('close waits for in-flight sends; later sends fail without throwing', async () => {
    const smtp = await server({ tls: 'none', stall: 'data' });
    const via = createSmtpTransports({ timeoutMs: 500 });
    closeWith(fileScope, () => via.close());
    const target = endpoint(smtp, { security: 'cleartext', username: null, password: null });
    let settled = false;
    const inFlight = via.send('v1', target, mail()).then((outcome) => {
      settled = true;
      return outcome;
    });
    // Mid-DATA: the server has the DATA command and will never answer the message.
    await waitFor(() => smtp.events.includes('DATA'), { description: 'the send to reach DATA' });
    await via.close();
    assert.equal(settled, true);
    assert.equal(failure(await inFlight).code, 'TIMEOUT');
    const late = failure(await via.send('v1', target, mail()));
    assert.equal(late.code, 'CONNECTION');
    assert.equal(late.permanent, false);
  });
});

interface CustomServer {
  host: string;
  port: number;
  readonly connectionCount: number;
}

/** A plain smtp-server with the options a test needs that the shared helper has no knob for. */
async function customServer(options: SMTPServerOptions): Promise<CustomServer> {
  let connectionCount = 0;
  const smtp = new SMTPServer({
    name: 'mx.test',
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    hideENHANCEDSTATUSCODES: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
    ...options,
    onConnect(session, callback) {
      connectionCount++;
      if (options.onConnect) options.onConnect(session, callback);
      else callback();
    },
  });
  smtp.on('error', () => {});
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  closeWith(
    fileScope,
    () =>
      new Promise<void>((resolve) => {
        smtp.close(() => resolve());
        for (const connection of smtp.connections) connection._socket.destroy();
      }),
  );
  const { port } = smtp.server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get connectionCount() {
      return connectionCount;
    },
  };
}
