/**
 * Presets for well-known SMTP providers, and the builder that turns a preset plus credentials into
 * a connection URI (CONTRACT.md, "SMTP connection URIs"). The builder exists because hand-encoding
 * `SG.abc/def+ghi=` or `postmaster@mg.example.com` into a URI is the step users get wrong.
 * Problems never contain the password, the user name (for Postmark it is the token) or the host
 * (a misplaced secret may land there).
 */
import { isIPv6 } from 'node:net';
import type { SmtpEndpoint, SmtpSecurity } from './endpoint.ts';
import { formatSmtpUri, parseSmtpUri } from './uri.ts';

export interface SmtpProviderPreset {
  /** Stable and GraphQL-enum friendly, e.g. `MAILGUN_EU`. */
  id: string;
  /** Display name, e.g. "Mailgun (EU)". */
  name: string;
  /** Null for GENERIC: the user supplies the host. */
  host: string | null;
  /** Default port; `buildProviderUri` takes an override. */
  port: number;
  /** Security at the default port. */
  security: Exclude<SmtpSecurity, 'cleartext'>;
  /** What to enter as the user name, for a person. */
  usernameRule: string;
  /** The only accepted user name, filled in when omitted (SendGrid's "apikey"); else null. */
  fixedUsername: string | null;
  /** What to enter as the password, for a person. */
  passwordRule: string;
  /** Where to get the credentials and the usual gotchas, in words (no URLs). */
  documentationNote: string;
}

export type ProviderUriResult =
  | { ok: true; connectionUri: string }
  | { ok: false; problems: { field: string; problem: string }[] };

type Problem = { field: string; problem: string };

const SES_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-central-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
] as const;

const sesId = (region: string) => `AMAZON_SES_${region.toUpperCase().replaceAll('-', '_')}`;

const PRESETS: SmtpProviderPreset[] = [
  {
    id: 'SENDGRID',
    name: 'SendGrid',
    host: 'smtp.sendgrid.net',
    port: 587,
    security: 'starttls',
    usernameRule: 'the literal user name "apikey" (filled in when left empty)',
    fixedUsername: 'apikey',
    passwordRule: 'a SendGrid API key (it starts with "SG.") with the Mail Send permission',
    documentationNote:
      'Create an API key under Settings, API Keys in the SendGrid console; it is shown only once. ' +
      'SendGrid refuses mail until the From address is a verified sender identity (a verified ' +
      'single sender or an authenticated domain).',
  },
  ...(['US', 'EU'] as const).map((region): SmtpProviderPreset => ({
    id: `MAILGUN_${region}`,
    name: `Mailgun (${region})`,
    host: region === 'US' ? 'smtp.mailgun.org' : 'smtp.eu.mailgun.org',
    port: 587,
    security: 'starttls',
    usernameRule: 'the full SMTP login, e.g. postmaster@mg.example.com',
    fixedUsername: null,
    passwordRule: 'the password of that SMTP login (not your Mailgun API key)',
    documentationNote:
      "Find or create SMTP credentials in the Mailgun console, in your sending domain's " +
      'settings. A domain lives in one region: choose Mailgun (EU) for a domain created in ' +
      'the EU region and Mailgun (US) otherwise; the other host rejects its credentials.',
  })),
  ...SES_REGIONS.map((region): SmtpProviderPreset => ({
    id: sesId(region),
    name: `Amazon SES (${region})`,
    host: `email-smtp.${region}.amazonaws.com`,
    port: 587,
    security: 'starttls',
    usernameRule:
      'the SMTP user name of an SES SMTP credential (not the access key ID of your own IAM user)',
    fixedUsername: null,
    passwordRule:
      'the SMTP password shown once when the SMTP credential was created (not an IAM secret access key)',
    documentationNote:
      'Create SMTP credentials in the Amazon SES console under SMTP settings; they belong to ' +
      'one region, so pick the preset of the region where your identities are verified. New ' +
      'accounts are in the sandbox and only send to verified addresses and domains until ' +
      'production access is granted.',
  })),
  {
    id: 'POSTMARK',
    name: 'Postmark',
    host: 'smtp.postmarkapp.com',
    port: 587,
    security: 'starttls',
    usernameRule:
      'your Server API token (used as both user name and password; filled in from the password when left empty)',
    fixedUsername: null,
    passwordRule: 'your Server API token',
    documentationNote:
      'Copy the Server API token from the API Tokens tab of your server in Postmark. Postmark ' +
      'only accepts mail from a verified sender signature or a verified domain.',
  },
  {
    id: 'GENERIC',
    name: 'Other SMTP server',
    host: null,
    port: 587,
    security: 'starttls',
    usernameRule: 'the SMTP user name your provider or mail server gives you',
    fixedUsername: null,
    passwordRule: 'the SMTP password your provider or mail server gives you',
    documentationNote:
      'Port 587 uses STARTTLS and port 465 uses TLS from the first byte; any other port uses ' +
      'STARTTLS. Port 25 is blocked for outgoing mail on most cloud providers, so prefer 587.',
  },
];

