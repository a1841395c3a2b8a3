import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAmazonSes } from '../../src/sender-domain/amazon-ses.ts';
import { join } from 'node:path';
import { fileScope } from '../helpers/scope.ts';
import { startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// BOUNCE_DOMAIN (VERP) meets Amazon SES: SES refuses every send whose envelope sender is not a
// verified identity, so the operator is told at start and when such a configuration is stored.
// (A log line of the service process: the dialect does not matter, so SQLite only.)

const dir = tempDir(fileScope);

test('which SMTP settings are Amazon SES', () => {
  assert.equal(isAmazonSes({ provider: 'AMAZON_SES_EU_WEST_1', host: 'x.example' }), true);
  assert.equal(isAmazonSes({ provider: null, host: 'email-smtp.us-east-1.amazonaws.com' }), true);
  assert.equal(
    isAmazonSes({ provider: null, host: 'EMAIL-SMTP-FIPS.us-gov-west-1.amazonaws.com' }),
    true,
  );
  assert.equal(isAmazonSes({ provider: null, host: 'smtp.sendgrid.net' }), false);
  assert.equal(isAmazonSes({ provider: 'SENDGRID', host: 'email-smtp.evil.example' }), false);
});

test('with BOUNCE_DOMAIN, SES as the SMTP server is a warning at start and at configureSmtp', async (t) => {
  const svc = await startServiceProcess(t, {
    DATABASE_PATH: join(dir.path, 'ses.db'),
    LOG_LEVEL: 'info',
    EMBEDDED_SMTP_PORT: 'off',
    BOUNCE_DOMAIN: 'bounces.example.com',
    SMTP_CONNECTION_URI: 'smtp://AKIAEXAMPLE:Pw-9f3kQz@email-smtp.eu-west-1.amazonaws.com:587/',
  });
  const notice =
    /Amazon SES refuses every send from an envelope sender that is not a verified identity: verify bounces\.example\.com in SES/;
  await waitFor(() => notice.test(svc.output()), { description: 'the start-up warning' });
  const before = svc.output().match(new RegExp(notice, 'g'))!.length;
  const response = await fetch(`${svc.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `mutation { configureSmtpProvider(input: { provider: "AMAZON_SES_US_EAST_1", username: "AKIA2", password: "Pw-7h2Lx", fromAddress: "app@example.com" }) { version } }`,
    }),
  });
  const body = (await response.json()) as { errors?: unknown };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  await waitFor(() => svc.output().match(new RegExp(notice, 'g'))!.length > before, {
    description: 'the warning when SES is configured',
  });
  assert.doesNotMatch(svc.output(), /Pw-9f3kQz|Pw-7h2Lx/, 'no password in the log');
});
