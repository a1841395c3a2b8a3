import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import pg from 'pg';
import { isLoopbackAddress } from '../../src/smtp/submission-server.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { graphqlRequest, type TestService } from '../helpers/service.ts';
import { ca, setUp } from '../helpers/submission.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// SMTP submission (issue 18): applications that only speak SMTP hand their mail to mailscope,
// with nodemailer as the submitting client, against the real service and a real SMTP sink.

function client(
  scope: Scope,
  setup: { host: string; port: number },
  options: Record<string, unknown> & { pass?: string | null } = {},
) {
  const { pass, ...rest } = options;
  const transport = nodemailer.createTransport({
    host: setup.host,
    port: setup.port,
    secure: false,
    requireTLS: true,
    tls: { ca: [ca.cert], servername: 'localhost' },
    ...(pass === null ? {} : { auth: { user: 'app', pass: pass ?? '' } }),
    ...rest,
  } as never);
  closeWith(scope, () => transport.close());
  return transport;
}

/** A message with attachments, non-ASCII headers, To, Cc and Bcc, as a client would write it. */
async function composedMessage(): Promise<Buffer> {
  const message = new MailComposer({
    from: { name: 'Zoë Åström', address: 'noreply@example.com' },
    to: 'ana@example.com',
    cc: 'bo@example.org',
    bcc: 'secret@example.net',
    subject: 'Réinitialisation du mot de passe ✓ — 日本語',
    text: 'Bonjour,\nvoici le lien : https://example.com/reset?t=123\n— l’équipe',
    html: '<p>Bonjour, <b>voici</b> le lien.</p>',
    headers: { 'X-Request-Id': 'req-42', 'X-Tenant': 'Société Générale' },
    attachments: [
      { filename: 'reçu.pdf', content: Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]) },
      { filename: 'notes.txt', content: 'plain attachment\n' },
    ],
  } as never).compile();
  // As sendmail-style clients do: the Bcc header is in the message handed to the server.
  (message as unknown as { keepBcc: boolean }).keepBcc = true;
  return message.build();
}

const MESSAGES = `{ messages(first: 200) { totalCount edges { node {
  id recipient subject status messageId submittedOverSmtp submittedBy text html
  headers { name value } } } } }`;