export const SMTP_PROVIDERS: readonly SmtpProviderPreset[] = Object.freeze(
  PRESETS.map((preset) => Object.freeze(preset)),
);

const BY_ID = new Map(SMTP_PROVIDERS.map((preset) => [preset.id, preset]));

/** Ports that speak TLS from the first byte; every other port uses STARTTLS. */
const IMPLICIT_TLS_PORTS = new Map<string, readonly number[]>(
  SES_REGIONS.map((region) => [sesId(region), [465, 2465]]),
);
const DEFAULT_IMPLICIT_TLS_PORTS = [465];

export function getSmtpProvider(id: string): SmtpProviderPreset | undefined {
  return BY_ID.get(id);
}

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
 * problems are GraphQL input paths: `input.provider`, `input.host`, `input.port`, `input.username`,
 * `input.password`, or `input` for the URI as a whole.
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
  const preset = BY_ID.get(providerId);
  if (!preset) {
    const known = SMTP_PROVIDERS.map((p) => p.id).join(', ');
    return {
      ok: false,
      problems: [{ field: 'input.provider', problem: `unknown provider; use one of ${known}` }],
    };
  }
  const problems: Problem[] = [];
  const add = (field: string, problem: string) => problems.push({ field, problem });

  let host = preset.host;
  const givenHost = credentials.host ?? '';
  if (preset.host === null) {
    const checked = checkGenericHost(givenHost);
    if ('problem' in checked) add('input.host', checked.problem);
    else host = checked.host;
  } else if (givenHost !== '' && givenHost.toLowerCase() !== preset.host) {
    add(
      'input.host',
      `${preset.name} always uses ${preset.host}: leave the host empty, or choose GENERIC for another server`,
    );
  }

  const port = credentials.port ?? preset.port;
  if (!Number.isInteger(port)) add('input.port', 'port must be a whole number');
  else if (port < 1 || port > 65535) add('input.port', `port ${port} is out of range 1-65535`);

  const password = credentials.password ?? '';
  const passwordProblem =
    password === ''
      ? `a password is required: ${preset.passwordRule}`
      : secretProblem(password, 'password');
  if (passwordProblem !== null) add('input.password', passwordProblem);

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
      ? 'input.host'
      : /^port/.test(parsed.problem)
        ? 'input.port'
        : 'input';
    return { ok: false, problems: [{ field, problem: parsed.problem }] };
  }
  // The checks above should make this unreachable; it guards against a credential changing meaning.
  const e = parsed.endpoint;
  if (e.host !== host || e.port !== port || e.username !== username || e.password !== password) {
    return {
      ok: false,
      problems: [{ field: 'input', problem: 'the credentials do not survive URI encoding' }],
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
      'input.username',
      `${preset.name}'s SMTP user name is the literal word "${preset.fixedUsername}": leave it empty and put the API key in the password`,
    );
    return null;
  }
  if (given === '') {
    if (preset.id === 'POSTMARK') return password;
    add('input.username', `a user name is required: ${preset.usernameRule}`);
    return null;
  }
  const problem = secretProblem(given, 'user name');
  if (problem !== null) {
    add('input.username', problem);
    return null;
  }
  if (preset.id.startsWith('MAILGUN_') && !given.includes('@')) {
    add('input.username', `Mailgun's user name is ${preset.usernameRule}`);
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
