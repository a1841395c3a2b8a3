import type { SmtpEndpoint } from './endpoint.ts';
import { statusOf, type Status } from './enhanced-status.ts';
import type { Facts } from './error-facts.ts';

/**
 * The hints for refusals the server stated. Each comes from the enhanced status where the server
 * sent one (servers word the same refusal differently), else from the reply code and, last,
 * well-known wording.
 */

/** Why the credentials were refused (or were needed). */
export function authHint(f: Facts, ep: SmtpEndpoint): string {
  const status = statusOf(f.enhancedStatus);
  const code = f.responseCode;
  const response = f.response ?? '';
  if (ep.username !== null && ep.password === null && /missing credentials/i.test(f.message)) {
    // Refused here, before anything was sent: nodemailer cannot AUTH without a password.
    return 'The connection URI has a user name but no password, and AUTH needs both: add :password after the user name (URI-encoded), or remove the user name to send without AUTH.';
  }
  if (ep.username === null || /missing credentials/i.test(f.message)) {
    return 'The server requires authentication: add user:password to the connection URI.';
  }
  if (status?.text === '5.7.139' || /SmtpClientAuthentication is disabled/i.test(response)) {
    return 'Microsoft 365 has SMTP AUTH turned off for this mailbox or the whole tenant. An administrator must enable "Authenticated SMTP" for the mailbox before it can send this way.';
  }
  if (code === 534 || status?.text === '5.7.9') {
    return 'The provider wants an app password (or OAuth) for SMTP, not the account password. Create an app password and use it.';
  }
  if (code === 538 || status?.text === '5.7.11' || (code === 530 && /tls|ssl/i.test(response))) {
    return 'The server only accepts credentials over TLS: do not use disable_starttls=true.';
  }
  if ((status !== null && status.cls === 4) || (code !== null && code < 500)) {
    return 'The server could not check the credentials just now (a temporary failure on its side); they may well be right.';
  }
  if ((status !== null && status.subject === 5) || [500, 502, 504].includes(code ?? 0)) {
    return 'The server does not offer AUTH (or this AUTH mechanism) on this connection. Remove user:password from the URI if the server needs none.';
  }
  return (
    'The server rejected the user name or password. Check both; in the URI they must be URI-encoded (@ as %40, / as %2F, : as %3A). ' +
    'With SendGrid the user name is literally "apikey" and the password is the API key; Gmail needs an app password.'
  );
}

/** A 4xx: what the server is short of. The worker adds when the next attempt is. */
export function temporaryHint(f: Facts, status: Status | null): string {
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

export function senderHint(status: Status | null): string {
  if (status?.subject === 1 && (status.detail === 7 || status.detail === 8)) {
    return 'The server does not accept the from address: its syntax, or its domain (which must exist and accept mail). Fix the from address in the configuration.';
  }
  return 'The server does not accept mail from this from address. Use an address (or domain) the account is allowed to send as, verified with the provider.';
}

export function recipientHint(f: Facts, status: Status | null): string {
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

export function messageHint(f: Facts, status: Status | null): string {
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

const CHECK =
  'Run checkSenderDomain (without arguments it checks the domain of the configured from address)';

/**
 * Refusals that name sender authentication (Gmail's and Yahoo's bulk sender rules, Microsoft's
 * since May 2025): each points at the checkSenderDomain item that shows the record to publish.
 * Null for any other reply.
 */
export function authenticationHint(f: Facts, status: Status | null): string | null {
  if (status === null || status.subject !== 7) return null;
  const response = f.response ?? '';
  const retry = status.cls === 4 ? ' Retries keep failing until the record is fixed.' : '';
  switch (status.detail) {
    case 26:
      return `The receiver found the mail unauthenticated: neither SPF nor DKIM passed in alignment with the from domain, so DMARC failed. ${CHECK}: its SPF, DKIM, DMARC and ALIGNMENT items show which record is missing or wrong and the exact record to publish.${retry}`;
    case 27:
      // RFC 7505 gives 5.7.27 to a null MX; Gmail uses it (and 4.7.27) for SPF failures.
      if (status.cls === 5 && !/spf/i.test(response)) return null;
      return `SPF did not pass for the sending server. ${CHECK}: its SPF item shows the record to publish.${retry}`;
    case 30:
      return `DKIM did not pass: the mail is unsigned, or the published key does not match the signature. ${CHECK}: its DKIM item shows the record to publish (own servers: configureSmtp with dkim signs every message).${retry}`;
    case 32:
      return `The from domain does not align with the SPF or DKIM domain. ${CHECK}: its ALIGNMENT item says which one to fix.${retry}`;
    case 40:
      return `The from domain has no DMARC record (or an invalid one). ${CHECK}: its DMARC item shows the record to publish (p=none to start with).${retry}`;
    case 515:
      return `Outlook requires SPF, DKIM and DMARC (p=none at least) with alignment for the from domain. ${CHECK}: its items show which record is missing and what to publish.`;
    default:
      return null;
  }
}
