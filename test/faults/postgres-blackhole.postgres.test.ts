import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { postgresProblem, waitForDatabase } from '../../src/db/postgres/client.ts';
import { startService, type GraphQLResponse } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The path to PostgreSQL goes silent: bytes are dropped, nothing is reset (a dead route, a
// firewall that forgot the connections). No socket error ever comes, so only the service's own
// query timeout can notice. Requests must answer SERVICE_UNAVAILABLE instead of hanging, /readyz
// must say 503, and once the path is back everything resumes by itself: the service drops the
// dead connections (pooled and listening alike) instead of waiting on them forever.

const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;
/** Generous: "answers instead of hanging", not a timing claim. */
const ANSWER_WITHIN_MS = 30_000;
/** Prometheus's default scrape time-out. */
const SCRAPE_TIMEOUT_MS = 10_000;

test('PostgreSQL behind a path that drops every byte: refused, not hung; resumes when the path returns', async (t) => {
  const { proxy, upstream, url: behindProxy } = await databaseBehindProxy(t);
  const smtp = await startTestSmtpServer(t);
  const service = await startService(t, {
    DATABASE_URL: behindProxy,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    DATABASE_QUERY_TIMEOUT_MS: '2000',
  });
  const readyz = async () => (await fetch(`${service.url}/readyz`)).status;

  const first = await service.gql(SEND, { to: 'before@example.com' });
  assert.equal(first.errors, undefined, JSON.stringify(first.errors));
  await waitFor(() => smtp.receivedCount === 1, { description: 'the first message sent' });
  await waitFor(async () => (await readyz()) === 200, { description: '/readyz 200' });

  proxy.blackhole();
  // Sent on a pooled connection that now hears nothing: it must be answered.
  let answer: GraphQLResponse | undefined;
  void service.gql(SEND, { to: 'during@example.com' }).then((response) => (answer = response));
  await waitFor(() => answer, {
    timeoutMs: ANSWER_WITHIN_MS,
    description: 'sendEmail to answer while the path drops everything',
  });
  assert.equal(answer!.data ?? null, null, JSON.stringify(answer));
  assert.equal(answer!.errors?.[0]?.extensions?.['code'], 'SERVICE_UNAVAILABLE');
  assert.equal(await readyz(), 503);

  proxy.setTarget(upstream);
  await waitFor(async () => (await readyz()) === 200, {
    timeoutMs: ANSWER_WITHIN_MS,
    description: '/readyz 200 again once the path is back',
  });
  const after = await service.gql(SEND, { to: 'after@example.com' });
  assert.equal(after.errors, undefined, JSON.stringify(after.errors));
  await waitFor(() => smtp.receivedCount === 2, {
    timeoutMs: ANSWER_WITHIN_MS,
    description: 'the worker to send again',
  });
  // Every connection that lost its bytes was given up by the service, the LISTEN one too.
  await waitFor(() => proxy.deadConnections() === 0, {
    timeoutMs: ANSWER_WITHIN_MS,
    description: 'the service to close its dead connections',
  });
});

test('a scrape while the path drops every byte answers without the database gauges, long before the query time-out', async (t) => {
  const { proxy, upstream, url: behindProxy } = await databaseBehindProxy(t);
  const service = await startService(t, {
    DATABASE_URL: behindProxy,
    // Longer than a scraper waits (Prometheus: 10 s by default): the scrape must not wait for it.
    DATABASE_QUERY_TIMEOUT_MS: '15000',
  });
  const scrape = async () => {
    const response = await fetch(`${service.url}/metrics`, {
      // A scraper's own time-out: a scrape it abandons marks the target down.
      signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
    });
    return { status: response.status, text: await response.text() };
  };
  assert.match((await scrape()).text, /^mailscope_storage_up 1$/m);
  proxy.blackhole();
  const during = await scrape();
  assert.equal(during.status, 200);
  assert.match(during.text, /^mailscope_storage_up 0$/m);
  assert.doesNotMatch(during.text, /^mailscope_queue_depth /m);
  proxy.setTarget(upstream);
});

test('a server that takes the connection but never answers is unavailable, so a start waits for it', async (t) => {
  const { proxy, url: behindProxy } = await databaseBehindProxy(t);
  proxy.blackhole();
  // What pg says when its connect time-out runs out ("timeout expired"): waited out at start
  // like a refused connection, not taken for a wrong DATABASE_URL.
  const client = new pg.Client({ connectionString: behindProxy, connectionTimeoutMillis: 300 });
  client.on('error', () => {});
  const failure = await client.connect().then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(failure instanceof Error, 'the connection must fail');
  assert.equal(postgresProblem(failure), 'unavailable', (failure as Error).message);
  const warnings: string[] = [];
  // A first try of 5 s, then a shorter one to the deadline.
  await assert.rejects(waitForDatabase(behindProxy, 6_000, (message) => warnings.push(message)));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /does not answer yet/);
});
