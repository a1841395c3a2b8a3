/**
 * SMTP connection URIs (docs/CONTRACT.md, "SMTP connection URIs"). Hand-written rather than WHATWG `URL`
 * because `URL` silently repairs input (encodes spaces, drops empty ports, accepts `\` and stray
 * `@`), and whatever we accept here is stored and used for AUTH, so it must be exactly what the user
 * meant. Problems never contain the password, nor the raw input (which may hold it).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SmtpEndpoint } from './endpoint.ts';
import { usernameIsSecret } from './secret-username.ts';

export type ParseResult = { ok: true; endpoint: SmtpEndpoint } | { ok: false; problem: string };

const DEFAULT_PORT = { smtp: 587, smtps: 465 } as const;
const MAX_LENGTH = 2048;
const PARAMS = ['skip_ssl_verify', 'disable_starttls', 'server_name'] as const;
type Param = (typeof PARAMS)[number];

class UriProblem extends Error {}

function fail(problem: string): never {
  throw new UriProblem(problem);
}

/** Quotes a non-secret fragment of the input for a problem; length-capped so it stays a sentence. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

export function parseSmtpUri(uri: string): ParseResult {
  try {
    return { ok: true, endpoint: parse(uri) };
  } catch (error) {
    if (error instanceof UriProblem) return { ok: false, problem: error.message };
    throw error;
  }
}

function parse(uri: string): SmtpEndpoint {
  if (uri === '') fail('connection URI is empty');
  if (uri.length > MAX_LENGTH) fail(`connection URI is longer than ${MAX_LENGTH} characters`);
  // A line break would let a stored value smuggle extra lines into logs or config files.
  if (/[\r\n\u2028\u2029]/.test(uri)) fail('connection URI contains a line break');
  if (/[\u0000-\u001f\u007f-\u009f]/.test(uri)) fail('connection URI contains a control character');
  // Lone surrogates would make encodeURIComponent throw when the endpoint is formatted later.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(uri)) {
    fail('connection URI is not valid Unicode');
  }
  // Not trimmed: a pasted value with stray spaces is more likely a mistake than intent.
  if (/^\s|\s$/.test(uri)) fail('connection URI has leading or trailing whitespace');

  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(uri);
  if (!schemeMatch) {
    // Without "://" the text before ":" may be a user name or password, so it is not echoed.
    fail(
      /^smtps?:/i.test(uri)
        ? 'the scheme must be followed by "//", e.g. smtp://host'
        : 'missing scheme: the URI must start with smtp:// or smtps://',
    );
  }
  const scheme = (schemeMatch[1] ?? '').toLowerCase();
  if (scheme !== 'smtp' && scheme !== 'smtps') {
    fail(`unsupported scheme ${quote(scheme)}: use smtp:// or smtps://`);
  }

  const rest = uri.slice(schemeMatch[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  // "@" after the authority means a password with a raw "/", "?" or "#" got cut in two; reading
  // it any other way would echo half the password back as a "port" or "path".
  if (tail.includes('@')) {
    fail('"@" after the host: percent-encode "/", "?" and "#" in the user name or password');
  }

  const at = authority.indexOf('@');
  let username: string | null = null;
  let password: string | null = null;
  if (at !== -1) {
    // Rejected rather than split at the last "@": guessing which "@" was meant is how a password
    // ends up in the host name and from there in DNS queries and logs.
    if (authority.indexOf('@', at + 1) !== -1) {
      fail('the user name or password contains an unencoded "@": encode it as %40');
    }
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const rawUser = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const rawPassword = colon === -1 ? null : userinfo.slice(colon + 1);
    if (rawUser === '') {
      fail(
        rawPassword === null ? 'empty user name before "@"' : 'password given without a user name',
      );
    }
    if (rawPassword === '') fail('empty password after ":": leave out the ":" for no password');
    username = decode(rawUser, 'user name');
    password = rawPassword === null ? null : decode(rawPassword, 'password');
  }

  const { host, portText } = splitHostPort(authority.slice(at + 1));
  let port: number = DEFAULT_PORT[scheme];
  if (portText !== null) {
    // Without userinfo, "smtp://user:secret" (host forgotten) puts the password where the port is.
    const shown = at === -1 ? '' : ` ${quote(portText)}`;
    if (portText === '') fail('port is empty after ":": give a port or leave out the ":"');
    if (!/^\d+$/.test(portText)) fail(`port${shown} is not a decimal number`);
    port = Number(portText);
    if (port < 1 || port > 65535) fail(`port${shown} is out of range 1-65535`);
  }

  if (tail.includes('#')) fail('a fragment ("#…") is not allowed');
  const q = tail.indexOf('?');
  const path = q === -1 ? tail : tail.slice(0, q);
  if (path !== '' && path !== '/') fail('a path is not allowed: only "/" may follow the host');
  const params = parseQuery(q === -1 ? '' : tail.slice(q + 1));

  const skipVerify = flag(params, 'skip_ssl_verify');
  const disableStarttls = flag(params, 'disable_starttls');
  const rawServerName = params.get('server_name');
  let serverName: string | null = null;
  if (rawServerName !== undefined) {
    if (rawServerName === '') fail('server_name is empty');
    serverName = checkHostname(rawServerName, 'server_name');
  }
  // Even "=false" is refused on smtps://: the parameter has no meaning there, so it is a mistake.
  if (scheme === 'smtps' && disableStarttls !== null) {
    fail('disable_starttls only applies to smtp://; smtps:// always uses TLS');
  }
  if (disableStarttls === true && (skipVerify !== null || serverName !== null)) {
    const other = skipVerify !== null ? 'skip_ssl_verify' : 'server_name';
    fail(`disable_starttls=true cannot be combined with ${other}: there is no TLS to relax`);
  }

  const cleartext = disableStarttls === true;
  return {
    scheme,
    host,
    port,
    username,
    password,
    security: scheme === 'smtps' ? 'implicit-tls' : cleartext ? 'cleartext' : 'starttls',
    verifyCertificate: cleartext || skipVerify !== true,
    serverName,
  };
}

function splitHostPort(hostport: string): { host: string; portText: string | null } {
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close === -1) fail('IPv6 address is missing its closing "]"');
    const host = hostport.slice(1, close).toLowerCase();
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) fail('unexpected text after the IPv6 address');
    // Zone IDs ("%25eth0") are refused: they are local to one machine and break the round trip.
    if (host.includes('%') || !isIPv6(host)) fail('host is not a valid IPv6 address');
    return { host, portText: after === '' ? null : after.slice(1) };
  }
  const colon = hostport.indexOf(':');
  if (colon !== hostport.lastIndexOf(':')) {
    fail('IPv6 addresses must be in brackets, e.g. smtp://[::1]:25');
  }
  const host = colon === -1 ? hostport : hostport.slice(0, colon);
  if (host === '') fail('missing host');
  return {
    host: checkHostname(host, 'host'),
    portText: colon === -1 ? null : hostport.slice(colon + 1),
  };
}

/** Host names are not echoed: when the "@" is missing, the "host" may be a user name or worse. */
function checkHostname(text: string, what: string): string {
  const host = text.toLowerCase();
  if (/[^a-z0-9._-]/.test(host)) {
    fail(
      `${what} may contain only letters, digits, "-", "_" and "." (use xn-- for non-ASCII names)`,
    );
  }
  const labels = host.split('.');
  const badLabel = (label: string) =>
    label === '' || label.length > 63 || label.startsWith('-') || label.endsWith('-');
  if (host.length > 253 || labels.some(badLabel)) fail(`${what} is not a valid host name`);
  // All-numeric names would be resolved as IPv4 by the OS, so they must be valid IPv4.
  if (labels.every((label) => /^\d+$/.test(label)) && !isIPv4(host)) {
    fail(`${what} is not a valid IPv4 address`);
  }
  return host;
}

