import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  openSync,
  readFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeWith, killOnExit, type Scope } from './scope.ts';
import { waitFor } from './wait-for.ts';

// Debian's Postfix as a real MTA between mailscope and a test SMTP server: a private instance
// (its own configuration, queue and port), run in the foreground and stopped when the test ends.

export const POSTFIX = '/usr/sbin/postfix';

/** Postfix needs root to start (it drops to its own user); CI installs it (.ci/run). */
export function postfixAvailable(): boolean {
  return existsSync(POSTFIX) && process.getuid?.() === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const MASTER_CF = (port: number) => `127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;

export interface TestPostfix {
  host: string;
  port: number;
  /** What Postfix logged so far. */
  log(): string;
}

/**
 * Starts Postfix relaying everything to `relay`, except mail for `bounceDomain`, which goes to
 * `bounceListener` (so its own bounces reach mailscope's bounce intake).
 */
export async function startTestPostfix(
  scope: Scope,
  options: {
    relay: { host: string; port: number };
    bounceDomain: string;
    bounceListener: { host: string; port: number };
  },
): Promise<TestPostfix> {
  const dir = mkdtempSync(join(tmpdir(), 'mailscope-postfix-'));
  // Postfix's daemons run as its own user: they must be able to reach the queue.
  chmodSync(dir, 0o755);
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  mkdirSync(join(dir, 'spool'));
  mkdirSync(join(dir, 'data'));
  const postfixUid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(join(dir, 'data'), postfixUid, 0);
  const port = await freePort();
  const { relay, bounceListener } = options;
  writeFileSync(
    join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${join(dir, 'spool')}`,
      `data_directory = ${join(dir, 'data')}`,
      'meta_directory = /etc/postfix',
      'myhostname = mta.mailscope.test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      `relayhost = [${relay.host}]:${relay.port}`,
      `transport_maps = inline:{ {${options.bounceDomain}=smtp:[${bounceListener.host}]:${bounceListener.port}} }`,
      'smtp_dns_support_level = disabled',
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      'smtputf8_enable = no',
      // Postfix logs to its standard output, which is a file (start-fg cannot log to a pipe).
      'maillog_file = /dev/stdout',
      'delay_warning_time = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(etc, 'master.cf'), MASTER_CF(port));
  // Creates the queue's directories with their owners and modes (start-fg expects them).
  execFileSync(POSTFIX, ['-c', etc, 'check'], { stdio: 'ignore' });
  const output = '';
  const maillog = () => {
    try {
      return readFileSync(join(dir, 'maillog'), 'utf8');
    } catch {
      return '';
    }
  };
  const logFd = openSync(join(dir, 'maillog'), 'a');
  const child = spawn(POSTFIX, ['-c', etc, 'start-fg'], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  killOnExit(child);
  closeWith(scope, async () => {
    try {
      execFileSync(POSTFIX, ['-c', etc, 'stop'], { stdio: 'ignore' });
    } catch {
      child.kill('SIGKILL');
    }
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
      description: 'postfix to stop',
    }).catch(() => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createServer().listen(port, '127.0.0.1');
        socket.once('listening', () => socket.close(() => resolve(false)));
        socket.once('error', () => resolve(true)); // taken: Postfix listens
      }),
    { description: `postfix listening on ${port}`, timeoutMs: 20_000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; postfix said:\n${output}${maillog()}`);
  });
  return { host: '127.0.0.1', port, log: () => output + maillog() };
}
