import type { SmtpEndpoint } from './endpoint.ts';
import type { Classified, Facts } from './error-facts.ts';

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

/**
 * A failed TLS handshake (the certificate, or TLS itself), whether on connecting with smtps://
 * or after STARTTLS; null when the failure is not one.
 */
export function classifyTlsHandshake(f: Facts, ep: SmtpEndpoint): Classified | null {
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
  return null;
}
