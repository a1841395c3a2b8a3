import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getLogger } from 'nodemailer/lib/shared';
import { ConnectionTranscript } from '../../src/smtp/transcript-recorder.ts';
import { formatTranscript, type TranscriptParts } from '../../src/smtp/transcript.ts';

function text(parts: TranscriptParts | null): string | null {
  return parts === null ? null : formatTranscript(parts, (t) => t);
}

/**
 * Log calls made exactly as nodemailer 10's SMTPConnection makes them with `logger` and
 * `transactionLog: true`: through nodemailer's own `getLogger`, which merges
 * `{ component: 'smtp-connection', sid }` into every entry.
 */
function connection(transcript: ConnectionTranscript, sid = 'sid1') {
  const log = getLogger({ logger: transcript.logger }, { component: 'smtp-connection', sid });
  return {
    client: (line: string) => log.debug({ tnx: 'client' }, line),
    server: (reply: string) => log.debug({ tnx: 'server' }, reply),
    body: (bytes: number) =>
      log.info(
        { tnx: 'message', inByteCount: bytes - 7, outByteCount: bytes },
        '<%s bytes encoded mime message (source size %s bytes)>',
        bytes,
        bytes - 7,
      ),
    /** Lines that are not part of the dialogue: none of them may show. */
    chatter() {
      log.debug(
        { tnx: 'dns', source: 'mx.test', resolved: '192.0.2.1', cached: false },
        'Resolved %s as %s [cache %s]',
        'mx.test',
        '192.0.2.1',
        'miss',
      );
      log.info(
        { tnx: 'network', remoteAddress: '192.0.2.1', remotePort: 25 },
        '%s established to %s:%s',
        'Connection',
        '192.0.2.1',
        25,
      );
      log.debug({ tnx: 'smtp' }, 'SMTP handshake finished');
      log.info({ tnx: 'smtp' }, 'Connection upgraded with STARTTLS');
    },
    authenticated: () =>
      log.info(
        { tnx: 'smtp', username: 'mailer', action: 'authenticated', method: 'PLAIN' },
        'User %s authenticated',
        '"mailer"',
      ),
    authFailed: () =>
      log.info(
        { tnx: 'smtp', username: 'mailer', action: 'authfail', method: 'PLAIN' },
        'User %s failed to authenticate',
        '"mailer"',
      ),
    error: (err: Error) => log.error({ tnx: 'smtp', err }, '%s', err.message),
    closing: () => log.debug({ tnx: 'smtp' }, 'Closing connection to the server using "%s"', 'end'),
    closed: () => log.info({ tnx: 'network' }, 'Connection closed'),
  };
}

type Connection = ReturnType<typeof connection>;

const SETUP = [
  'S: 220 mx.test ESMTP',
  'C: EHLO client.example',
  'S: 250-mx.test',
  'S: 250 PIPELINING',
];

function greet(conn: Connection): void {
  conn.chatter();
  conn.server('220 mx.test ESMTP');
  conn.client('EHLO client.example');
  conn.server('250-mx.test\n250 PIPELINING');
}

/** A connection's transcript (keeping lines) and its connection, past EHLO. */
function greeted(cid: number) {
  const transcript = new ConnectionTranscript(cid, true);
  const conn = connection(transcript);
  greet(conn);
  return { transcript, conn };
}

/** One accepted message, as nodemailer logs it. */
function deliver(conn: Connection, rcpt: string, bytes: number): void {
  conn.client('MAIL FROM:<f@x>');
  conn.server('250 2.1.0 Ok');
  conn.client(`RCPT TO:<${rcpt}>`);
  conn.server('250 2.1.5 Ok');
  conn.client('DATA');
  conn.server('354 End data with <CR><LF>.<CR><LF>');
  conn.body(bytes);
  conn.server(`250 2.0.0 Ok: queued as ${rcpt}`);
}

/** MAIL FROM accepted, then RCPT TO answered with `rcptReply`. */
function envelope(conn: Connection, rcpt: string, rcptReply: string): void {
  conn.client('MAIL FROM:<f@x>');
  conn.server('250 Ok');
  conn.client(`RCPT TO:<${rcpt}>`);
  conn.server(rcptReply);
}

function delivered(rcpt: string, bytes: number): string[] {
  return [
    'C: MAIL FROM:<f@x>',
    'S: 250 2.1.0 Ok',
    `C: RCPT TO:<${rcpt}>`,
    'S: 250 2.1.5 Ok',
    'C: DATA',
    'S: 354 End data with <CR><LF>.<CR><LF>',
    `C: <message body, ${bytes} bytes>`,
    `S: 250 2.0.0 Ok: queued as ${rcpt}`,
  ];
}