describe(`SMTP submission (${TEST_DIALECT})`, () => {
  test('STARTTLS + AUTH with a SEND token: one message per recipient, the MIME delivered as sent, no Bcc header', async (t) => {
    const setup = await setUp(t);
    const raw = await composedMessage();
    assert.match(raw.toString('utf8'), /^Bcc: secret@example\.net\r\n/m, 'the client wrote a Bcc');
    const info = await client(t, setup, { pass: setup.sendToken }).sendMail({
      envelope: {
        from: 'noreply@example.com',
        to: ['ana@example.com', 'bo@example.org', 'secret@example.net'],
      },
      raw,
    });
    assert.match(info.response, /^250 2\.6\.0 Ok: queued as /);

    await waitFor(() => setup.sink.received.length === 3, { description: '3 deliveries' });
    // On the wire every line ends in CRLF (the client turns the composer's bare LFs into CRLF).
    const expected = raw
      .toString('utf8')
      .replace(/\r?\n/g, '\r\n')
      .replace(/^Bcc: secret@example\.net\r\n/m, '');
    for (const mail of setup.sink.received) {
      assert.equal(mail.from, 'relay@mailscope.test', 'the envelope sender is the configured one');
      assert.equal(mail.to.length, 1, 'one recipient per delivered message');
      assert.equal(mail.raw, expected, `byte for byte to ${mail.to[0]}`);
      assert.doesNotMatch(mail.raw, /^bcc:/im);
    }
    assert.deepEqual(setup.sink.received.map((mail) => mail.to[0]).sort(), [
      'ana@example.com',
      'bo@example.org',
      'secret@example.net',
    ]);

    const listed = await waitFor(async () => {
      const data = await setup.gql(MESSAGES);
      const nodes = data.messages.edges.map((e: any) => e.node);
      return nodes.length === 3 && nodes.every((n: any) => n.status === 'SENT') && nodes;
    });
    const messageId = /^Message-ID: (.*)\r$/m.exec(raw.toString('utf8'))![1];
    for (const node of listed) {
      assert.equal(node.submittedOverSmtp, true);
      assert.equal(node.submittedBy, 'kratos-courier', "the token's name, never the token");
      assert.equal(node.subject, 'Réinitialisation du mot de passe ✓ — 日本語');
      assert.equal(node.messageId, messageId, 'the submitted Message-ID is kept');
      assert.match(
        node.text,
        /voici le lien : https:\/\/example\.com\/reset\?t=123\r?\n— l’équipe/,
      );
      assert.equal(node.html, '<p>Bonjour, <b>voici</b> le lien.</p>');
      assert.deepEqual(
        node.headers.map((h: any) => h.name),
        ['X-Request-ID', 'X-Tenant'],
      );
    }
    // Messages sent through the API are told apart.
    const sent = await setup.gql(
      `mutation { sendEmail(input: { to: "api@example.com", subject: "s", text: "t" }) { submittedOverSmtp submittedBy } }`,
    );
    assert.equal(sent.sendEmail.submittedOverSmtp, false);
    assert.equal(sent.sendEmail.submittedBy, 'API_TOKEN', 'the bootstrap token is named so');
  });

  test('a message without Message-ID or Date gets them; nothing else is added', async (t) => {
    const setup = await setUp(t);
    const raw = Buffer.from(
      'From: app@example.com\r\nTo: ana@example.com\r\nSubject: bare\r\n\r\nhello\r\n',
    );
    await client(t, setup, { pass: setup.sendToken }).sendMail({
      envelope: { from: 'app@example.com', to: ['ana@example.com'] },
      raw,
    });
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
    const delivered = setup.sink.received[0]!.raw;
    const lines = delivered.split('\r\n');
    assert.match(lines[0]!, /^Message-ID: <[0-9a-f-]+@mailscope\.test>$/);
    assert.match(lines[1]!, /^Date: .* \+0000$/);
    assert.equal(lines.slice(2).join('\r\n'), raw.toString('utf8'));
  });

  test('a message without From gets one from MAIL FROM; with the null sender it is refused', async (t) => {
    const setup = await setUp(t);
    const transport = client(t, setup, { pass: setup.sendToken });
    const raw = Buffer.from('To: ana@example.com\r\nSubject: cron\r\n\r\nnightly\r\n');
    await transport.sendMail({
      envelope: { from: 'cron@example.com', to: ['ana@example.com'] },
      raw,
    });
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
    const headerLines = setup.sink.received[0]!.raw.split('\r\n\r\n')[0]!.split('\r\n');
    assert.ok(headerLines.includes('From: <cron@example.com>'), headerLines.join('\n'));

    await assert.rejects(
      transport.sendMail({ envelope: { from: '', to: ['ana@example.com'] }, raw }),
      (error: any) => {
        assert.equal(error.responseCode, 550);
        assert.match(error.response, /^550 5\.6\.0 The message has no From header/);
        return true;
      },
    );
    const empty = Buffer.from('From: \r\nTo: ana@example.com\r\n\r\nx\r\n');
    await assert.rejects(
      transport.sendMail({
        envelope: { from: 'cron@example.com', to: ['ana@example.com'] },
        raw: empty,
      }),
      (error: any) => {
        assert.match(error.response, /^550 5\.6\.0 The From header names no address/);
        return true;
      },
    );
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 1, 'only the first is stored');
  });

  test('two From headers, or one hidden behind a bare CR: 550 5.6.0, and nothing stored', async (t) => {
    const setup = await setUp(t, { SENDER_DOMAIN_ALLOWLIST: 'example.com' });
    // By hand over loopback (AUTH without TLS): a client library would mend the bare CR.
    const session = await loopbackSession(t, setup);
    for (const [message, problem] of [
      [
        'From: app@example.com\r\nFrom: boss@evil.com\r\nSubject: two\r\n\r\nx\r\n',
        /^550 5\.6\.0 Malformed message: the message has 2 From headers/,
      ],
      [
        'From: app@example.com\r\nSubject: cr\rFrom: boss@evil.com\r\n\r\nx\r\n',
        /^550 5\.6\.0 Malformed message: the header section has a bare CR/,
      ],
    ] as const) {
      assert.match(await session.command('MAIL FROM:<app@example.com>'), /^250 /);
      assert.match(await session.command('RCPT TO:<ana@example.com>'), /^250 /);
      assert.match(await session.command('DATA'), /^354 /);
      session.write(message);
      assert.match(await session.command('.'), problem);
    }
    await session.command('QUIT');
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 0);
  });

  test('a wrong token and a READ token get 535 5.7.8; nothing is stored', async (t) => {
    const setup = await setUp(t);
    for (const pass of ['ms_not-a-token', setup.readToken]) {
      await assert.rejects(client(t, setup, { pass }).verify(), (error: any) => {
        assert.equal(error.responseCode, 535);
        assert.match(error.response, /^535 5\.7\.8 /);
        return true;
      });
    }
    const data = await setup.gql(MESSAGES);
    assert.equal(data.messages.totalCount, 0);
  });

  test('a token revoked while its message is being read: 535 5.7.8 at the end, nothing stored', async (t) => {
    const setup = await setUp(t);
    const session = await loopbackSession(t, setup);
    assert.match(await session.command('MAIL FROM:<app@example.com>'), /^250 /);
    assert.match(await session.command('RCPT TO:<ana@example.com>'), /^250 /);
    assert.match(await session.command('DATA'), /^354 /);
    session.write('From: app@example.com\r\nSubject: long\r\n\r\nthe first half, then\r\n');
    const tokens = await setup.gql('{ apiTokens { id name } }');
    const id = tokens.apiTokens.find((token: any) => token.name === 'kratos-courier').id;
    await setup.gql(`mutation { revokeApiToken(id: "${id}") { id } }`);
    session.write('the second half\r\n');
    assert.match(await session.command('.'), /^535 5\.7\.8 Authentication credentials invalid/);
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 0);
  });

  test('a token revoked while its pooled connection stays open: the next message gets 535 5.7.8', async (t) => {
    const setup = await setUp(t);
    const transport = client(t, setup, { pass: setup.sendToken, pool: true, maxConnections: 1 });
    await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'before' });
    const tokens = await setup.gql('{ apiTokens { id name } }');
    const id = tokens.apiTokens.find((token: any) => token.name === 'kratos-courier').id;
    await setup.gql(`mutation { revokeApiToken(id: "${id}") { id } }`);
    await assert.rejects(
      transport.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'after' }),
      (error: any) => {
        assert.equal(error.responseCode, 535);
        // At MAIL FROM on the connection that authenticated before, not at a new AUTH.
        assert.match(error.response, /^535 5\.7\.8 .*\(revoked\)/);
        return true;
      },
    );
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 1);
  });

  test('no relay without AUTH: MAIL FROM gets 530 5.7.0', async (t) => {
    const setup = await setUp(t);
    await assert.rejects(
      client(t, setup, { pass: null }).sendMail({
        from: 'a@example.com',
        to: 'b@example.com',
        text: 'x',
      }),
      (error: any) => {
        assert.equal(error.responseCode, 530);
        assert.match(error.response, /^530 5\.7\.0 /);
        return true;
      },
    );
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 0);
  });

  test('AUTH in cleartext works from loopback (the exception)', async (t) => {
    const setup = await setUp(t);
    assert.equal(setup.host, '127.0.0.1');
    await client(t, setup, { pass: setup.sendToken, requireTLS: false, ignoreTLS: true }).sendMail({
      from: 'a@example.com',
      to: 'b@example.com',
      text: 'cleartext from loopback',
    });
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
  });

  test('AUTH before TLS from a non-loopback address is refused with 530 5.7.0', async (t) => {
    // The listener on this machine's own network address: a client connecting to it comes from
    // that address, which is not loopback (checked below), as a remote client would.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
    if (address === undefined) {
      t.skip('no non-loopback IPv4 address on this machine');
      return;
    }
    const setup = await setUp(t, { SUBMISSION_HOST: address });
    assert.equal(setup.host, address);
    // By hand, as swaks would: AUTH is not offered before TLS, and refused when sent anyway.
    const session = await rawSession(t, setup.host, setup.port);
    assert.match(await session.reply(), /^220 /);
    const ehlo = await session.command('EHLO client.test');
    assert.match(ehlo, /^250-STARTTLS\r?$/m);
    assert.doesNotMatch(ehlo, /AUTH/, 'AUTH is not offered in cleartext off loopback');
    const plain = Buffer.from(`\0app\0${setup.sendToken}`).toString('base64');
    assert.match(
      await session.command(`AUTH PLAIN ${plain}`),
      /^530 5\.7\.0 Must issue a STARTTLS command first/,
    );
    // Refused at the command: no 334 asks for the credentials, to be sent in cleartext.
    for (const command of ['AUTH LOGIN', 'AUTH PLAIN']) {
      assert.match(
        await session.command(command),
        /^530 5\.7\.0 Must issue a STARTTLS command first/,
        command,
      );
    }
    assert.match(await session.command('MAIL FROM:<a@example.com>'), /^530 5\.7\.0 /);
    // nodemailer, told to stay in cleartext, sends no AUTH where none is offered: no relay.
    await assert.rejects(
      client(t, setup, { pass: setup.sendToken, requireTLS: false, ignoreTLS: true }).sendMail({
        from: 'a@example.com',
        to: 'b@example.com',
        text: 'x',
      }),
      (error: any) => {
        assert.equal(error.responseCode, 530);
        assert.match(error.response, /^530 5\.7\.0 /);
        return true;
      },
    );
    // After STARTTLS the same client and token are accepted.
    await client(t, setup, {
      pass: setup.sendToken,
      tls: { ca: [ca.cert], servername: 'localhost', checkServerIdentity: () => undefined },
    }).sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'over TLS' });
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
  });

  test('too big: the limit is announced and a larger message gets 552 5.3.4', async (t) => {
    const setup = await setUp(t, { SUBMISSION_MAX_BYTES: '65536' });
    const transport = client(t, setup, { pass: setup.sendToken });
    await assert.rejects(
      transport.sendMail({
        envelope: { from: 'a@example.com', to: ['b@example.com'] },
        raw: `From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n\r\n${'x'.repeat(75)}\r\n`.repeat(
          1_000,
        ),
      }),
      (error: any) => {
        assert.equal(error.responseCode, 552);
        assert.match(error.response, /^552 5\.3\.4 /);
        return true;
      },
    );
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 0);
  });

  test('too many recipients: the 101st RCPT TO gets 452 4.5.3, the first 100 are queued', async (t) => {
    const setup = await setUp(t);
    const recipients = Array.from({ length: 101 }, (_, i) => `user${i}@example.com`);
    const info = await client(t, setup, { pass: setup.sendToken }).sendMail({
      envelope: { from: 'a@example.com', to: recipients },
      raw: 'From: a@example.com\r\nTo: list@example.com\r\nSubject: many\r\n\r\nhi\r\n',
    });
    assert.deepEqual(info.rejected, ['user100@example.com']);
    assert.match((info as any).rejectedErrors[0].response, /^452 4\.5\.3 /);
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 100);
  });

  test('a From domain outside SENDER_DOMAIN_ALLOWLIST gets 550 5.7.1', async (t) => {
    const setup = await setUp(t, { SENDER_DOMAIN_ALLOWLIST: 'example.com' });
    const transport = client(t, setup, { pass: setup.sendToken });
    await assert.rejects(
      transport.sendMail({ from: 'someone@evil.test', to: 'b@example.com', text: 'x' }),
      (error: any) => {
        assert.equal(error.responseCode, 550);
        assert.match(error.response, /^550 5\.7\.1 Sender not allowed/);
        return true;
      },
    );
    // A From that readers read two ways (some take boss@evil.com): refused too.
    await assert.rejects(
      transport.sendMail({
        envelope: { from: 'ok@example.com', to: ['b@example.com'] },
        raw: Buffer.from('From: boss@evil.test ((x)<ok@example.com>)\r\nSubject: s\r\n\r\nx\r\n'),
      }),
      (error: any) => {
        assert.match(error.response, /^550 5\.7\.1 Sender not allowed: the domain "evil\.test"/);
        return true;
      },
    );
    await transport.sendMail({ from: 'ok@example.com', to: 'b@example.com', text: 'x' });
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 1);
  });

  test('the per-token send limit counts submitted recipients', async (t) => {
    const setup = await setUp(t, { SEND_RATE_LIMIT_PER_MINUTE: '3' });
    const transport = client(t, setup, { pass: setup.sendToken });
    await transport.sendMail({ from: 'a@example.com', to: ['b@example.com', 'c@example.com'] });
    await assert.rejects(
      transport.sendMail({ from: 'a@example.com', to: ['d@example.com', 'e@example.com'] }),
      (error: any) => {
        assert.equal(error.responseCode, 451);
        assert.match(error.response, /^451 4\.7\.1 Send rate limit/);
        return true;
      },
    );
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 2);
  });

  test('storage unavailable: 451 4.3.0 and nothing stored; the same message goes through after', async (t) => {
    const setup = await setUp(t, { SQLITE_BUSY_TIMEOUT_MS: '200' });
    const release = await refuseWrites(t, setup.svc);
    const transport = client(t, setup, { pass: setup.sendToken });
    const mail = { from: 'a@example.com', to: ['b@example.com', 'c@example.com'], text: 'x' };
    await assert.rejects(transport.sendMail(mail), (error: any) => {
      assert.equal(error.responseCode, 451);
      assert.match(error.response, /^451 4\.3\.0 /);
      return true;
    });
    await release();
    assert.equal((await setup.gql(MESSAGES)).messages.totalCount, 0, 'nothing half-stored');
    await transport.sendMail(mail);
    await waitFor(() => setup.sink.received.length === 2, { description: 'both delivered' });
  });

  test('a SEND token over GraphQL: sendEmail yes, anything else FORBIDDEN', async (t) => {
    const setup = await setUp(t);
    const as = (query: string) =>
      graphqlRequest(`${setup.svc.url}/graphql`, query, {}, setup.sendToken);
    const sent = await as(
      `mutation { sendEmail(input: { to: "a@example.com", subject: "s", text: "t" }) { id submittedBy } }`,
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    assert.equal(sent.data.sendEmail.submittedBy, 'kratos-courier');
    for (const query of [
      '{ messages { totalCount } }',
      '{ viewer { scope } }',
      'mutation { sendTestEmail(to: "a@example.com") { id } }',
    ]) {
      const refused = await as(query);
      assert.equal(refused.errors?.[0]?.extensions?.['code'], 'FORBIDDEN', query);
    }
  });

  test("verifySmtp of mailscope's own submission URI succeeds, AUTH included", async (t) => {
    const setup = await setUp(t);
    const uri = `smtp://mailscope:${encodeURIComponent(setup.sendToken)}@127.0.0.1:${setup.port}/?skip_ssl_verify=true`;
    const data = await setup.gql(
      `query ($uri: String) { verifySmtp(connectionUri: $uri) { ok steps { name ok error { message } } } }`,
      { uri },
    );
    assert.equal(data.verifySmtp.ok, true, JSON.stringify(data.verifySmtp.steps));
    assert.ok(data.verifySmtp.steps.some((step: any) => step.name === 'AUTH' && step.ok));
  });

  test('implicit TLS (SUBMISSION_IMPLICIT_TLS=true)', async (t) => {
    const setup = await setUp(t, { SUBMISSION_IMPLICIT_TLS: 'true' });
    await client(t, setup, { pass: setup.sendToken, secure: true, requireTLS: false }).sendMail({
      from: 'a@example.com',
      to: 'b@example.com',
      text: 'over implicit TLS',
    });
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
  });
});

