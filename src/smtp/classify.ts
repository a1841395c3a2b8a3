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
  const redact = secretRedactor(endpoint);
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
  if (f.responseCode !== null) return reply(f, ep);
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
        ? 'The DNS lookup failed temporarily. If it keeps failing, check the DNS settings of this machine.'
        : `The host name ${ep.host} does not exist in DNS. Check its spelling in the connection URI.`,
    };
  }
  const failure = f.codes.find((c) => c in CONNECT_FAILURES);
  if (failure === 'ECONNREFUSED') {
    return {
      code: 'CONNECTION',
      message: `Connection refused by ${where}`,
      hint: `Nothing accepts connections on ${where}. Check the host and port (smtp:// defaults to 587, smtps:// to 465) and that the server is running and reachable through any firewall.${port25(ep)}`,
    };
  }
  if (failure || has('ESOCKET') || has('ECONNECTION')) {
    return {
      code: 'CONNECTION',
      message: `Connection to ${where} failed: ${f.message}`,
      hint:
        failure === 'EHOSTUNREACH' || failure === 'ENETUNREACH'
          ? `${where} cannot be reached from this machine (${CONNECT_FAILURES[failure]}). Check the host, the network and firewalls.`
          : (wrongPortForScheme(ep) ??
            `The server closed the connection unexpectedly. If it keeps happening, check that ${where} speaks SMTP with this scheme (465 is smtps://, 587 and 25 are smtp://) and whether the server limits connections.`),
    };
  }
  if (has('EPROTOCOL')) {
    return {
      code: 'PROTOCOL',
      message: `Unexpected reply from ${where}: ${f.message}`,
      hint:
        wrongPortForScheme(ep) ??
        `Check that ${where} is an SMTP server (the port may belong to another service).`,
    };
  }
  if (has('EFILEACCESS') || has('EURLACCESS')) {
    return {
      code: 'CONFIG',
      message: f.message,
      hint: 'The message refers to a file or URL to attach; mailscope never reads files or fetches URLs for a message.',
    };
  }
  if (has('ECONFIG')) {
    return {
      code: 'CONFIG',
      message: f.message,
      hint: 'The SMTP configuration cannot be used as it is. Check the connection URI and the from address (configureSmtp).',
    };
  }
  return {
    code: 'UNKNOWN',
    message: f.message,
    hint: 'An unexpected error, not a reply from the server; it is treated as temporary. If it persists, the transcript of the attempt and the service log show where it happened.',
  };
}

/** Said when the scheme and the port do not go together; null when they do. */
function wrongPortForScheme(ep: SmtpEndpoint): string | null {
  if (ep.security !== 'implicit-tls' && ep.port === 465) {
    return 'Port 465 expects TLS from the first byte (smtps://), but smtp:// waits for a plaintext greeting: use smtps:// for port 465, or port 587 with smtp://.';
  }
  if (ep.security === 'implicit-tls' && (ep.port === 587 || ep.port === 25)) {
    return `Port ${ep.port} speaks plain SMTP first and upgrades with STARTTLS, but smtps:// starts with TLS: use smtp:// for port ${ep.port}, or port 465 with smtps://.`;
  }
  return null;
}

function port25(ep: SmtpEndpoint): string {
  return ep.port === 25
    ? ' Many cloud providers block outgoing port 25: use 587 (smtp://) or 465 (smtps://).'
    : '';
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
        hint: 'The server stopped answering during the TLS handshake: a busy server, or something on the way that interferes with TLS.',
      };
    default:
      if (/^connect ETIMEDOUT/.test(f.message))
        return timeout({ ...f, timeoutType: 'CONNECT_TIMEOUT' }, ep, where);
      return {
        code: 'TIMEOUT',
        // An idle-socket timeout can strike during any command; nodemailer does not say which.
        command: null,
        message: `Timed out waiting for ${where} to respond`,
        hint: 'The server stopped responding in the middle of the session (busy, or a slow link). If it stopped after the message was sent, it may have accepted it, and sending again can deliver it twice.',
      };
  }
}

function auth(f: Facts, ep: SmtpEndpoint): Classified {
  const message = `Authentication failed: ${f.response ?? f.message}`;
  const status = statusOf(f);
  const code = f.responseCode;
  const response = f.response ?? '';
  const result = (hint: string): Classified => ({ code: 'AUTH', message, hint });
  if (ep.username === null || /missing credentials/i.test(f.message)) {
    return result('The server requires authentication: add user:password to the connection URI.');
  }
  if (status?.text === '5.7.139' || /SmtpClientAuthentication is disabled/i.test(response)) {
    return result(
      'Microsoft 365 has SMTP AUTH turned off for this mailbox or the whole tenant. An administrator must enable "Authenticated SMTP" for the mailbox before it can send this way.',
    );
  }
  if (code === 534 || status?.text === '5.7.9') {
    return result(
      'The provider wants an app password (or OAuth) for SMTP, not the account password. Create an app password and use it.',
    );
  }
  if (code === 538 || status?.text === '5.7.11' || (code === 530 && /tls|ssl/i.test(response))) {
    return result(
      'The server only accepts credentials over TLS: do not use disable_starttls=true.',
    );
  }
  if ((status !== null && status.cls === 4) || (code !== null && code < 500)) {
    return result(
      'The server could not check the credentials just now (a temporary failure on its side); they may well be right.',
    );
  }
  if ((status !== null && status.subject === 5) || [500, 502, 504].includes(code ?? 0)) {
    return result(
      'The server does not offer AUTH (or this AUTH mechanism) on this connection. Remove user:password from the URI if the server needs none.',
    );
  }
  return result(
    'The server rejected the user name or password. Check both; in the URI they must be URI-encoded (@ as %40, / as %2F, : as %3A). ' +
      'With SendGrid the user name is literally "apikey" and the password is the API key; Gmail needs an app password.',
  );
}

