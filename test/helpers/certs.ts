import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. Pass them to `startTestSmtpServer`. */
export interface TestCert {
  cert: string;
  key: string;
}

/** A certificate authority for tests: trust `cert` in a client, sign leaves with `issueCert`. */
export interface TestCa extends TestCert {
  /** @internal the forge objects `issueCert` signs with */
  readonly signer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
}

export interface LeafOptions {
  /** DNS subjectAltNames, e.g. `['localhost', 'mail.test']`. */
  dnsNames?: string[];
  /** IP subjectAltNames, e.g. `['127.0.0.1']`. */
  ipAddresses?: string[];
  /** Subject CN. @default the first DNS name, else the first IP, else "test" */
  commonName?: string;
  /** Issue a certificate whose validity ended yesterday. @default false */
  expired?: boolean;
}

const DAY_MS = 86_400_000;

// Node's native RSA key generation is an order of magnitude faster than forge's pure-JS one.
function newKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
  };
}

function newCertificate(
  publicKey: forge.pki.rsa.PublicKey,
  subject: forge.pki.CertificateField[],
  expired: boolean,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the top bit of the first byte must be clear.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(expired ? now - 30 * DAY_MS : now - DAY_MS);
  cert.validity.notAfter = new Date(expired ? now - DAY_MS : now + 30 * DAY_MS);
  cert.setSubject(subject);
  return cert;
}

function altNames(options: LeafOptions): { type: number; value?: string; ip?: string }[] {
  return [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
}

function leafSubject(options: LeafOptions): forge.pki.CertificateField[] {
  const commonName =
    options.commonName ?? options.dnsNames?.[0] ?? options.ipAddresses?.[0] ?? 'test';
  return [{ name: 'commonName', value: commonName }];
}

function leafExtensions(options: LeafOptions): object[] {
  return [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: altNames(options) },
  ];
}

/** Creates a fresh CA (RSA 2048, valid for 30 days). */
export function createTestCa(commonName = 'mailscope test CA'): TestCa {
  const keys = newKeyPair();
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'mailscope tests' },
  ];
  const cert = newCertificate(keys.publicKey, subject, false);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    signer: { cert, key: keys.privateKey },
  };
}

/** Issues a server certificate signed by `ca` for the given names. */
export function issueCert(ca: TestCa, options: LeafOptions): TestCert {
  const keys = newKeyPair();
  const cert = newCertificate(keys.publicKey, leafSubject(options), options.expired ?? false);
  cert.setIssuer(ca.signer.cert.subject.attributes);
  cert.setExtensions([
    ...leafExtensions(options),
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: ca.signer.cert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(ca.signer.key, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

/** A self-signed server certificate: no CA vouches for it, so verifying clients reject it. */
export function createSelfSignedCert(options: LeafOptions): TestCert {
  const keys = newKeyPair();
  const subject = leafSubject(options);
  const cert = newCertificate(keys.publicKey, subject, options.expired ?? false);
  cert.setIssuer(subject);
  cert.setExtensions(leafExtensions(options));
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}
