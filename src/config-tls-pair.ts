import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

// A listener's certificate and key, checked when the service starts and when they are renewed
// (smtp/tls-pair-reload.ts) rather than at the first client's handshake: a key that does not
// match its certificate otherwise starts cleanly and then fails every STARTTLS, and OpenSSL's
// own words ("PEM routines::no start line") name no variable.

export interface TlsPairNames {
  cert: string;
  key: string;
}

/** A PEM file's path (for the messages) and what it holds. */
export interface PemFile {
  path: string;
  pem: string;
}

/**
 * What is wrong with the PEM certificate (chain) and private key read from these files, each
 * problem naming its variable; empty when they make a working TLS context.
 */
export function tlsPairProblems(names: TlsPairNames, cert: PemFile, key: PemFile): string[] {
  const { path: certPath, pem: certPem } = cert;
  const { path: keyPath, pem: keyPem } = key;
  const problems: string[] = [];
  let certificate: X509Certificate | null = null;
  try {
    // The first certificate of the file is the server's; any after it are its chain.
    certificate = new X509Certificate(certPem);
  } catch {
    problems.push(
      /PRIVATE KEY-----/.test(certPem)
        ? `${names.cert}: "${certPath}" holds a private key, not a certificate (are the two swapped?)`
        : `${names.cert}: "${certPath}" is not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey> | null = null;
  try {
    privateKey = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch {
    problems.push(
      /ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem)
        ? `${names.key}: "${keyPath}" is encrypted with a passphrase; give the key unencrypted (openssl pkey -in <key> -out <new key>) and keep the file readable by the service only`
        : /BEGIN CERTIFICATE-----/.test(keyPem)
          ? `${names.key}: "${keyPath}" holds a certificate, not a private key (are the two swapped?)`
          : `${names.key}: "${keyPath}" is not a PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  }
  if (certificate === null || privateKey === null) return problems;
  if (!certificate.checkPrivateKey(privateKey)) {
    return [
      `${names.key}: does not match the certificate in ${names.cert} ("${certificate.subject.replace(/\n/g, ', ')}"); every TLS handshake would fail`,
    ];
  }
  try {
    // What the listener itself will build: catches what the two checks above cannot (a chain
    // OpenSSL refuses, a key type TLS cannot use).
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (error) {
    return [`${names.cert}: OpenSSL refuses the pair: ${(error as Error).message}`];
  }
  return [];
}

/** When the first certificate of a PEM file stops being valid. */
export function certificateValidTo(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