function decode(text: string, what: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(text))
    fail(`${what} is not valid percent-encoding (write % as %25)`);
  try {
    return decodeURIComponent(text);
  } catch {
    fail(`${what} is not valid percent-encoding (not UTF-8)`);
  }
}

function parseQuery(query: string): Map<Param, string> {
  const params = new Map<Param, string>();
  // Empty pieces ("?", "a=b&", "&&") carry nothing and are ignored, as most URI parsers do.
  for (const piece of query.split('&').filter((p) => p !== '')) {
    const eq = piece.indexOf('=');
    const name = decode(eq === -1 ? piece : piece.slice(0, eq), 'a query parameter name');
    if (!(PARAMS as readonly string[]).includes(name))
      fail(`unknown query parameter ${quote(name)}`);
    const param = name as Param;
    if (params.has(param)) fail(`query parameter "${param}" is given more than once`);
    if (eq === -1) fail(`query parameter "${param}" needs a value, e.g. ${param}=true`);
    params.set(param, decode(piece.slice(eq + 1), `the value of ${param}`));
  }
  return params;
}

/** Only the literal words: "1", "yes" or "TRUE" are more likely typos than intent. */
function flag(params: Map<Param, string>, name: Param): boolean | null {
  const value = params.get(name);
  if (value === undefined) return null;
  if (value !== 'true' && value !== 'false') fail(`${name} must be "true" or "false"`);
  return value === 'true';
}

