import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { createTestCa, issueCert, type TestCert } from '../helpers/certs.ts';
import type { Scope } from '../helpers/scope.ts';
import { startService, startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A renewed submission certificate (certbot, cert-manager) is taken without a restart: the
// files are polled, and SIGHUP (app.reloadCertificates) reads them at once. A pair that does
// not match is refused and the certificate in use kept.

const ca = createTestCa();
const newCert = () => issueCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const fingerprint = (cert: TestCert) => new X509Certificate(cert.cert).fingerprint256;

async function startWith(scope: Scope, first: TestCert, polling: { intervalMs: number }) {
  const dir = tempDir(scope);
  const files = { cert: join(dir.path, 'fullchain.pem'), key: join(dir.path, 'privkey.pem') };
  const install = (pair: { cert: string; key: string }) => {
    writeFileSync(files.key, pair.key);
    writeFileSync(files.cert, pair.cert);
  };
  install(first);
  const svc = await startService(
    scope,
    {
      SUBMISSION_PORT: '0',
      SUBMISSION_IMPLICIT_TLS: 'true',
      SUBMISSION_TLS_CERT: files.cert,
      SUBMISSION_TLS_KEY: files.key,
    },
    { certificatePolling: { intervalMs: polling.intervalMs, settleMs: 20 } },
  );
  const port = svc.app.submission!.port;
  /** The certificate a new connection is served, verified against the CA. */
  const served = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
      socket.once('secureConnect', () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint256);
        socket.destroy();
      });
      socket.once('error', reject);
    });
  return { svc, files, install, served, port };
}

test('a renewed certificate is served to the next connections; one already open keeps going', async (t) => {
  const first = newCert();
  const { install, served, port } = await startWith(t, first, { intervalMs: 50 });
  assert.equal(await served(), fingerprint(first));

  // A session opened before the renewal, greeted, still talking afterwards.
  const open = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
  t.after(() => open.destroy());
  let heard = '';
  open.on('data', (chunk: Buffer) => (heard += chunk.toString()));
  await waitFor(() => heard.startsWith('220 '), { description: 'the greeting' });

  const renewed = newCert();
  install(renewed);
  await waitFor(async () => (await served()) === fingerprint(renewed), {
    description: 'new connections to be served the renewed certificate',
  });
  open.write('NOOP\r\n');
  await waitFor(() => /\r\n250 /.test(heard), { description: 'the open session to answer NOOP' });
});

test('SIGHUP reads the files at once; a key of another certificate is refused and the pair in use kept', async (t) => {
  const first = newCert();
  // No poll within the test: only reloadCertificates() reads the files.
  const { svc, files, install, served } = await startWith(t, first, { intervalMs: 3_600_000 });
  assert.equal(svc.app.reloadCertificates(), false, 'nothing changed');

  const second = newCert();
  writeFileSync(files.cert, second.cert); // the key is still the first's
  assert.equal(svc.app.reloadCertificates(), false, 'a mismatched pair is not taken');
  assert.equal(await served(), fingerprint(first));

  install(second);
  assert.equal(svc.app.reloadCertificates(), true);
  assert.equal(await served(), fingerprint(second));
});

test('the service process takes SIGHUP as "read the certificate again", and keeps running', async (t) => {
  const dir = tempDir(t);
  const files = { cert: join(dir.path, 'fullchain.pem'), key: join(dir.path, 'privkey.pem') };
  const first = newCert();
  writeFileSync(files.key, first.key);
  writeFileSync(files.cert, first.cert);
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(dir.path, 'mailscope.db'),
    SUBMISSION_PORT: '0',
    SUBMISSION_TLS_CERT: files.cert,
    SUBMISSION_TLS_KEY: files.key,
  });
  const renewed = newCert();
  writeFileSync(files.key, renewed.key);
  writeFileSync(files.cert, renewed.cert);
  const validTo = new Date(new X509Certificate(renewed.cert).validTo).toISOString();
  service.child.kill('SIGHUP');
  await waitFor(
    () => service.output().includes(`the renewed certificate is in use (valid to ${validTo})`),
    {
      description: `the reload in the log:\n${service.output()}`,
    },
  );
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200, 'still running');
  assert.equal(await service.stop(), 0);
});
