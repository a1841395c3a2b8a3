import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDnsServer } from '../helpers/dns-server.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// DNS_SERVERS reaches the look-ups of host names too: verifySmtp's DNS step (main thread) and
// delivery (the delivery thread's own resolver). The SMTP host's name exists only in the test
// DNS server, so nothing else could have answered.

test('verifySmtp and delivery resolve the SMTP host through DNS_SERVERS', async (t) => {
  const smtp = await startTestSmtpServer(t);
  const dns = await startTestDnsServer(t, {
    'smtp.only-in-test-dns.test': [{ type: 'A', value: '127.0.0.1' }],
  });
  const service = await startService(t, { DNS_SERVERS: dns.address });
  const uri = `smtp://smtp.only-in-test-dns.test:${smtp.port}/?disable_starttls=true`;

  const verified = await service.gql(
    `query ($uri: String) { verifySmtp(connectionUri: $uri) { ok steps { name ok detail } } }`,
    { uri },
  );
  assert.equal(verified.errors, undefined, JSON.stringify(verified.errors));
  assert.equal(verified.data.verifySmtp.ok, true, JSON.stringify(verified.data));
  assert.match(JSON.stringify(verified.data.verifySmtp.steps[0]), /127\.0\.0\.1/);

  const configured = await service.gql(
    `mutation ($uri: String!) { configureSmtp(input: { connectionUri: $uri, fromAddress: "a@only-in-test-dns.test" }) { version } }`,
    { uri },
  );
  assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  const sent = await service.gql(
    `mutation { sendEmail(input: { to: "ada@example.com", subject: "via test DNS", text: "hi" }) { id } }`,
  );
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  await waitFor(() => smtp.received.length === 1);
  assert.ok(dns.queries.some((q) => q.startsWith('smtp.only-in-test-dns.test A')));
});

test('a DNS server failing for the SMTP host is a temporary DNS failure, not "does not exist", within DNS_TIMEOUT_MS', async (t) => {
  const dns = await startTestDnsServer(t, {
    'servfail.test': 'SERVFAIL',
    'silent.test': 'TIMEOUT',
    'smtp.nodata.test': [{ type: 'MX', value: 'elsewhere.test' }],
  });
  const service = await startService(t, {
    DNS_SERVERS: dns.address,
    DNS_TIMEOUT_MS: '300',
    DELIVERY_MAX_ATTEMPTS: '1',
  });
  const lastErrorFor = async (host: string) => {
    const configured = await service.gql(
      `mutation ($uri: String!) { configureSmtp(input: { connectionUri: $uri, fromAddress: "a@example.test" }) { version } }`,
      { uri: `smtp://${host}:2525/?disable_starttls=true` },
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    const sent = await service.gql(
      `mutation { sendEmail(input: { to: "ada@example.com", subject: "dns", text: "hi" }) { id } }`,
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    return waitFor(
      async () =>
        (
          await service.gql(
            `query ($id: ID!) { message(id: $id) { lastError { code message hint } } }`,
            {
              id: sent.data.sendEmail.id,
            },
          )
        ).data.message.lastError,
      { description: `the attempt's error for ${host}` },
    );
  };

  const servfail = await lastErrorFor('smtp.servfail.test');
  assert.equal(servfail.code, 'CONNECTION');
  assert.match(servfail.hint, /temporarily \(the DNS server answered SERVFAIL\)/);
  assert.doesNotMatch(servfail.hint, /does not exist/);

  // A server that never answers: one query of DNS_TIMEOUT_MS, then the same kind of failure.
  const silent = await lastErrorFor('smtp.silent.test');
  assert.equal(silent.code, 'CONNECTION');
  assert.match(silent.hint, /temporarily \(no answer in time\)/);

  const nodata = await lastErrorFor('smtp.nodata.test');
  assert.match(nodata.hint, /exists in DNS but has no address/);
});
