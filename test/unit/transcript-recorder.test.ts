import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createTranscriptRecorder,
  type NodemailerLogger,
} from '../../src/smtp/transcript-recorder.ts';
import { formatTranscript, type TranscriptParts } from '../../src/smtp/transcript.ts';

/** The next macrotask: whatever nodemailer logs after it is a new turn (another I/O event). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function text(parts: TranscriptParts | null): string | null {
  return parts === null ? null : formatTranscript(parts, (t) => t);
}

/** Log calls shaped exactly like nodemailer 10's (see transcript-recorder.ts). */
function nodemailer(logger: NodemailerLogger) {
  const pool = (tnx: string, cid: number, extra: Record<string, unknown> = {}) => ({
    component: 'smtp-pool',
    tnx,
    cid,
    ...extra,
  });
  return {
    assign(cid: number, messageId: string) {
      const id = messageId.replace(/[<>]/g, '');
      logger.debug(pool('pool', cid, { messageId: id, action: 'assign' }), 'Assigned', id, cid);
    },
    sending(cid: number, messageId: string) {
      logger.info(pool('send', cid, { messageId }), 'Sending message %s using #%s', messageId);
    },
    poolError(cid: number, err: Error) {
      logger.warn(pool('pool', cid, { err }), 'Pool Error for #%s: %s', cid, err.message);
    },
    closed(cid: number) {
      logger.info(pool('connection', cid, { action: 'closed' }), 'Connection #%s was closed', cid);
    },
    connection(sid: string) {
      const entry = (tnx: string, extra: Record<string, unknown> = {}) => ({
        component: 'smtp-connection',
        sid,
        tnx,
        ...extra,
      });
      return {
        client: (line: string) => logger.debug(entry('client'), line),
        server: (line: string) => logger.debug(entry('server'), line),
        body: (bytes: number) =>
          logger.info(entry('message', { inByteCount: bytes, outByteCount: bytes }), '<%s bytes>'),
        error: (err: Error) => logger.error(entry('smtp', { err }), '%s', err.message),
        authFailed: () =>
          logger.info(entry('smtp', { action: 'authfail' }), 'User %s failed to authenticate'),
        closing: () => logger.debug(entry('smtp'), 'Closing connection to the server using "%s"'),
      };
    },
  };
}

function setup(conn: ReturnType<ReturnType<typeof nodemailer>['connection']>): void {
  conn.server('220 mx.test ESMTP');
  conn.client('EHLO client.example');
  conn.server('250-mx.test\n250 PIPELINING');
}

