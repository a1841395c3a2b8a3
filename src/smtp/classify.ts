import type { DeliveryError } from '../domain/delivery-error.ts';
import { classifyReply } from './classify-reply.ts';
import { classifyTlsHandshake } from './classify-tls.ts';
import type { SmtpEndpoint } from './endpoint.ts';
import { readFacts, type Classified, type Facts, type SessionPhase } from './error-facts.ts';
import { authHint } from './hints.ts';
import { secretRedactor } from './redact.ts';

/**
 * Turns whatever nodemailer (or Node underneath it) failed with into the contract's
 * `DeliveryError`. Pure: the same error and endpoint always give the same result.
 */
export function classifySmtpError(
  err: unknown,
  endpoint: SmtpEndpoint,
  /** Where the session was, when known: what a failure may mean for the message depends on it. */
  phase: SessionPhase | null = null,
): DeliveryError {
  const facts = readFacts(err, phase);
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
  const tls = classifyTlsHandshake(f, ep);
  if (tls !== null) return tls;
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
  if (has('EAUTH') || has('ENOAUTH') || has('EOAUTH2')) {
    return {
      code: 'AUTH',
      message: `Authentication failed: ${f.response ?? f.message}`,
      hint: authHint(f, ep),
    };
  }
  if (f.responseCode !== null) return classifyReply(f, ep);
  if (f.response !== null && (has('EMESSAGE') || has('EENVELOPE'))) {
    // nodemailer gives a server's reply it cannot read the codes of its own checks use (size,
    // addresses); with no reply code there is nothing to call permanent.
    return {
      code: 'PROTOCOL',
      message: `The server at ${where} answered ${f.command ?? 'a command'} with no SMTP reply code: ${f.response}`,
      hint: `Every SMTP reply starts with a three-digit code; this one did not, so whether it accepted anything is unknown. The message will be retried. If it keeps happening, check that ${where} is an SMTP server (and that nothing in between, a proxy or a filter, rewrites its replies).`,
    };
  }
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
    // Only NXDOMAIN (ENOTFOUND) and NODATA are answers; SERVFAIL, a time-out, a refusal or an
    // unreachable DNS server say nothing about the name.
    const answer = has('ENOTFOUND') ? 'NXDOMAIN' : has('ENODATA') ? 'NODATA' : null;
    return {
      code: 'CONNECTION',
      message: `Cannot resolve the host name ${ep.host}: ${f.message}`,
      hint:
        answer === 'NXDOMAIN'
          ? `The host name ${ep.host} does not exist in DNS. Check its spelling in the connection URI.`
          : answer === 'NODATA'
            ? `The host name ${ep.host} exists in DNS but has no address (A or AAAA) records. Check the host in the connection URI.`
            : `The DNS lookup failed temporarily (${dnsFailure(f)}), which says nothing about whether the name exists. If it keeps failing, check the DNS servers in use (DNS_SERVERS, else this machine's).`,
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
  if (
    (failure || has('ESOCKET') || has('ECONNECTION')) &&
    f.phase !== null &&
    f.phase !== 'setup'
  ) {
    // The session was set up on this connection, so host, port and scheme were right.
    return {
      code: 'CONNECTION',
      command: f.command === 'CONN' ? null : f.command,
      message: `${where} closed the connection during the mail transaction: ${f.message}`,
      hint:
        f.phase === 'message'
          ? 'The server closed the connection after the message was sent, before confirming it: it may have accepted it, and sending again can deliver it twice. The message is retried.'
          : 'The server closed the connection during the mail transaction, before the message was sent: nothing was delivered, and it is retried. If it keeps happening, the server may be limiting connections or messages per connection.',
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
        hint:
          f.phase === 'message'
            ? 'The server stopped responding after the message was sent (busy, or a slow link): it may have accepted it, and sending again can deliver it twice.'
            : f.phase === 'transaction'
              ? 'The server stopped responding during the mail transaction, before the message was sent (busy, or a slow link): nothing was delivered, and it is retried.'
              : 'The server stopped responding in the middle of the session (busy, or a slow link), before any message was sent.',
      };
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function dnsFailure(f: Facts): string {
  const has = (code: string) => f.codes.includes(code);
  if (has('ESERVFAIL')) return 'the DNS server answered SERVFAIL';
  if (has('ETIMEOUT') || has('EAI_AGAIN')) return 'no answer in time';
  if (has('EREFUSED')) return 'the DNS server refused the query';
  if (has('ECONNREFUSED')) return 'the DNS server could not be reached';
  return 'no usable answer';
}
