import type { DeliveryError, DeliveryErrorCode } from '../domain/delivery-error.ts';
import type { SmtpEndpoint } from './endpoint.ts';

/**
 * Turns whatever nodemailer (or Node underneath it) failed with into the contract's
 * `DeliveryError`. Pure: the same error and endpoint always give the same result.
 *
 * Nodemailer replaces a socket error's `code` with its own (`ESOCKET`, `EDNS`, …) and keeps
 * Node's in `originalCode`, so both are read, along any `cause` chain.
 */
export function classifySmtpError(err: unknown, endpoint: SmtpEndpoint): DeliveryError {
  const facts = readFacts(err);
  const result = classify(facts, endpoint);
  const redact = redactor(endpoint);
  return {
    code: result.code,
    message: redact(oneLine(result.message)),
    responseCode: facts.responseCode,
    enhancedStatus: facts.enhancedStatus,
    command: result.command === undefined ? facts.command : result.command,
    response: facts.response === null ? null : redact(facts.response),
    permanent: result.permanent ?? false,
    hint: result.hint === null ? null : redact(result.hint),
  };
}

interface Facts {
  /** Every `code` and `originalCode` along the error and its causes, outermost first. */
  codes: string[];
  message: string;
  /** Node's short TLS reason, e.g. "wrong version number". */
  reason: string | null;
  response: string | null;
  responseCode: number | null;
  enhancedStatus: string | null;
  /** Nodemailer's command, with its internal "API" (no SMTP command involved) dropped. */
  command: string | null;
  timeoutType: string | null;
  recipient: string | null;
  /** Names the server's certificate is valid for (DNS SANs, else its CN), when Node says. */
  certNames: string[];
}

interface Classified {
  code: DeliveryErrorCode;
  message: string;
  hint: string | null;
  permanent?: boolean;
  /** Overrides the command nodemailer reported; `undefined` keeps it. */
  command?: string | null;
}

type ErrorLike = Record<string, unknown>;

function readFacts(err: unknown): Facts {
  const chain: ErrorLike[] = [];
  for (let e: unknown = err; isObject(e) && chain.length < 5; e = e['cause']) chain.push(e);
  const outer: ErrorLike = chain[0] ?? {};
  const codes = chain.flatMap((e) => [e['code'], e['originalCode']]).filter(isString);
  const response = isString(outer['response']) ? outer['response'] : null;
  const responseCode =
    typeof outer['responseCode'] === 'number'
      ? outer['responseCode']
      : response
        ? Number(/^([2-5]\d\d)\b/.exec(response)?.[1]) || null
        : null;
  const command =
    isString(outer['command']) && outer['command'] !== 'API' ? outer['command'] : null;
  const rejected = Array.isArray(outer['rejectedErrors']) ? outer['rejectedErrors'] : [];
  const recipient = [
    outer['recipient'],
    ...rejected.map((r) => (isObject(r) ? r['recipient'] : null)),
  ].find(isString);
  return {
    codes,
    message: isString(outer['message']) ? outer['message'] : String(err),
    reason: chain.map((e) => e['reason']).find(isString) ?? null,
    response,
    responseCode,
    enhancedStatus: response ? parseEnhancedStatus(response) : null,
    command,
    timeoutType: isString(outer['timeoutType']) ? outer['timeoutType'] : null,
    recipient: recipient ?? null,
    certNames: chain.map((e) => certNames(e['cert'])).find((names) => names.length > 0) ?? [],
  };
}

/** RFC 3463 `class.subject.detail` right after the reply code, e.g. "550 5.1.1 …" → "5.1.1". */
export function parseEnhancedStatus(response: string): string | null {
  const match = /^[2-5]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?!\S)/.exec(response);
  return match?.[1] ?? null;
}

function certNames(cert: unknown): string[] {
  if (!isObject(cert)) return [];
  const sans = isString(cert['subjectaltname']) ? cert['subjectaltname'] : '';
  const dns = [...sans.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!);
  const ips = [...sans.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]!);
  if (dns.length + ips.length > 0) return [...dns, ...ips];
  const subject = cert['subject'];
  return isObject(subject) && isString(subject['CN']) ? [subject['CN']] : [];
}

