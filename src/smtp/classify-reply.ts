import type { SmtpEndpoint } from './endpoint.ts';
import { statusOf } from './enhanced-status.ts';
import type { Classified, Facts } from './error-facts.ts';
import {
  authenticationHint,
  messageHint,
  recipientHint,
  senderHint,
  temporaryHint,
} from './hints.ts';

/**
 * A failure the server stated with a reply code. The command decides what was refused; the
 * hint comes from the enhanced status where the server sent one (servers word the same refusal
 * differently), else from the reply code and, last, well-known wording.
 */
export function classifyReply(f: Facts, ep: SmtpEndpoint): Classified {
  const classified = classifyByCommand(f, ep);
  // A refusal for sender authentication says so whatever the command it answered.
  const hint = authenticationHint(f, statusOf(f.enhancedStatus));
  return hint === null ? classified : { ...classified, hint };
}

function classifyByCommand(f: Facts, ep: SmtpEndpoint): Classified {
  const where = `${ep.host}:${ep.port}`;
  const code = f.responseCode!;
  const response = f.response ?? String(code);
  const status = statusOf(f.enhancedStatus);
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