/** RFC 3463 enhanced status: `class.subject.detail`. */
interface Status {
  text: string;
  /** 2 success, 4 temporary, 5 permanent. */
  cls: number;
  /** 1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol, 6 content, 7 security. */
  subject: number;
  detail: number;
}

function statusOf(f: Facts): Status | null {
  if (f.enhancedStatus === null) return null;
  const [cls = 0, subject = 0, detail = 0] = f.enhancedStatus.split('.').map(Number);
  return { text: f.enhancedStatus, cls, subject, detail };
}

/**
 * A failure the server stated with a reply code. The command decides what was refused; the
 * hint comes from the enhanced status where the server sent one (servers word the same refusal
 * differently), else from the reply code and, last, well-known wording.
 */
function reply(f: Facts, ep: SmtpEndpoint): Classified {
  const where = `${ep.host}:${ep.port}`;
  const code = f.responseCode!;
  const response = f.response ?? String(code);
  const status = statusOf(f);
  const permanent = code >= 500 && code !== 503;

  if (code === 421) {
    return {
      code: 'CONNECTION',
      message: `The server at ${where} is not available right now: ${response}`,
      hint: temporaryHint(f, status),
    };
  }
  const authRequired = code === 530 || (status?.text === '5.7.0' && /auth/i.test(response));
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
      hint: 'The server refused the order of the commands (503). This usually follows an earlier failure in the same session, or a server that does not follow the protocol.',
    };
  }
  switch (f.command) {
    case 'MAIL FROM':
      return {
        code: 'SENDER_REJECTED',
        message: `The server rejected the sender: ${response}`,
        permanent,
        hint: permanent ? senderHint(status) : temporaryHint(f, status),
      };
    case 'RCPT TO':
      return {
        code: 'RECIPIENT_REJECTED',
        message: `The server rejected the recipient${f.recipient ? ` ${f.recipient}` : ''}: ${response}`,
        permanent,
        hint: permanent ? recipientHint(f, status) : temporaryHint(f, status),
      };
    case 'DATA':
      return {
        code: 'MESSAGE_REJECTED',
        message: `The server rejected the message: ${response}`,
        permanent,
        hint: permanent ? messageHint(f, status) : temporaryHint(f, status),
      };
    case 'CONN':
    case null:
      return {
        code: 'CONNECTION',
        message: `The server at ${where} refused the session: ${response}`,
        hint:
          code >= 500
            ? 'The server turned this client away (its IP may be blocklisted or not allowed to connect). Check with the provider.'
            : temporaryHint(f, status),
      };
    default:
      return {
        code: 'PROTOCOL',
        message: `The server rejected ${f.command}: ${response}`,
        hint:
          code < 500 ? temporaryHint(f, status) : `Check that ${where} is a standard SMTP server.`,
      };
  }
}

/** A 4xx: what the server is short of. The worker adds when the next attempt is. */
function temporaryHint(f: Facts, status: Status | null): string {
  const code = f.responseCode;
  const response = f.response ?? '';
  if (code === 421) {
    return 'The server is busy or shutting down (421) and closed the connection; this is temporary.';
  }
  if (/gr[ae]ylist/i.test(response) || status?.subject === 7) {
    return 'The server deferred the message on purpose (greylisting or rate limiting). This is normal and temporary: a later attempt usually goes through.';
  }
  const detail = status === null ? null : `${status.subject}.${status.detail}`;
  if (detail === '2.2')
    return "The recipient's mailbox is full for now (over quota); this is temporary.";
  if (detail === '3.1' || (status === null && code === 452)) {
    return 'The server is short of storage; this is temporary.';
  }
  if (detail === '5.3') {
    return 'The server takes fewer recipients or messages at once (a rate limit); this is temporary.';
  }
  if (status?.subject === 4) {
    return 'The server has a network or routing problem on its side; this is temporary.';
  }
  if (status?.subject === 2 || status?.subject === 3 || code === 451 || code === 452) {
    return 'The server had a problem on its side (overloaded, or a local error) and asked to try later; this is temporary.';
  }
  return 'The server reported a temporary failure (4xx).';
}