describe('transcript recorder', () => {
  test('AUTH payloads are placeholders, whatever the mechanism', async () => {
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
      const recorder = createTranscriptRecorder();
      const nm = nodemailer(recorder.logger);
      const followed = recorder.follow('<m@x>');
      nm.assign(1, '<m@x>');
      await tick();
      const conn = nm.connection('s1');
      setup(conn);
      for (const line of wire) {
        if (line.startsWith('C ')) conn.client(line.slice(2));
        else conn.server(line.slice(2));
      }
      const err = new Error('Invalid login');
      conn.authFailed();
      conn.closing();
      nm.closed(1);
      nm.poolError(1, err);
      const out = text(followed.finish(err))?.split('\n') ?? [];
      assert.deepEqual(out.slice(4), expected, name);
      // After the exchange, commands are kept as they are again.
      assert.doesNotMatch(out.join('\n'), /c2VjcmV0|secret|bWFpbGVy/, name);
    }
  });

  test('two connections interleaving: each send gets its own lines and its setup', async () => {
    const recorder = createTranscriptRecorder();
    const nm = nodemailer(recorder.logger);
    const a = recorder.follow('<a@x>');
    const b = recorder.follow('<b@x>');
    nm.assign(1, '<a@x>');
    nm.assign(2, '<b@x>');
    await tick();
    const one = nm.connection('s1');
    const two = nm.connection('s2');
    setup(one);
    setup(two);
    await tick();
    nm.sending(1, '<a@x>');
    one.client('MAIL FROM:<f@x>');
    one.client('RCPT TO:<a@x>');
    one.client('DATA');
    await tick();
    nm.sending(2, '<b@x>');
    two.client('MAIL FROM:<f@x>');
    two.client('RCPT TO:<b@x>');
    two.client('DATA');
    await tick();
    two.server('250 Accepted');
    one.server('250 Accepted');
    two.server('550 5.1.1 <b@x> unknown');
    one.server('250 Accepted');
    one.server('354 Go ahead');
    two.server('503 need RCPT');
    two.client('RSET');
    one.body(321);
    one.server('250 Queued <a@x>');
    const ofA = text(a.finish());
    const ofB = text(b.finish(new Error("Can't send mail")));
    const envelope = ['C: MAIL FROM:<f@x>', 'C: RCPT TO:', 'C: DATA', 'S: 250 Accepted'];
    const setupLines = ['S: 220 mx.test ESMTP', 'C: EHLO client.example', 'S: 250-mx.test'];
    assert.equal(
      ofA,
      [...setupLines, 'S: 250 PIPELINING', ...envelope]
        .join('\n')
        .replace('RCPT TO:', 'RCPT TO:<a@x>')
        .concat(
          '\nS: 250 Accepted\nS: 354 Go ahead\nC: <message body, 321 bytes>\nS: 250 Queued <a@x>',
        ),
    );
    assert.equal(
      ofB,
      [...setupLines, 'S: 250 PIPELINING', ...envelope]
        .join('\n')
        .replace('RCPT TO:', 'RCPT TO:<b@x>')
        .concat('\nS: 550 5.1.1 <b@x> unknown\nS: 503 need RCPT'),
    );

    // The next send on connection 2 is noted as a reuse; the RSET and its reply went nowhere.
    two.server('250 Flushed');
    const c = recorder.follow('<c@x>');
    nm.assign(2, '<c@x>');
    nm.sending(2, '<c@x>');
    two.client('MAIL FROM:<f@x>');
    const ofC = text(c.finish(new Error('Timeout'))) ?? '';
    assert.match(ofC, /\(connection #2 reused: send 2 on it\)\nC: MAIL FROM:<f@x>$/);
    assert.doesNotMatch(ofC, /RSET|Flushed|<a@x>|<b@x>/);
  });

  test('a send not followed by its MAIL FROM in the same turn is never bound to a later line', async () => {
    const recorder = createTranscriptRecorder();
    const nm = nodemailer(recorder.logger);
    const busy = nm.connection('s1');
    setup(busy);
    const m = recorder.follow('<m@x>');
    nm.assign(2, '<m@x>');
    // e.g. the message is over the SIZE the server announced: nodemailer fails it a tick later
    nm.sending(2, '<m@x>');
    await tick();
    busy.client('MAIL FROM:<someone-else@x>');
    assert.equal(m.finish(new Error('Message size larger than allowed 10')), null);
  });

  test('a connection that fails during setup gives its setup to the message assigned to it', async () => {
    const recorder = createTranscriptRecorder();
    const nm = nodemailer(recorder.logger);
    const other = nm.connection('s9');
    setup(other);
    // The connection logs the error itself (greeting, STARTTLS, TLS, socket errors).
    const viaError = recorder.follow('<e@x>');
    nm.assign(3, '<e@x>');
    await tick();
    const failing = nm.connection('s3');
    failing.server('220 mx.test ESMTP');
    failing.client('EHLO client.example');
    failing.server('250-mx.test\n250 STARTTLS');
    failing.client('STARTTLS');
    failing.server('454 4.7.0 TLS not available');
    const tlsError = new Error('Error upgrading connection with STARTTLS');
    failing.error(tlsError);
    failing.closing();
    nm.closed(3);
    other.server('250 unrelated');
    assert.match(
      text(viaError.finish(tlsError)) ?? '',
      /C: STARTTLS\nS: 454 4\.7\.0 TLS not available$/,
    );

    // AUTH: only the pool logs the error, right after the connection's last line.
    const viaPool = recorder.follow('<p@x>');
    nm.assign(4, '<p@x>');
    await tick();
    const rejected = nm.connection('s4');
    setup(rejected);
    rejected.client('AUTH PLAIN AG1haWxlcgAvKiBzZWNyZXQgKi8=');
    rejected.server('535 5.7.8 Authentication credentials invalid');
    const authError = new Error('Invalid login');
    rejected.authFailed();
    rejected.closing();
    nm.closed(4);
    nm.poolError(4, authError);
    await tick();
    other.server('250 unrelated');
    const out = text(viaPool.finish(authError)) ?? '';
    assert.match(out, /^S: 220 mx\.test ESMTP\n/);
    assert.match(
      out,
      /C: AUTH PLAIN <credentials hidden>\nS: 535 5\.7\.8 Authentication credentials invalid$/,
    );
    assert.doesNotMatch(out, /unrelated|STARTTLS/);
  });

  test('a message re-queued to another connection keeps only the last one’s lines', async () => {
    const recorder = createTranscriptRecorder();
    const nm = nodemailer(recorder.logger);
    const m = recorder.follow('<m@x>');
    const first = nm.connection('s1');
    setup(first);
    nm.assign(1, '<m@x>');
    nm.sending(1, '<m@x>');
    first.client('MAIL FROM:<f@x>');
    await tick();
    first.closing(); // the server had dropped the idle connection: the pool re-queues
    nm.closed(1);
    await tick();
    nm.assign(2, '<m@x>');
    await tick();
    const second = nm.connection('s2');
    setup(second);
    nm.sending(2, '<m@x>');
    second.client('MAIL FROM:<f@x>');
    second.server('451 4.3.0 later');
    const out = text(m.finish(new Error('Mail command failed'))) ?? '';
    assert.equal(out.match(/MAIL FROM/g)?.length, 1);
    assert.match(out, /S: 451 4\.3\.0 later$/);
  });

  test('two sends of the same Message-ID at once get no transcript rather than a wrong one', () => {
    const recorder = createTranscriptRecorder();
    const first = recorder.follow('<same@x>');
    const second = recorder.follow('<same@x>');
    assert.equal(first.finish(), null);
    const another = recorder.follow('<same@x>'); // while the second is still in flight
    assert.equal(second.finish(), null);
    assert.equal(another.finish(), null);
    // Once neither is in flight, the Message-ID can be followed again.
    const third = recorder.follow('<same@x>');
    const nm = nodemailer(recorder.logger);
    nm.assign(1, '<same@x>');
    nm.sending(1, '<same@x>');
    nm.connection('s1').client('MAIL FROM:<f@x>');
    assert.equal(text(third.finish()), 'C: MAIL FROM:<f@x>');
  });

  test('odd log calls are ignored, never thrown', () => {
    const { logger } = createTranscriptRecorder();
    assert.doesNotThrow(() => {
      logger.info('just a message');
      logger.debug(null, 'x');
      logger.debug({ sid: 5, tnx: 'client' }, 'EHLO x');
      logger.debug({ sid: 's', tnx: 'client' }, { not: 'a string' });
      logger.warn({ cid: 1, err: 'not an object' }, 'x');
      logger.error({ cid: 'one', tnx: 'send', messageId: 7 });
      logger.trace();
      logger.fatal(undefined);
    });
  });
});
