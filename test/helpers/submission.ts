import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, issueCert } from './certs.ts';
import type { Scope } from './scope.ts';
import { graphqlRequest, startService, tempDir, type TestService } from './service.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp-server.ts';

// The service with its SMTP submission listener (STARTTLS with a test CA's certificate), a
// sink it delivers to, and a SEND and a READ token: what the submission suites start from.

export const ADMIN = 'admin-token-for-submission-tests';
export const ca = createTestCa();
export const serverCert = issueCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

export interface Setup {
  svc: TestService;
  sink: TestSmtpServer;
  port: number;
  host: string;
  sendToken: string;
  readToken: string;
  gql: (query: string, variables?: Record<string, unknown>) => Promise<any>;
}

async function createToken(svc: TestService, name: string, scope: string): Promise<string> {
  const created = await graphqlRequest(
    `${svc.url}/graphql`,
    `mutation ($name: String!, $scope: ApiTokenScope!) { createApiToken(name: $name, scope: $scope) { token } }`,
    { name, scope },
    ADMIN,
  );
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  return created.data.createApiToken.token;
}

export async function setUp(
  scope: Scope,
  env: Record<string, string> = {},
  /** startApp's options, e.g. a logger whose lines the test reads. */
  appOptions: Parameters<typeof startService>[2] = {},
): Promise<Setup> {
  const dir = tempDir(scope);
  const certPath = join(dir.path, 'cert.pem');
  const keyPath = join(dir.path, 'key.pem');
  writeFileSync(certPath, serverCert.cert);
  writeFileSync(keyPath, serverCert.key);
  const sink = await startTestSmtpServer(scope);
  const svc = await startService(
    scope,
    {
      API_TOKEN: ADMIN,
      SUBMISSION_PORT: '0',
      SUBMISSION_TLS_CERT: certPath,
      SUBMISSION_TLS_KEY: keyPath,
      SMTP_CONNECTION_URI: `smtp://${sink.host}:${sink.port}/?disable_starttls=true`,
      SMTP_FROM_ADDRESS: 'relay@mailscope.test',
      ...env,
    },
    appOptions,
  );
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await svc.gql(query, variables);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    return result.data;
  };
  assert.ok(svc.app.submission, 'the submission listener runs');
  return {
    svc,
    sink,
    port: svc.app.submission.port,
    host: svc.app.submission.host,
    sendToken: await createToken(svc, 'kratos-courier', 'SEND'),
    readToken: await createToken(svc, 'dashboard', 'READ'),
    gql,
  };
}