function senderHint(status: Status | null): string {
  if (status?.subject === 1 && (status.detail === 7 || status.detail === 8)) {
    return 'The server does not accept the from address: its syntax, or its domain (which must exist and accept mail). Fix the from address in the configuration.';
  }
  return 'The server does not accept mail from this from address. Use an address (or domain) the account is allowed to send as, verified with the provider.';
}

function recipientHint(f: Facts, status: Status | null): string {
  const response = f.response ?? '';
  if (f.recipient !== null && NON_ASCII.test(f.recipient) && refusesUtf8(f, status)) {
    return `The address ${f.recipient} has non-ASCII characters before the @, which needs a server with SMTPUTF8 (RFC 6531); this server does not accept internationalized addresses. Ask the recipient for an ASCII address, or send through a server that supports SMTPUTF8.`;
  }
  const detail = status === null ? null : `${status.subject}.${status.detail}`;
  // Microsoft reports an unknown recipient as 5.1.10 (RecipientNotFound).
  if (detail === '1.1' || detail === '1.0' || detail === '1.10') return MAILBOX_UNKNOWN;
  if (detail === '1.2') {
    return 'The recipient domain does not exist or does not accept mail. Check the address.';
  }
  if (detail === '1.3') return 'The recipient address is malformed. Check the address.';
  if (detail === '1.6')
    return 'The recipient mailbox has moved; ask the recipient for the new address.';
  if (detail === '2.1') return 'The recipient mailbox is disabled.';
  if (detail === '2.2') return 'The recipient mailbox is full.';
  if (status?.subject === 7 || /relay/i.test(response)) return RELAY_DENIED;
  if (status === null && /user unknown|unknown user|no such user|does not exist/i.test(response)) {
    return MAILBOX_UNKNOWN;
  }
  return 'The server refused this recipient; retrying will not help.';
}

function messageHint(f: Facts, status: Status | null): string {
  const code = f.responseCode;
  const response = f.response ?? '';
  const detail = status === null ? null : `${status.subject}.${status.detail}`;
  if (/SendAsDenied/i.test(response)) {
    return 'The account is not allowed to send as the from address. Use an address the account may send as, or grant it "Send As" for this one.';
  }
  if (detail === '3.4' || detail === '2.3' || (status === null && code === 552)) {
    return 'The message is larger than the server accepts. Send a smaller message.';
  }
  if (detail === '2.2') return 'The recipient mailbox is full.';
  if (detail === '7.23') {
    return 'SPF failed: this server is not allowed to send for the from domain. Add it to the SPF record of the from domain.';
  }
  if (detail === '7.25') {
    return 'The sending IP has no valid reverse DNS (PTR) record. Ask the provider of the sending server to set one.';
  }
  if (detail === '7.26') {
    return 'The sender domain failed authentication (SPF, DKIM or DMARC). Publish SPF/DKIM records for the from domain.';
  }
  if (detail === '7.27') {
    return 'The from domain publishes a null MX (it receives no mail), and servers refuse mail from such domains. Use a from address on a domain that receives mail.';
  }
  if (status?.subject === 6 && status.detail >= 7 && status.detail <= 9) {
    return 'The message has internationalized (UTF-8) addresses or headers, which this server does not accept (no SMTPUTF8). Use ASCII addresses.';
  }
  if (status?.subject === 7 || (status === null && code === 554)) {
    return /relay/i.test(response)
      ? RELAY_DENIED
      : 'The server refused the message by policy (spam or content filter, or relay not allowed). Check the content, the from address and the SPF/DKIM records of its domain.';
  }
  if (status?.subject === 6) return 'The server could not accept the message format or content.';
  return 'The server refused the message; retrying will not help.';
}

const MAILBOX_UNKNOWN =
  'The recipient mailbox does not exist. Check the address; retrying will not help.';
const RELAY_DENIED =
  'The server refused by policy (for example relay access denied). Servers relay only for authenticated users: check user:password, and that the from address is allowed for this account.';
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Whether a refusal of a non-ASCII address is about the characters: RFC 6531's 5.6.7, a syntax
 * status or reply, or wording about UTF-8. Nodemailer sends such an address as it is (adding
 * the SMTPUTF8 parameter only when the server announced the extension), so the refusal is the
 * server's, worded as the server likes.
 */
function refusesUtf8(f: Facts, status: Status | null): boolean {
  const text = `${f.message} ${f.response ?? ''}`;
  if (/SMTPUTF8|UTF-?8|non-?ASCII|8-?bit|internationali[sz]ed/i.test(text)) return true;
  if (status !== null) {
    return (
      (status.subject === 6 && status.detail >= 7 && status.detail <= 9) ||
      (status.subject === 1 && status.detail === 3) ||
      status.subject === 5
    );
  }
  return [500, 501, 553, 555].includes(f.responseCode ?? 0);
}

/**
 * Replaces the password, URI-encoded or base64 (alone or as an AUTH PLAIN token) with `***`.
 * Nothing here builds text from the password, but a server may echo what it was sent. Shorter
 * secrets are left alone: replacing them would mangle ordinary words.
 */
export function secretRedactor({ username, password }: SmtpEndpoint): (text: string) => string {
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
