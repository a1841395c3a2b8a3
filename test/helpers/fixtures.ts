import { after } from 'node:test';
import {
  createSelfSignedCert,
  createTestCa,
  issueCert,
  type TestCa,
  type TestCert,
} from './certs.ts';
import { startService, type TestService } from './service.ts';
import {
  startTestSmtpServer,
  type TestSmtpServer,
  type TestSmtpServerOptions,
} from './smtp-server.ts';

/** Something to close or remove once the tests in a file are done. */
export type Cleanup = () => void | Promise<void>;

/** Registers an `after` hook running every cleanup added via the returned function, newest first. */
export function trackCleanups(): (cleanup: Cleanup) => void {
  const cleanups: Cleanup[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/** Returns a `startTestSmtpServer` that hands each started server's `close` to `addCleanup`. */
export function smtpServerStarter(
  addCleanup: (cleanup: Cleanup) => void,
): (options?: TestSmtpServerOptions) => Promise<TestSmtpServer> {
  return async (options = {}) => {
    const server = await startTestSmtpServer(options);
    addCleanup(() => server.close());
    return server;
  };
}

/** Returns a `startService` that layers its env over `baseEnv` and hands `close` to `addCleanup`. */
export function serviceStarter(
  addCleanup: (cleanup: Cleanup) => void,
  baseEnv: Record<string, string> = {},
): (env?: Record<string, string>) => Promise<TestService> {
  return async (env = {}) => {
    const service = await startService({ ...baseEnv, ...env });
    addCleanup(() => service.close());
    return service;
  };
}

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
