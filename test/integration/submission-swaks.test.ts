import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { describe, test, type TestContext } from 'node:test';
import { isLoopbackAddress } from '../../src/smtp/submission-server.ts';
import { setUp } from '../helpers/submission.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Hand-made SMTP sessions with swaks (Debian's `swaks`), a client that is not nodemailer: it
// shows each command and reply, pipelines when asked, and sends AUTH the way scripts and cron
// jobs do. Skipped, saying so, where swaks is not installed.

function swaksInstalled(): boolean {
  try {
    execFileSync('swaks', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKIP = swaksInstalled() ? false : 'swaks is not installed (apt-get install swaks)';

/** Runs swaks; its whole transcript and exit status (non-zero when the server refused). */
function swaks(args: string[]): Promise<{ status: number; transcript: string }> {
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ status, transcript: `${stdout}${stderr}` });
    });
  });
}

/** The commands swaks sent (`-> `) and the replies it read (`<- `, `<** ` for errors), in order. */
function lines(transcript: string): string[] {
  return transcript
    .split('\n')
    .filter((line) => /^\s*(->|<-|<\*\*|\*\*\*)/.test(line))
    .map((line) => line.trim());
}

async function storedCount(setup: Awaited<ReturnType<typeof setUp>>): Promise<number> {
  return (await setup.gql('{ messages { totalCount } }')).messages.totalCount;
}

const nonLoopbackIPv4 = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

describe(`SMTP submission with swaks (${TEST_DIALECT})`, { skip: SKIP }, () => {
  test('pipelining: MAIL, RCPT and DATA go in one write; every recipient is queued and delivered', async (t) => {
    const setup = await setUp(t);
    const { status, transcript } = await swaks([
      '--server',
      `127.0.0.1:${setup.port}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      'cron',
      '--auth-password',
      setup.sendToken,
      '--pipeline',
      '--from',
      'cron@example.com',
      '--to',
      'ana@example.com,bo@example.com,cy@example.com',
      '--header',
      'Subject: nightly report',
      '--body',
      'all good',
    ]);
    assert.equal(status, 0, transcript);
    const session = lines(transcript);
    assert.ok(
      session.some((line) => /^<-\s+250-PIPELINING/.test(line)),
      'PIPELINING is offered',
    );
    // Pipelined: the envelope commands are sent one after another, before any reply to them.
    const mail = session.findIndex((line) => /^->\s+MAIL FROM:/.test(line));
    assert.deepEqual(
      session.slice(mail, mail + 5).map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
      ['-> MAIL', '-> RCPT', '-> RCPT', '-> RCPT', '-> DATA'],
      transcript,
    );
    assert.ok(session.some((line) => /^<-\s+250 2\.6\.0 Ok: queued as \d+,\d+,\d+/.test(line)));
    await waitFor(() => setup.sink.received.length === 3, { description: '3 deliveries' });
    const listed = await setup.gql(
      '{ messages { edges { node { recipient subject submittedOverSmtp submittedBy } } } }',
    );
    assert.deepEqual(
      listed.messages.edges
        .map((e: any) => e.node)
        .sort((a: any, b: any) => a.recipient.localeCompare(b.recipient)),
      ['ana', 'bo', 'cy'].map((name) => ({
        recipient: `${name}@example.com`,
        subject: 'nightly report',
        submittedOverSmtp: true,
        submittedBy: 'kratos-courier',
      })),
    );
  });

  test('a wrong token gets 535 5.7.8 and nothing is stored', async (t) => {
    const setup = await setUp(t);
    const { status, transcript } = await swaks([
      '--server',
      `127.0.0.1:${setup.port}`,
      '--auth',
      'LOGIN',
      '--auth-user',
      'cron',
      '--auth-password',
      'msk_not-a-token',
      '--from',
      'cron@example.com',
      '--to',
      'ana@example.com',
    ]);
    assert.notEqual(status, 0);
    assert.match(transcript, /<\*\*\s+535 5\.7\.8 Authentication credentials invalid/);
    assert.doesNotMatch(transcript, /->\s+MAIL FROM/, 'swaks stops at the refusal');
    assert.equal(await storedCount(setup), 0);
  });

  test('AUTH before STARTTLS from a non-loopback address: not offered, not accepted; after STARTTLS it is', async (t) => {
    const address = nonLoopbackIPv4();
    if (address === undefined) {
      t.skip('no non-loopback IPv4 address on this machine');
      return;
    }
    assert.ok(!isLoopbackAddress(address));
    const setup = await setUp(t, { SUBMISSION_HOST: address });
    const auth = ['--auth', 'PLAIN', '--auth-user', 'cron', '--auth-password', setup.sendToken];
    const envelope = ['--from', 'cron@example.com', '--to', 'ana@example.com'];
    const cleartext = await swaks(['--server', `${address}:${setup.port}`, ...auth, ...envelope]);
    assert.notEqual(cleartext.status, 0, cleartext.transcript);
    assert.match(cleartext.transcript, /<-\s+250-STARTTLS/);
    assert.doesNotMatch(cleartext.transcript, /<-\s+250[- ]AUTH/, 'AUTH is not offered');
    assert.match(cleartext.transcript, /\*\*\* Host did not advertise authentication/);
    assert.doesNotMatch(cleartext.transcript, /->\s+AUTH/, 'the token never went in cleartext');
    // Told to go on without AUTH, the client is refused at MAIL FROM: no relay without AUTH.
    const unauthenticated = await swaks([
      '--server',
      `${address}:${setup.port}`,
      ...auth,
      '--auth-optional',
      ...envelope,
    ]);
    assert.notEqual(unauthenticated.status, 0);
    assert.match(unauthenticated.transcript, /<\*\*\s+530 5\.7\.0 Authentication required/);
    assert.equal(await storedCount(setup), 0);

    const overTls = await swaks([
      '--server',
      `${address}:${setup.port}`,
      '--tls',
      ...auth,
      ...envelope,
    ]);
    assert.equal(overTls.status, 0, overTls.transcript);
    assert.match(overTls.transcript, /<~\s+235 2\.7\.0 Authentication successful/, 'AUTH over TLS');
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
  });

  test('a second loopback address (127.0.0.2) is loopback: AUTH in cleartext is accepted there', async (t: TestContext) => {
    // The listener decides by the client's address: 127.0.0.0/8 and ::1 are this machine.
    assert.ok(isLoopbackAddress('127.0.0.2'));
    const setup = await setUp(t);
    const { status, transcript } = await swaks([
      '--server',
      `127.0.0.1:${setup.port}`,
      '--local-interface',
      '127.0.0.2',
      '--auth',
      'PLAIN',
      '--auth-user',
      'cron',
      '--auth-password',
      setup.sendToken,
      '--from',
      'cron@example.com',
      '--to',
      'ana@example.com',
    ]);
    assert.equal(status, 0, transcript);
    assert.match(transcript, /Connected to 127\.0\.0\.1/);
    assert.match(transcript, /<-\s+250-AUTH PLAIN LOGIN/);
    assert.match(transcript, /<-\s+235 2\.7\.0 Authentication successful/);
    await waitFor(() => setup.sink.received.length === 1, { description: 'delivered' });
  });
});
