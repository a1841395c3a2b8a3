/**
 * The builder that turns a provider preset (provider-presets.ts) plus credentials into
 * a connection URI (docs/CONTRACT.md, "SMTP connection URIs"). The builder exists because hand-encoding
 * `SG.abc/def+ghi=` or `postmaster@mg.example.com` into a URI is the step users get wrong.
 * Problems never contain the password, the user name (for Postmark it is the token) or the host
 * (a misplaced secret may land there).
 */
import { isIPv6 } from 'node:net';
import type { SmtpEndpoint } from './endpoint.ts';
import {
  DEFAULT_IMPLICIT_TLS_PORTS,
  IMPLICIT_TLS_PORTS,
  PROVIDERS_BY_ID,
  SMTP_PROVIDERS,
  type SmtpProviderPreset,
} from './provider-presets.ts';
import { formatSmtpUri, parseSmtpUri } from './uri.ts';

export {
  getSmtpProvider,
  presetInUse,
  SMTP_PROVIDERS,
  type SmtpProviderPreset,
} from './provider-presets.ts';

export type ProviderUriResult =
  | { ok: true; connectionUri: string }
  | { ok: false; problems: { field: string; problem: string }[] };

type Problem = { field: string; problem: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Shape checks shared by user name and password; the value itself is never quoted. */
function secretProblem(value: string, what: string): string | null {
  if (LONE_SURROGATE.test(value)) return `${what} is not valid Unicode`;
  // Generated keys never start or end with spaces, so such a value is a copy-paste slip.
  if (/^\s|\s$/.test(value)) return `${what} has leading or trailing whitespace`;
  return null;
}

/**
 * Builds the canonical connection URI (unredacted: it holds the password) for a preset. Fields in
 * problems name the input's fields: `provider`, `host`, `port`, `username`, `password`, or ``
 * (empty) for the URI as a whole.
 *
 * - `host` is required for GENERIC; for a named preset it may only repeat the preset's host.
 * - `port` overrides the preset's port (e.g. 2525 where 587 is blocked). 465 (and 2465 for SES)
 *   selects `smtps://`; every other port uses STARTTLS.
 * - `username` is filled in when omitted for SendGrid ("apikey", and nothing else is accepted) and
 *   Postmark (the token, from the password); the other presets require it.
 */
export function buildProviderUri(
  providerId: string,
  credentials: {
    username?: string | null;
    password: string;
    host?: string | null;
    port?: number | null;
  },
): ProviderUriResult {
  const preset = PROVIDERS_BY_ID.get(providerId);
  if (!preset) {
    const known = SMTP_PROVIDERS.map((p) => p.id).join(', ');
    return {
      ok: false,
      problems: [{ field: 'provider', problem: `unknown provider; use one of ${known}` }],
    };
  }
  const problems: Problem[] = [];
  const add = (field: string, problem: string) => problems.push({ field, problem });

  let host = preset.host;
  const givenHost = credentials.host ?? '';
  if (preset.host === null) {
    const checked = checkGenericHost(givenHost);
    if ('problem' in checked) add('host', checked.problem);
    else host = checked.host;
  } else if (givenHost !== '' && givenHost.toLowerCase() !== preset.host) {
    add(
      'host',
      `${preset.name} always uses ${preset.host}: leave the host empty, or choose GENERIC for another server`,
    );
  }

  const port = credentials.port ?? preset.port;
  if (!Number.isInteger(port)) add('port', 'port must be a whole number');
  else if (port < 1 || port > 65535) add('port', `port ${port} is out of range 1-65535`);

  const password = credentials.password ?? '';
  const passwordProblem =
    password === ''
      ? `a password is required: ${preset.passwordRule}`
      : secretProblem(password, 'password');
  if (passwordProblem !== null) add('password', passwordProblem);

  const username = usernameFor(preset, credentials.username ?? '', password, add);

  if (problems.length > 0 || host === null || username === null) return { ok: false, problems };

  const implicitTls = (IMPLICIT_TLS_PORTS.get(preset.id) ?? DEFAULT_IMPLICIT_TLS_PORTS).includes(
    port,
  );
  const endpoint: SmtpEndpoint = {
    scheme: implicitTls ? 'smtps' : 'smtp',
    host,
    port,
    username,
    password,
    security: implicitTls ? 'implicit-tls' : 'starttls',
    verifyCertificate: true,
    serverName: null,
  };
  const connectionUri = formatSmtpUri(endpoint, { redact: false });
  const parsed = parseSmtpUri(connectionUri);
  if (!parsed.ok) {
    const field = /^(host|IPv6)/.test(parsed.problem)
      ? 'host'
      : /^port/.test(parsed.problem)
        ? 'port'
        : '';
    return { ok: false, problems: [{ field, problem: parsed.problem }] };
  }
  // The checks above should make this unreachable; it guards against a credential changing meaning.
  const e = parsed.endpoint;
  if (e.host !== host || e.port !== port || e.username !== username || e.password !== password) {
    return {
      ok: false,
      problems: [{ field: '', problem: 'the credentials do not survive URI encoding' }],
    };
  }
  return { ok: true, connectionUri };
}

function usernameFor(
  preset: SmtpProviderPreset,
  given: string,
  password: string,
  add: (field: string, problem: string) => void,
): string | null {
  if (preset.fixedUsername !== null) {
    if (given === '' || given === preset.fixedUsername) return preset.fixedUsername;
    // The classic SendGrid mistake: the account login or the key in the user name field.
    add(
      'username',
      `${preset.name}'s SMTP user name is the literal word "${preset.fixedUsername}": leave it empty and put the API key in the password`,
    );
    return null;
  }
  if (given === '') {
    if (preset.id === 'POSTMARK') return password;
    add('username', `a user name is required: ${preset.usernameRule}`);
    return null;
  }
  const problem = secretProblem(given, 'user name');
  if (problem !== null) {
    add('username', problem);
    return null;
  }
  if (preset.id.startsWith('MAILGUN_') && !given.includes('@')) {
    add('username', `Mailgun's user name is ${preset.usernameRule}`);
    return null;
  }
  return given;
}

/** Rejects anything that could change the URI's structure before the parser sees it. */
function checkGenericHost(text: string): { host: string } | { problem: string } {
  if (text === '') return { problem: 'a host is required for GENERIC, e.g. smtp.example.com' };
  if (/^\s|\s$/.test(text)) return { problem: 'host has leading or trailing whitespace' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { problem: 'give the host name only, without a scheme such as smtp://' };
  }
  if (/^[^:]+:\d*$/.test(text) || /^\[[^\]]*\]:\d*$/.test(text)) {
    return { problem: 'give the port in input.port, not in the host' };
  }
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    if (bare.includes('%') || !isIPv6(bare)) return { problem: 'host is not a valid IPv6 address' };
    return { host: bare.toLowerCase() };
  }
  if (/[^A-Za-z0-9._-]/.test(text)) {
    return {
      problem:
        'host may contain only letters, digits, "-", "_" and "." (use xn-- for non-ASCII names)',
    };
  }
  return { host: text.toLowerCase() };
}