/**
 * Canonical string form; when redact is true (the default) the password is shown as "***", and
 * so is the user name when it is a credential too (secret-username.ts). Username otherwise
 * shown URI-encoded. Port always explicit. Query params in a fixed order, only those that are set
 * (skip_ssl_verify=true, disable_starttls=true, server_name=…).
 * e.g. "smtp://user:***@mail.example.com:587/?skip_ssl_verify=true"
 */
export function formatSmtpUri(endpoint: SmtpEndpoint, options: { redact?: boolean } = {}): string {
  const redact = options.redact ?? true;
  let userinfo = '';
  if (endpoint.username !== null || endpoint.password !== null) {
    userinfo =
      redact && usernameIsSecret(endpoint) ? '***' : encodeURIComponent(endpoint.username ?? '');
    if (endpoint.password !== null) {
      userinfo += `:${redact ? '***' : encodeURIComponent(endpoint.password)}`;
    }
    userinfo += '@';
  }
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  // Cleartext drops the TLS options: they mean nothing there and the parser would refuse them.
  const cleartext = endpoint.security === 'cleartext';
  const params: string[] = [];
  if (!cleartext && !endpoint.verifyCertificate) params.push('skip_ssl_verify=true');
  if (cleartext) params.push('disable_starttls=true');
  if (!cleartext && endpoint.serverName !== null) {
    params.push(`server_name=${encodeURIComponent(endpoint.serverName)}`);
  }
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return `${endpoint.scheme}://${userinfo}${host}:${endpoint.port}/${query}`;
}

/**
 * Best-effort redaction of ANY string that may be a (possibly invalid) URI with a password:
 * replaces the password part of `scheme://user:pass@` with *** even if the rest is garbage. Used
 * before putting user input in an error/log. Errs towards hiding too much.
 */
export function redactUriPassword(raw: string): string {
  // A new URI starts only at a word boundary, so a "://" inside a password does not end it early.
  const starts = [...raw.matchAll(/(?<=^|[\s"'<>()[\]{},;=])[A-Za-z][A-Za-z0-9+.-]*:\/\//g)];
  if (starts.length === 0) return redactUserinfo(raw, false);
  let out = raw.slice(0, starts[0]?.index ?? 0);
  starts.forEach((match, i) => {
    const begin = match.index + match[0].length;
    const end = starts[i + 1]?.index ?? raw.length;
    out += match[0] + redactUserinfo(raw.slice(begin, end), true);
  });
  return out;
}

function redactUserinfo(text: string, afterScheme: boolean): string {
  // The last "@" ends the userinfo: a raw "@", "/" or "#" inside a password must not end it early.
  const at = text.lastIndexOf('@');
  const colon = text.indexOf(':');
  if (at !== -1) {
    return colon !== -1 && colon < at ? `${text.slice(0, colon + 1)}***${text.slice(at)}` : text;
  }
  if (!afterScheme) return text;
  // No "@": "user:secret" with the host forgotten looks like host:port, so anything that is not a
  // usable port goes (a numeric secret like "123456" included).
  const hostPort = /^([^:/?#\s[\]]*):([^/?#\s]*)/.exec(text);
  const port = hostPort?.[2] ?? '';
  if (hostPort && port !== '' && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
    return `${hostPort[1]}:***${text.slice(hostPort[0].length)}`;
  }
  return text;
}
