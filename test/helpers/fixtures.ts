import {
  createSelfSignedCert,
  createTestCa,
  issueCert,
  type TestCa,
  type TestCert,
} from './certs.ts';

/** A test CA and the server certificates the TLS tests present, each for a different failure. */
export interface TlsFixtures {
  /** The CA that clients under test are told to trust. */
  ca: TestCa;
  /** localhost + 127.0.0.1, signed by `ca`: verifies. */
  trusted: TestCert;
  /** mail.example.test only, signed by `ca`: trusted issuer, wrong name for 127.0.0.1. */
  otherName: TestCert;
  /** localhost + 127.0.0.1, self-signed: right name, untrusted issuer. */
  selfSigned: TestCert;
}

/** Creates a fresh test CA plus trusted, wrong-name and self-signed server certificates. */
export function createTlsFixtures(): TlsFixtures {
  const ca = createTestCa();
  return {
    ca,
    trusted: issueCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }),
    otherName: issueCert(ca, { dnsNames: ['mail.example.test'] }),
    selfSigned: createSelfSignedCert({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }),
  };
}