const TLS_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_REVOKED',
]);
const TLS_VALIDITY = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** What a TLS client reads when the other side answers in plaintext. */
const TLS_GOT_PLAINTEXT = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);
const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  EPIPE: 'connection closed',
};

function classify(f: Facts, ep: SmtpEndpoint): Classified {
  const where = `${ep.host}:${ep.port}`;
  const has = (code: string) => f.codes.includes(code);
  const tlsCommand = ep.security === 'starttls' ? 'STARTTLS' : 'CONN';

  if (has('ERR_TLS_CERT_ALTNAME_INVALID')) {
    const checked = ep.serverName ?? ep.host;
    const target = ep.serverName ? `server_name=${ep.serverName}` : `you connected to ${ep.host}`;
    const names = f.certNames;
    const wanted = names.find((n) => !n.startsWith('*.')) ?? names[0];
    const fix = wanted
      ? ep.serverName
        ? `Set ?server_name=${wanted}, or connect to the host name the certificate is for.`
        : `Connect to ${wanted} instead of ${ep.host}, or add ?server_name=${wanted} to keep connecting to ${ep.host}.`
      : 'Connect to the host name on the certificate, or name it with ?server_name=.';
    return {
      code: 'TLS',
      command: tlsCommand,
      message: `The server's TLS certificate is not valid for ${checked}${names.length ? ` (it is for ${names.join(', ')})` : ''}`,
      hint: `The certificate is for ${names.length ? names.join(', ') : 'another name'}, but ${target}. ${fix}`,
    };
  }
  if (f.codes.some((c) => TLS_VALIDITY.has(c))) {
    const expired = has('CERT_HAS_EXPIRED');
    return {
      code: 'TLS',
      command: tlsCommand,
      message: `The server's TLS certificate ${expired ? 'has expired' : 'is not valid yet'}`,
      hint: `${expired ? 'The server must renew its certificate' : 'Check the clock of this machine and of the server'}. skip_ssl_verify=true gets past this, but only use it for testing.`,
    };
  }
  if (f.codes.some((c) => TLS_UNTRUSTED.has(c))) {
    const selfSigned = has('DEPTH_ZERO_SELF_SIGNED_CERT') || has('SELF_SIGNED_CERT_IN_CHAIN');
    return {
      code: 'TLS',
      command: tlsCommand,
      message: `The server's TLS certificate is not trusted: ${f.message}`,
      hint: `${selfSigned ? 'The certificate is self-signed or signed by a private CA' : 'The certificate chain does not lead to a trusted CA (the server may not send its intermediate certificates)'}. Install the CA certificate on this machine (NODE_EXTRA_CA_CERTS), or fix the server's chain; skip_ssl_verify=true turns verification off and is for testing only.`,
    };
  }
  if (
    f.codes.some((c) => TLS_GOT_PLAINTEXT.has(c)) ||
    /wrong version number|packet length too long/i.test(f.message)
  ) {
    return {
      code: 'TLS',
      command: tlsCommand,
      message: `TLS handshake with ${where} failed: the server did not answer with TLS (${f.reason ?? f.message})`,
      hint:
        ep.security === 'implicit-tls'
          ? `Port ${ep.port} speaks plain SMTP first, not TLS: wrong port for smtps://. smtps:// is for port 465; for 587 (or 25) use smtp://, which upgrades with STARTTLS.`
          : `The server's reply to STARTTLS was not TLS. Check that ${where} is really an SMTP server.`,
    };
  }
  if (f.codes.some((c) => c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_') || c === 'EPROTO')) {
    return {
      code: 'TLS',
      command: tlsCommand,
      message: `TLS handshake with ${where} failed: ${f.message}`,
      hint: 'The server and this client could not agree on TLS (protocol version or ciphers). The server may only support outdated TLS versions.',
    };
  }
  if (has('ETIMEDOUT')) return timeout(f, ep, where);
  if (has('ETLS')) {
    if (f.responseCode !== null) {
      return {
        code: 'TLS',
        message: `The server at ${where} does not support STARTTLS: ${f.response}`,
        hint: `smtp:// requires STARTTLS and never sends mail or credentials in cleartext. Use smtps:// (usually on port 465) if the server offers implicit TLS; disable_starttls=true sends everything in cleartext and is for development only.`,
      };
    }
    return {
      code: 'TLS',
      message: `TLS upgrade with ${where} failed: ${f.message}`,
      hint: 'The server dropped the connection during the TLS handshake. Check that the port matches the scheme (465 is smtps://, 587 is smtp://).',
    };
  }
  if (has('EAUTH') || has('ENOAUTH') || has('EOAUTH2')) return auth(f, ep);
  if (f.responseCode !== null) return reply(f, where);
  if (has('EMESSAGE')) {
    return {
      code: 'MESSAGE_REJECTED',
      message: f.message,
      permanent: true,
      hint: 'The message is larger than the server accepts (it announced its SIZE limit). Send a smaller message.',
    };
  }
  if (has('EENVELOPE')) {
    const sender = /sender/i.test(f.message);
    return sender
      ? {
          code: 'CONFIG',
          message: f.message,
          hint: 'The configured from address is not a valid email address.',
        }
      : {
          code: 'RECIPIENT_REJECTED',
          message: f.message,
          permanent: true,
          hint: 'The recipient address is not valid.',
        };
  }
  if (has('EDNS') || has('ENOTFOUND') || has('EAI_AGAIN')) {
    const temporary = has('EAI_AGAIN');
    return {
      code: 'CONNECTION',
      message: `Cannot resolve the host name ${ep.host}: ${f.message}`,
      hint: temporary
        ? 'DNS lookup failed temporarily; it will be retried. If it persists, check the DNS settings of this machine.'
        : `Check the spelling of the host name ${ep.host} in the connection URI.`,
    };
  }
  const failure = f.codes.find((c) => c in CONNECT_FAILURES);
  if (failure === 'ECONNREFUSED') {
    return {
      code: 'CONNECTION',
      message: `Connection refused by ${where}`,
      hint: `Nothing accepts connections on ${where}. Check the host and port (smtp:// defaults to 587, smtps:// to 465) and that the server is running and reachable through any firewall.`,
    };
  }
  if (failure || has('ESOCKET') || has('ECONNECTION')) {
    return {
      code: 'CONNECTION',
      message: `Connection to ${where} failed: ${f.message}`,
      hint:
        failure === 'EHOSTUNREACH' || failure === 'ENETUNREACH'
          ? `${where} cannot be reached from this machine (${CONNECT_FAILURES[failure]}). Check the host, the network and firewalls.`
          : `The connection was closed unexpectedly; it will be retried. If it keeps happening, check that ${where} speaks SMTP with this scheme (465 is smtps://, 587 and 25 are smtp://) and whether the server limits connections.`,
    };
  }
  if (has('EPROTOCOL')) {
    return {
      code: 'PROTOCOL',
      message: `Unexpected reply from ${where}: ${f.message}`,
      hint: `Check that ${where} is an SMTP server (the port may belong to another service).`,
    };
  }
  if (has('ECONFIG')) return { code: 'CONFIG', message: f.message, hint: null };
  return { code: 'UNKNOWN', message: f.message, hint: null };
}

function timeout(f: Facts, ep: SmtpEndpoint, where: string): Classified {
  const wrongPortHint =
    ep.security === 'implicit-tls'
      ? ''
      : ep.port === 465
        ? ' Port 465 expects TLS from the first byte: use smtps://.'
        : ` If port ${ep.port} expects TLS from the first byte (usually 465), use smtps://.`;
  switch (f.timeoutType) {
    case 'CONNECT_TIMEOUT':
      return {
        code: 'TIMEOUT',
        command: 'CONN',
        message: `Timed out connecting to ${where}`,
        hint: `No answer from ${where}. Check the host, the port and firewalls; many cloud providers block outgoing port 25, so use 587 (smtp://) or 465 (smtps://).`,
      };
    case 'GREETING_TIMEOUT':
      return {
        code: 'TIMEOUT',
        command: 'CONN',
        message: `Timed out waiting for the greeting of ${where}`,
        hint: `The server accepted the connection but never greeted.${wrongPortHint}`,
      };
    case 'UPGRADE_TIMEOUT':
      return {
        code: 'TIMEOUT',
        command: ep.security === 'starttls' ? 'STARTTLS' : 'CONN',
        message: `Timed out during the TLS handshake with ${where}`,
        hint: 'The server stopped answering during the TLS handshake; it will be retried.',
      };
    default:
      if (/^connect ETIMEDOUT/.test(f.message))
        return timeout({ ...f, timeoutType: 'CONNECT_TIMEOUT' }, ep, where);
      return {
        code: 'TIMEOUT',
        // An idle-socket timeout can strike during any command; nodemailer does not say which.
        command: null,
        message: `Timed out waiting for ${where} to respond`,
        hint: 'The server stopped responding; it will be retried.',
      };
  }
}

function auth(f: Facts, ep: SmtpEndpoint): Classified {
  const message = `Authentication failed: ${f.response ?? f.message}`;
  const status = f.enhancedStatus;
  if (ep.username === null || /missing credentials/i.test(f.message)) {
    return {
      code: 'AUTH',
      message,
      hint: 'The server requires authentication: add user:password to the connection URI.',
    };
  }
  if (f.responseCode === 534 || status === '5.7.9') {
    return {
      code: 'AUTH',
      message,
      hint: 'The provider wants an app password (or OAuth) for SMTP, not the account password. Create an app password and use it.',
    };
  }
  if (f.responseCode === 454 || (f.responseCode !== null && f.responseCode < 500)) {
    return {
      code: 'AUTH',
      message,
      hint: 'Temporary authentication failure at the server; it will be retried.',
    };
  }
  if (f.responseCode !== null && [500, 502, 504].includes(f.responseCode)) {
    return {
      code: 'AUTH',
      message,
      hint: 'The server does not offer AUTH (or this AUTH mechanism) on this connection. Remove user:password from the URI if the server needs none.',
    };
  }
  if (f.responseCode === 530 && /tls|ssl/i.test(f.response ?? '')) {
    return {
      code: 'AUTH',
      message,
      hint: 'The server only accepts credentials over TLS: do not use disable_starttls=true.',
    };
  }
  return {
    code: 'AUTH',
    message,
    hint:
      'The server rejected the user name or password. Check both; in the URI they must be URI-encoded (@ as %40, / as %2F, : as %3A). ' +
      'With SendGrid the user name is literally "apikey" and the password is the API key; Gmail needs an app password.',
  };
}

/** A failure the server stated with a reply code. */
function reply(f: Facts, where: string): Classified {
  const code = f.responseCode!;
  const response = f.response ?? String(code);
  const status = f.enhancedStatus ?? '';
  const permanent = code >= 500 && code !== 503;
  const retried = 'Temporary failure; it will be retried.';

  if (code === 421) {
    return {
      code: 'CONNECTION',
      message: `The server at ${where} is not available right now: ${response}`,
      hint: 'The server is busy or shutting down (421); it will be retried.',
    };
  }
  const authRequired = code === 530 || (/^5\.7\.0$/.test(status) && /auth/i.test(response));
  if (authRequired && ['MAIL FROM', 'RCPT TO', 'DATA'].includes(f.command ?? '')) {
    const tls = /starttls|tls|ssl/i.test(response);
    return {
      code: tls ? 'TLS' : 'AUTH',
      message: `The server requires ${tls ? 'TLS' : 'authentication'}: ${response}`,
      hint: tls
        ? 'The server only accepts mail over TLS: do not use disable_starttls=true.'
        : 'The server requires authentication: add user:password to the connection URI.',
    };
  }
  if (code === 503) {
    return {
      code: 'PROTOCOL',
      message: `The server rejected the command sequence: ${response}`,
      hint: retried,
    };
  }
  switch (f.command) {
    case 'MAIL FROM':
      return {
        code: 'SENDER_REJECTED',
        message: `The server rejected the sender: ${response}`,
        permanent,
        hint: permanent
          ? 'The server does not accept mail from this from address. Use an address (or domain) the account is allowed to send as, verified with the provider.'
          : temporaryHint(code, status),
      };
    case 'RCPT TO':
      return {
        code: 'RECIPIENT_REJECTED',
        message: `The server rejected the recipient${f.recipient ? ` ${f.recipient}` : ''}: ${response}`,
        permanent,
        hint: permanent ? recipientHint(status) : temporaryHint(code, status),
      };
    case 'DATA':
      return {
        code: 'MESSAGE_REJECTED',
        message: `The server rejected the message: ${response}`,
        permanent,
        hint: permanent ? messageHint(code, status) : temporaryHint(code, status),
      };
    case 'CONN':
    case null:
      return {
        code: 'CONNECTION',
        message: `The server at ${where} refused the session: ${response}`,
        hint:
          code >= 500
            ? 'The server turned this client away (its IP may be blocklisted or not allowed to connect). Check with the provider.'
            : temporaryHint(code, status),
      };
    default:
      return {
        code: 'PROTOCOL',
        message: `The server rejected ${f.command}: ${response}`,
        hint:
          code < 500
            ? temporaryHint(code, status)
            : `Check that ${where} is a standard SMTP server.`,
      };
  }
}

function temporaryHint(code: number, status: string): string {
  if (status === '4.7.1' || status === '4.7.0' || status === '4.2.0' || code === 450) {
    return 'The server deferred the message (greylisting or rate limiting); it will be retried, and usually goes through.';
  }
  if (code === 452 || status.startsWith('4.2.') || status.startsWith('4.3.')) {
    return 'The server is short of resources (storage or a limit); it will be retried.';
  }
  return 'Temporary failure at the server; it will be retried.';
}

function recipientHint(status: string): string {
  // Microsoft reports an unknown recipient as 5.1.10 (RecipientNotFound).
  if (status === '5.1.1' || status === '5.1.0' || status === '5.1.10')
    return 'The recipient mailbox does not exist. Check the address; retrying will not help.';
  if (status === '5.1.2')
    return 'The recipient domain does not exist or does not accept mail. Check the address.';
  if (status === '5.1.3') return 'The recipient address is malformed. Check the address.';
  if (status === '5.2.1') return 'The recipient mailbox is disabled.';
  if (status === '5.2.2') return 'The recipient mailbox is full.';
  if (status.startsWith('5.7.')) {
    return 'The server refused by policy (for example relay access denied). Servers relay only for authenticated users: check user:password, and that the from address is allowed for this account.';
  }
  return 'The server refused this recipient; retrying will not help.';
}

function messageHint(code: number, status: string): string {
  if (code === 552 || status === '5.3.4' || status === '5.2.3')
    return 'The message is larger than the server accepts. Send a smaller message.';
  if (status === '5.7.26' || status === '5.7.23' || status === '5.7.27') {
    return 'The sender domain failed authentication (SPF, DKIM or DMARC). Publish SPF/DKIM records for the from domain.';
  }
  if (status.startsWith('5.7.') || code === 554) {
    return 'The server refused the message by policy (spam or content filter, or relay not allowed). Check the content, the from address and the SPF/DKIM records of its domain.';
  }
  if (status.startsWith('5.6.'))
    return 'The server could not accept the message format or content.';
  return 'The server refused the message; retrying will not help.';
}

/**
 * Nothing above builds text from the password, but a server may echo what it was sent. Shorter
 * secrets are left alone: replacing them would mangle ordinary words.
 */
function redactor({ username, password }: SmtpEndpoint): (text: string) => string {
  if (!password || password.length < 4) return (text) => text;
  const base64 = (s: string) => Buffer.from(s).toString('base64');
  const variants = [password, encodeURIComponent(password), base64(password)];
  if (username !== null) variants.push(base64(`\u0000${username}\u0000${password}`));
  return (text) => variants.reduce((acc, secret) => acc.split(secret).join('***'), text);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function isObject(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null;
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