describe('ConnectionTranscript', () => {
  test('AUTH payloads are placeholders, whatever the mechanism', () => {
    const cases: [string, string[], string[]][] = [
      [
        'PLAIN',
        ['C AUTH PLAIN AG1haWxlckBleGFtcGxlLnRlc3QALyogc2VjcmV0ICov', 'S 235 2.7.0 OK'],
        ['C: AUTH PLAIN <credentials hidden>', 'S: 235 2.7.0 OK'],
      ],
      [
        'LOGIN',
        [
          'C AUTH LOGIN',
          'S 334 VXNlcm5hbWU6',
          'C bWFpbGVyQGV4YW1wbGUudGVzdA==',
          'S 334 UGFzc3dvcmQ6',
          'C Lyogc2VjcmV0ICov',
          'S 535 5.7.8 no',
        ],
        [
          'C: AUTH LOGIN',
          'S: 334 VXNlcm5hbWU6',
          'C: <user name hidden>',
          'S: 334 UGFzc3dvcmQ6',
          'C: <password hidden>',
          'S: 535 5.7.8 no',
        ],
      ],
      [
        'XOAUTH2, with the error challenge',
        [
          'C AUTH XOAUTH2 dXNlcj1tYWlsZXIBYXV0aD1CZWFyZXIgLyogc2VjcmV0ICovAQE=',
          'S 334 eyJzdGF0dXMiOiI0MDEifQ==',
          'C ',
          'S 535 5.7.8 no',
        ],
        [
          'C: AUTH XOAUTH2 <credentials hidden>',
          'S: 334 eyJzdGF0dXMiOiI0MDEifQ==',
          'C: ',
          'S: 535 5.7.8 no',
        ],
      ],
      [
        'CRAM-MD5',
        [
          'C AUTH CRAM-MD5',
          'S 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+',
          'C bWFpbGVyIC8qIHNlY3JldCAqLw==',
          'S 235 OK',
        ],
        [
          'C: AUTH CRAM-MD5',
          'S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+',
          'C: <credentials hidden>',
          'S: 235 OK',
        ],
      ],
    ];
    for (const [name, wire, expected] of cases) {
      const { transcript, conn } = greeted(1);
      for (const line of wire) {
        if (line.startsWith('C ')) conn.client(line.slice(2));
        else conn.server(line.slice(2));
      }
      const failed = expected[expected.length - 1]!.startsWith('S: 5');
      if (failed) {
        // The login failed: the setup is the transcript of the send waiting for it.
        conn.authFailed();
        conn.closing();
        conn.closed();
        const out = text(transcript.endSend(false))?.split('\n') ?? [];
        assert.deepEqual(out, [...SETUP, ...expected], name);
        assert.doesNotMatch(out.join('\n'), /c2VjcmV0|secret|bWFpbGVy/, name);
        continue;
      }
      conn.authenticated();
      // After the exchange, commands are kept as they are again.
      transcript.beginSend();
      conn.client('MAIL FROM:<mailer@example.test>');
      conn.server('250 OK');
      const out = text(transcript.endSend(true))?.split('\n') ?? [];
      assert.deepEqual(
        out,
        [...SETUP, ...expected, 'C: MAIL FROM:<mailer@example.test>', 'S: 250 OK'],
        name,
      );
      assert.doesNotMatch(out.join('\n'), /c2VjcmV0|secret|bWFpbGVy/, name);
    }
  });

  test('every send starts with the setup; a later one is noted as a reuse', () => {
    const { transcript, conn } = greeted(7);
    conn.client('AUTH PLAIN AG1haWxlcgAvKiBzZWNyZXQgKi8=');
    conn.server('235 2.7.0 Authentication successful');
    conn.authenticated();
    const setup = [
      ...SETUP,
      'C: AUTH PLAIN <credentials hidden>',
      'S: 235 2.7.0 Authentication successful',
    ];

    transcript.beginSend();
    assert.equal(transcript.sends, 1);
    deliver(conn, 'a@x', 321);
    const first = transcript.endSend(true);
    assert.equal(first?.note, null);
    assert.equal(text(first), [...setup, ...delivered('a@x', 321)].join('\n'));

    transcript.beginSend();
    assert.equal(transcript.sends, 2);
    deliver(conn, 'b@x', 654);
    const secondParts = transcript.endSend(true);
    assert.equal(secondParts?.note, '(connection #7 reused: send 2 on it)');
    assert.equal(secondParts?.outcome, null);
    assert.equal(
      text(secondParts),
      [...setup, '(connection #7 reused: send 2 on it)', ...delivered('b@x', 654)].join('\n'),
    );

    // The first send's parts are unchanged by the second send.
    assert.equal(text(first), [...setup, ...delivered('a@x', 321)].join('\n'));
    assert.equal(transcript.current, null);
  });

  test('the second send carries only its own lines, the first only its own', () => {
    const { transcript, conn } = greeted(2);
    transcript.beginSend();
    deliver(conn, 'a@x', 10);
    const first = transcript.endSend(true);
    transcript.beginSend();
    conn.client('MAIL FROM:<f@x>');
    conn.server('451 4.3.0 try later');
    const second = transcript.endSend(true);
    assert.equal(text(first), [...SETUP, ...delivered('a@x', 10)].join('\n'));
    assert.equal(
      text(second),
      [
        ...SETUP,
        '(connection #2 reused: send 2 on it)',
        'C: MAIL FROM:<f@x>',
        'S: 451 4.3.0 try later',
      ].join('\n'),
    );
  });

  test('a setup that fails before the send began gives the setup and no send lines', () => {
    const { transcript, conn } = greeted(3);
    conn.client('STARTTLS');
    conn.server('454 4.7.0 TLS not available');
    conn.error(new Error('Error upgrading connection with STARTTLS'));
    conn.closing();
    conn.closed();
    const parts = transcript.endSend(false);
    assert.ok(parts !== null);
    assert.equal(parts.note, null);
    assert.equal(parts.lines, null);
    assert.equal(
      text(parts),
      [...SETUP, 'C: STARTTLS', 'S: 454 4.7.0 TLS not available'].join('\n'),
    );
    assert.equal(transcript.sends, 0);
  });

  test('messageStarted: only after a 354 during a send, and reset by the next send', () => {
    const transcript = new ConnectionTranscript(4, true);
    const conn = connection(transcript);
    conn.server('354 not a data reply: no send yet');
    assert.equal(transcript.messageStarted, false);
    greet(conn);

    transcript.beginSend();
    envelope(conn, 'a@x', '250 Ok');
    conn.client('DATA');
    assert.equal(transcript.messageStarted, false);
    conn.server('354 Go ahead');
    assert.equal(transcript.messageStarted, true);
    conn.body(100);
    conn.server('451 4.3.0 lost it');
    transcript.endSend(true);
    assert.equal(transcript.messageStarted, true);

    transcript.beginSend();
    assert.equal(transcript.messageStarted, false);
    envelope(conn, 'b@x', '550 5.1.1 unknown');
    conn.client('DATA');
    conn.server('503 5.5.1 need RCPT');
    assert.equal(transcript.messageStarted, false);
  });

  test('an RSET after a send ended belongs to no send', () => {
    const { transcript, conn } = greeted(5);
    transcript.beginSend();
    envelope(conn, 'a@x', '550 5.1.1 <a@x> unknown');
    const first = transcript.endSend(true);
    // The pool resets the session after the rejected message.
    conn.client('RSET');
    conn.server('250 2.0.0 Flushed');

    transcript.beginSend();
    deliver(conn, 'b@x', 42);
    const second = transcript.endSend(true);
    const firstText = text(first) ?? '';
    const secondText = text(second) ?? '';
    assert.equal(
      firstText,
      [
        ...SETUP,
        'C: MAIL FROM:<f@x>',
        'S: 250 Ok',
        'C: RCPT TO:<a@x>',
        'S: 550 5.1.1 <a@x> unknown',
      ].join('\n'),
    );
    assert.equal(
      secondText,
      [...SETUP, '(connection #5 reused: send 2 on it)', ...delivered('b@x', 42)].join('\n'),
    );
    assert.doesNotMatch(firstText + secondText, /RSET|Flushed/);
  });

  test('without keepLines nothing is kept, but messageStarted is still followed', () => {
    const transcript = new ConnectionTranscript(6, false);
    assert.equal(transcript.setup, null);
    const conn = connection(transcript);
    greet(conn);
    conn.client('AUTH LOGIN');
    conn.server('334 VXNlcm5hbWU6');
    conn.client('bWFpbGVy');
    conn.server('334 UGFzc3dvcmQ6');
    conn.client('Lyogc2VjcmV0ICov');
    conn.server('235 OK');
    assert.equal(transcript.endSend(false), null);

    transcript.beginSend();
    assert.equal(transcript.current, null);
    conn.client('MAIL FROM:<f@x>');
    conn.server('250 Ok');
    conn.client('DATA');
    assert.equal(transcript.messageStarted, false);
    conn.server('354 Go ahead');
    assert.equal(transcript.messageStarted, true);
    conn.body(10);
    conn.server('250 Ok');
    assert.equal(transcript.endSend(true), null);

    transcript.beginSend();
    assert.equal(transcript.messageStarted, false);
    assert.equal(transcript.sends, 2);
    assert.equal(transcript.endSend(true), null);
  });

  test('odd log calls are ignored, never thrown', () => {
    const transcript = new ConnectionTranscript(8, true);
    const { logger } = transcript;
    assert.doesNotThrow(() => {
      logger.trace();
      logger.fatal(undefined);
      logger.info('just a message');
      logger.debug(null, 'x');
      logger.debug(42, 'x');
      logger.debug('client', 'EHLO x');
      logger.debug({ sid: 5, tnx: 'client' }, { not: 'a string' });
      logger.debug({ tnx: 'server' }, 250);
      logger.debug({ tnx: 'client' });
      logger.info({ tnx: 'message', outByteCount: '12' }, '<%s bytes>');
      logger.info({ tnx: 'message' });
      logger.warn({ tnx: 'surprise' }, 'x');
      logger.error({ tnx: 'smtp', err: 'not an object' }, '%s', 'x');
      logger.debug(Object.create(null) as object, 'x');
      logger.debug(
        {
          get tnx(): string {
            throw new Error('a getter that throws');
          },
        },
        'x',
      );
    });
    // None of it became a line.
    assert.equal(transcript.setup?.length, 0);
    assert.equal(text(transcript.endSend(false)), '');
  });
});
