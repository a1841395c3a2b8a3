/**
 * EHLO and AUTH for `verify.ts`: what an EHLO reply offers, and the AUTH exchange itself. The
 * command lines built here carry the credentials: they go to the socket and nowhere else.
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import type { SmtpEndpoint } from './endpoint.ts';
import type { SmtpReply, SmtpSession } from './verify-session.ts';

export interface EhloInfo {
  /** Keywords with their parameters, e.g. `["PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN"]`. */
  extensions: string[];
  /** Upper-cased, e.g. `["PLAIN", "LOGIN"]`. */
  authMechanisms: string[];
  /** SIZE in bytes; null when not announced or announced without a limit (`SIZE` or `SIZE 0`). */
  maxMessageSize: number | null;
  startTls: boolean;
  smtpUtf8: boolean;
  pipelining: boolean;
}

export const NO_EXTENSIONS: EhloInfo = {
  extensions: [],
  authMechanisms: [],
  maxMessageSize: null,
  startTls: false,
  smtpUtf8: false,
  pipelining: false,
};

export function parseEhlo(reply: SmtpReply): EhloInfo {
  // The first line is the server's name and greeting, not an extension.
  const extensions = reply.lines
    .slice(1)
    .map((line) => line.slice(4).trim())
    .filter((line) => line !== '');
  const keywords = new Set(extensions.map((ext) => ext.split(/[\s=]/, 1)[0]!.toUpperCase()));
  const authMechanisms = new Set<string>();
  let maxMessageSize: number | null = null;
  for (const ext of extensions) {
    // "AUTH=PLAIN LOGIN" is how some old servers (and Outlook clients) spell it.
    const auth = /^AUTH[\s=](.*)$/i.exec(ext);
    for (const mechanism of auth?.[1]?.split(/[\s=]+/) ?? []) {
      if (mechanism !== '') authMechanisms.add(mechanism.toUpperCase());
    }
    const size = /^SIZE(?:\s+(\d+))?$/i.exec(ext);
    if (size) maxMessageSize = Number(size[1]) || null;
  }
  return {
    extensions,
    authMechanisms: [...authMechanisms],
    maxMessageSize,
    startTls: keywords.has('STARTTLS'),
    smtpUtf8: keywords.has('SMTPUTF8'),
    pipelining: keywords.has('PIPELINING'),
  };
}

/** In order of preference, as nodemailer chooses (the delivery transport), so both agree. */
export const AUTH_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const;
export type AuthMechanism = (typeof AUTH_MECHANISMS)[number];

export function chooseMechanism(offered: readonly string[]): AuthMechanism | null {
  return AUTH_MECHANISMS.find((mechanism) => offered.includes(mechanism)) ?? null;
}

/** Runs the exchange; returns the server's final reply (235 when accepted). */
export async function authenticate(
  session: SmtpSession,
  mechanism: AuthMechanism,
  credentials: { username: string; password: string },
  timeoutMs: number,
): Promise<SmtpReply> {
  const { username, password } = credentials;
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  let reply: SmtpReply;
  switch (mechanism) {
    case 'PLAIN':
      reply = await session.command(
        `AUTH PLAIN ${base64(`\u0000${username}\u0000${password}`)}`,
        timeoutMs,
      );
      break;
    case 'LOGIN':
      reply = await session.command('AUTH LOGIN', timeoutMs);
      if (reply.code === 334) reply = await session.command(base64(username), timeoutMs);
      if (reply.code === 334) reply = await session.command(base64(password), timeoutMs);
      break;
    case 'CRAM-MD5':
      reply = await session.command('AUTH CRAM-MD5', timeoutMs);
      if (reply.code === 334) {
        const challenge = Buffer.from(reply.lines[0]!.slice(4), 'base64').toString('utf8');
        const digest = createHmac('md5', password).update(challenge).digest('hex');
        reply = await session.command(base64(`${username} ${digest}`), timeoutMs);
      }
      break;
  }
  // A server still asking for more is told to stop, so that QUIT is read as a command.
  if (reply.code === 334) await session.command('*', timeoutMs).catch(() => undefined);
  return reply;
}

export type AuthProblem = 'no-password' | 'not-offered' | 'no-mechanism';

/** Why AUTH could not even be tried, for a `DeliveryError`. */
export function describeAuthProblem(
  problem: AuthProblem,
  endpoint: SmtpEndpoint,
  offered: readonly string[],
): { message: string; hint: string } {
  const where = `${endpoint.host}:${endpoint.port}`;
  switch (problem) {
    case 'no-password':
      return {
        message: 'The connection URI has a user name but no password',
        hint: 'Add the password: smtp://user:password@host (URI-encoded, @ as %40, / as %2F), or remove the user name if the server needs no authentication.',
      };
    case 'not-offered':
      return {
        message: `The server at ${where} does not offer AUTH on this connection, but the connection URI has credentials`,
        hint:
          endpoint.security === 'cleartext'
            ? 'Many servers offer AUTH only after TLS: remove disable_starttls=true. If the server needs no authentication, remove user:password from the URI.'
            : 'If the server needs no authentication, remove user:password from the URI. Otherwise check the port: submission with AUTH is 587 (smtp://) or 465 (smtps://); port 25 usually offers none.',
      };
    case 'no-mechanism':
      return {
        message: `The server at ${where} offers AUTH ${offered.join(' ')}, none of which mailscope supports (${AUTH_MECHANISMS.join(', ')})`,
        hint: 'Enable PLAIN or LOGIN (over TLS) on the server, or use a relay that offers them.',
      };
  }
}

/** As nodemailer's default, so that a verification greets the server the way a delivery does. */
export function defaultClientName(): string {
  let name = '';
  try {
    name = os.hostname();
  } catch {
    // Some platforms refuse; the literal below is always acceptable.
  }
  if (!name.includes('.')) return '[127.0.0.1]';
  return net.isIPv4(name) ? `[${name}]` : name;
}