/** A hand-made session over loopback, authenticated with `token` (AUTH PLAIN without TLS). */
async function loopbackSession(scope: Scope, setup: { port: number; sendToken: string }) {
  const socket = net.connect(setup.port, '127.0.0.1');
  closeWith(scope, () => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const reply = async () => {
    const whole = await waitFor(() => /(^|\n)\d{3} [^\n]*\n/.exec(received) && received);
    received = '';
    return whole;
  };
  const command = (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  await reply();
  await command('EHLO client.example');
  const plain = Buffer.from(`\0app\0${setup.sendToken}`).toString('base64');
  assert.match(await command(`AUTH PLAIN ${plain}`), /^235 /);
  return { command, write: (text: string) => socket.write(text) };
}

/** A hand-made SMTP session: one command, its whole reply. */
async function rawSession(scope: Scope, host: string, port: number) {
  const socket = net.connect(port, host);
  closeWith(scope, () => socket.destroy());
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (buffered += chunk));
  await once(socket, 'connect');
  assert.ok(!isLoopbackAddress(socket.localAddress), `the client is ${socket.localAddress}`);
  const reply = async () => {
    // A reply ends with a line whose code is followed by a space.
    const line = await waitFor(() => /(^|\n)\d{3} [^\n]*\n/.exec(buffered) && buffered);
    buffered = '';
    return line;
  };
  return {
    reply,
    command(line: string) {
      socket.write(`${line}\r\n`);
      return reply();
    },
  };
}

/**
 * Makes the service's database refuse writes: SQLite locked by another writer for longer than
 * the busy timeout; PostgreSQL refusing every new message row. Returns the undo.
 */
async function refuseWrites(t: TestContext, svc: TestService): Promise<() => Promise<void>> {
  if (svc.databaseUrl === null) {
    const db = new Database(svc.databasePath);
    db.exec('BEGIN IMMEDIATE');
    let done = false;
    const undo = async () => {
      if (done) return;
      done = true;
      db.exec('ROLLBACK');
      db.close();
    };
    closeWith(t, undo);
    return undo;
  }
  const client = new pg.Client({ connectionString: svc.databaseUrl });
  await client.connect();
  await client.query(
    'ALTER TABLE messages ADD CONSTRAINT submission_test_refuses CHECK (false) NOT VALID',
  );
  let done = false;
  const undo = async () => {
    if (done) return;
    done = true;
    await client.query('ALTER TABLE messages DROP CONSTRAINT submission_test_refuses');
    await client.end();
  };
  closeWith(t, undo);
  return undo;
}
