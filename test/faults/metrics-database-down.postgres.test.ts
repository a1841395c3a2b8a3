import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphqlRequest, startServiceProcess } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// /metrics while PostgreSQL cannot be reached. The gauges read from the database cannot be
// served, but everything else must be: the process's own metrics and the API's error counts
// are what an operator watches during exactly this outage (the README's MailscopeApiRefusing
// alert counts SERVICE_UNAVAILABLE). The scrape says the read failed, and the log says so once.

const UNREADABLE = /metrics: cannot read the database/g;
const READABLE_AGAIN = /metrics: the database can be read again/;

test('/metrics while PostgreSQL is unreachable: served without the database gauges, storage_up 0, logged once', async (t) => {
  const { proxy, upstream, url: behindProxy } = await databaseBehindProxy(t);
  const smtp = await startTestSmtpServer(t);
  const service = await startServiceProcess(t, {
    DATABASE_URL: behindProxy,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  });
  const scrape = async () => {
    const response = await fetch(`${service.url}/metrics`);
    return { status: response.status, text: await response.text() };
  };
  const before = await scrape();
  assert.equal(before.status, 200, before.text);
  assert.match(before.text, /^mailscope_queue_depth 0$/m);

  proxy.setTarget(null);
  const refused = await graphqlRequest(`${service.url}/graphql`, `{ messages { totalCount } }`);
  assert.equal(refused.errors?.[0]?.extensions?.['code'], 'SERVICE_UNAVAILABLE');
  for (let scrapes = 0; scrapes < 3; scrapes++) {
    const during = await scrape();
    assert.equal(during.status, 200, during.text);
    assert.match(during.text, /^mailscope_storage_up 0$/m);
    assert.doesNotMatch(
      during.text,
      /^mailscope_(queue_depth|messages|oldest_queued_age_seconds)\b/m,
    );
    assert.match(during.text, /^mailscope_api_errors_total\{code="SERVICE_UNAVAILABLE"\} [1-9]/m);
    assert.match(during.text, /^process_cpu_seconds_total /m);
  }
  await waitFor(() => service.output().match(UNREADABLE)?.length === 1, {
    description: 'the outage logged',
  });

  proxy.setTarget(upstream);
  const after = await waitFor(
    async () => {
      const answer = await scrape();
      return /^mailscope_storage_up 1$/m.test(answer.text) ? answer : null;
    },
    { timeoutMs: 30_000, description: 'the database gauges back' },
  );
  assert.match(after.text, /^mailscope_queue_depth 0$/m);
  await waitFor(() => READABLE_AGAIN.test(service.output()), {
    description: 'the recovery logged',
  });
  assert.equal(
    service.output().match(UNREADABLE)?.length,
    1,
    'logged once per outage, not per scrape',
  );
});
