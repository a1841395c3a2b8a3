import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startService, subscribe, wsClient, type TestService } from '../helpers/service.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// /readyz and /metrics: what an orchestrator and Prometheus see.

/** One sample of the Prometheus text format, e.g. `mailscope_messages{status="SENT"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function scrape(svc: TestService, token?: string): Promise<string> {
  const response = await fetch(`${svc.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return response.text();
}

async function sendTo(svc: TestService, to: string): Promise<string> {
  const sent = await svc.gql(
    `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
    { to },
  );
  assert.equal(sent.errors, undefined);
  return sent.data.sendEmail.id;
}

describe('/readyz', () => {
  test('200 with every check ok once the worker runs, without a token', async (t) => {
    const svc = await startService(t, { API_TOKEN: 'secret-token' });
    const body = await waitFor(async () => {
      const response = await fetch(`${svc.url}/readyz`);
      return response.status === 200 ? response.json() : null;
    });
    assert.deepEqual(body, {
      ready: true,
      checks: {
        database: { ok: true },
        worker: { ok: true },
        smtp: { ok: true, source: 'EMBEDDED' },
      },
    });
  });

  test('503 naming the SMTP configuration when there is none, 200 once one is stored', async (t) => {
    const svc = await startService(t, { EMBEDDED_SMTP_PORT: 'off' });
    const notReady = await waitFor(async () => {
      const response = await fetch(`${svc.url}/readyz`);
      const body = (await response.json()) as any;
      // The worker check turns ok within a second of start; wait for it to isolate smtp.
      return body.checks.worker.ok ? { status: response.status, body } : null;
    });
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body.ready, false);
    assert.equal(notReady.body.checks.database.ok, true);
    assert.equal(notReady.body.checks.smtp.ok, false);
    assert.match(notReady.body.checks.smtp.problem, /no SMTP server is configured/);

    const smtp = await startTestSmtpServer(t);
    const configured = await svc.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      {
        input: {
          connectionUri: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
          fromAddress: 'ops@example.com',
        },
      },
    );
    assert.equal(configured.errors, undefined);
    const ready = await fetch(`${svc.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as any).checks.smtp.source, 'STORED');
  });

  // PostgreSQL's own unavailability is test/faults/postgres-restart.postgres.test.ts.
  const sqliteOnly =
    TEST_DIALECT === 'sqlite' ? false : "SQLite's write lock (this pass is PostgreSQL)";
  test('503 naming the database when another writer holds it', { skip: sqliteOnly }, async (t) => {
    const svc = await startService(t);
    await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 200);
    // A second connection holds the write lock longer than the probe waits.
    const { default: Database } = await import('better-sqlite3');
    const locker = new Database(svc.databasePath);
    locker.exec('BEGIN IMMEDIATE');
    try {
      const response = await fetch(`${svc.url}/readyz`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as any;
      assert.equal(body.checks.database.ok, false);
      assert.match(body.checks.database.problem, /does not accept writes: database is locked/);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
  });
});

describe('/metrics', () => {
  test('messages by status, attempts by code, latency, queue, subscriptions, pool', async (t) => {
    const smtp = await startTestSmtpServer(t, {
      rejectRecipients: (address) =>
        address.startsWith('nobody') ? { code: 550, message: '5.1.1 no such user' } : null,
    });
    const svc = await startService(t, {
      SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    });
    const client = wsClient(t, svc.url);
    const feed = subscribe(client, `subscription { messageEvents { cursor } }`);
    await waitFor(async () => sample(await scrape(svc), 'mailscope_active_subscriptions') === 1, {
      description: 'the subscription to be counted',
    });

    for (const to of ['ada@example.com', 'bob@example.com', 'nobody@example.com']) {
      await sendTo(svc, to);
    }
    // The gauges read the database; the counters follow events, which reach the main thread
    // just after their commit; the histogram follows the delivery thread's reports.
    const expected: Record<string, number> = {
      'mailscope_messages{status="SENT"}': 2,
      'mailscope_messages{status="ABANDONED"}': 1,
      'mailscope_messages{status="QUEUED"}': 0,
      mailscope_queue_depth: 0,
      mailscope_oldest_queued_age_seconds: 0,
      'mailscope_delivery_attempts_total{outcome="sent",error_code="none"}': 2,
      'mailscope_delivery_attempts_total{outcome="failed",error_code="RECIPIENT_REJECTED"}': 1,
      'mailscope_smtp_send_duration_seconds_count{outcome="sent"}': 2,
      'mailscope_smtp_send_duration_seconds_count{outcome="failed"}': 1,
    };
    let last = '';
    await waitFor(
      async () => {
        last = await scrape(svc);
        return Object.entries(expected).every(([name, value]) => sample(last, name) === value);
      },
      { description: 'the metrics of 2 sent and 1 rejected message' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}`);
    });
    // The pool keeps its connection open between messages; the heartbeat reports it.
    await waitFor(
      async () => (sample(await scrape(svc), 'mailscope_smtp_pool_connections') ?? 0) >= 1,
      { description: 'a pooled SMTP connection to be reported' },
    );
    // The counters move when an event is published on the main thread; the subscriber gets the
    // same event over its socket a moment later, so wait for its copies too.
    await waitFor(() => feed.received.length >= 9, {
      description: 'the subscription to see every event (3 messages x 3 events)',
    });
    assert.equal(feed.received.length, 9, 'the subscription saw every event, once');

    feed.unsubscribe();
    await waitFor(async () => sample(await scrape(svc), 'mailscope_active_subscriptions') === 0, {
      description: 'the ended subscription to be uncounted',
    });
  });

  test('the queue gauges count what waits, and its age', async (t) => {
    // Nothing to deliver to: messages stay QUEUED between CONFIG failures.
    const svc = await startService(t, {
      EMBEDDED_SMTP_PORT: 'off',
      DELIVERY_RETRY_BASE_MS: '60000',
    });
    await sendTo(svc, 'ada@example.com');
    await sendTo(svc, 'bob@example.com');
    // Each message is claimed once, fails and waits a minute, QUEUED. The gauges are separate
    // reads in one scrape: while a first attempt is under way, a message claimed between them
    // counts in one and not the other (seen on PostgreSQL on a busy machine). Once both wait,
    // every scrape agrees.
    await waitFor(
      async () => {
        const metrics = await scrape(svc);
        return (
          sample(metrics, 'mailscope_queue_depth') === 2 &&
          (sample(metrics, 'mailscope_oldest_queued_age_seconds') ?? 0) > 0 &&
          sample(metrics, 'mailscope_messages{status="QUEUED"}') === 2
        );
      },
      { description: 'both messages QUEUED in the queue gauges and in the status counts' },
    );
  });

  test('active subscriptions count every subscriber, those sharing one live operation too', async (t) => {
    const svc = await startService(t);
    const active = async () => sample(await scrape(svc), 'mailscope_active_subscriptions');
    const until = (count: number) =>
      waitFor(async () => (await active()) === count, {
        description: `mailscope_active_subscriptions ${count}`,
      });
    // Three identical live feeds over two sockets share one execution (and one bus listener);
    // a filtered feed and queueStats run on their own.
    const first = wsClient(t, svc.url);
    const second = wsClient(t, svc.url);
    const feed = `subscription { messageEvents { cursor } }`;
    const shared = [subscribe(first, feed), subscribe(first, feed), subscribe(second, feed)];
    subscribe(second, `subscription { messageEvents(filter: { status: [SENT] }) { cursor } }`);
    subscribe(first, `subscription { queueStats(intervalMs: 250) { sent } }`);
    await until(5);
    // All of them listen: one message's events reach each feed.
    await sendTo(svc, 'ada@example.com');
    await waitFor(() => shared.every((s) => s.received.length === 3), {
      description: 'every shared feed to see QUEUED, PROCESSING and SENT',
    });

    shared[0]!.unsubscribe();
    await until(4);
    // A socket that goes away takes its subscriptions with it: its shared feed and queueStats.
    await first.dispose();
    await until(2);
    await second.dispose();
    await until(0);
  });

  test('errors the API answered, by code: over HTTP, over WebSocket, and before GraphQL ran', async (t) => {
    const TOKEN = 'operations-admin-token';
    const svc = await startService(t, { API_TOKEN: TOKEN });
    const before = await scrape(svc);
    for (const code of [
      'UNAUTHENTICATED',
      'BAD_USER_INPUT',
      'FORBIDDEN',
      'INTERNAL_SERVER_ERROR',
    ]) {
      assert.equal(sample(before, `mailscope_api_errors_total{code="${code}"}`), 0, code);
    }
    const post = (body: string, token = TOKEN) =>
      fetch(`${svc.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
    // Refused before GraphQL runs: a wrong token, a body that is not JSON.
    assert.equal((await post('{"query":"{ __typename }"}', 'wrong-token')).status, 401);
    assert.equal((await post('{not json')).status, 400);
    // Apollo's validation, and a resolver's typed error.
    const unknownField = await svc.gql(`{ noSuchField }`);
    assert.equal(unknownField.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
    const badInput = await svc.gql(
      `mutation { sendEmail(input: { to: "not an address", subject: "s", text: "t" }) { id } }`,
    );
    assert.equal(badInput.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    // Over WebSocket: a wrong token at connection, and an operation the server refuses.
    const stranger = subscribe(
      wsClient(t, svc.url, 'wrong-token'),
      `subscription { messageEvents { cursor } }`,
    );
    await waitFor(() => stranger.closed, { description: 'the stranger to be turned away' });
    const invalid = subscribe(
      wsClient(t, svc.url, TOKEN),
      `subscription { messageEvents(filter: { noSuchFilter: 1 }) { cursor } }`,
    );
    await waitFor(() => invalid.closed, { description: 'the invalid subscription to end' });

    const expected: Record<string, number> = {
      'mailscope_api_errors_total{code="UNAUTHENTICATED"}': 2,
      'mailscope_api_errors_total{code="BAD_REQUEST"}': 1,
      'mailscope_api_errors_total{code="GRAPHQL_VALIDATION_FAILED"}': 2,
      'mailscope_api_errors_total{code="BAD_USER_INPUT"}': 1,
      'mailscope_api_errors_total{code="INTERNAL_SERVER_ERROR"}': 0,
    };
    let last = '';
    await waitFor(
      async () => {
        last = await scrape(svc);
        return Object.entries(expected).every(([name, value]) => sample(last, name) === value);
      },
      { description: 'each refusal counted once under its code' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}`);
    });
  });

  test("the process's memory and CPU, and each thread's heap and event loop", async (t) => {
    const svc = await startService(t);
    // The delivery thread reports its own isolate with its heartbeat, once a second (its gauges
    // read 0 until then).
    const metrics = await waitFor(async () => {
      const text = await scrape(svc);
      return (sample(text, 'mailscope_delivery_thread_heap_used_bytes') ?? 0) > 0 ? text : null;
    });
    const at = (name: string) => {
      const value = sample(metrics, name);
      assert.ok(value !== undefined && Number.isFinite(value), `${name} in\n${metrics}`);
      return value;
    };
    const mib = 1024 * 1024;
    assert.ok(at('process_resident_memory_bytes') > 10 * mib);
    assert.ok(at('process_cpu_seconds_total') >= 0);
    assert.ok(at('process_open_fds') > 0);
    // Two isolates: the main thread's heap (prom-client's name) and the delivery thread's.
    assert.ok(at('nodejs_heap_size_used_bytes') > mib);
    const threadHeap = at('mailscope_delivery_thread_heap_used_bytes');
    assert.ok(threadHeap > mib && threadHeap <= at('mailscope_delivery_thread_heap_total_bytes'));
    // Delays are figures, not assertions (a busy machine stalls loops): present and not negative.
    assert.ok(at('nodejs_eventloop_lag_p99_seconds') >= 0);
    assert.ok(at('mailscope_delivery_thread_event_loop_delay_max_seconds') >= 0);
    assert.match(metrics, /^nodejs_gc_duration_seconds_bucket\{/m);
  });

  test('METRICS_TOKEN guards /metrics and nothing else', async (t) => {
    const svc = await startService(t, { METRICS_TOKEN: 'scrape-me' });
    assert.equal((await fetch(`${svc.url}/metrics`)).status, 401);
    const wrong = await fetch(`${svc.url}/metrics`, {
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 401);
    assert.match(await scrape(svc, 'scrape-me'), /mailscope_messages\{status="SENT"\} 0/);
    assert.notEqual((await fetch(`${svc.url}/readyz`)).status, 401);
  });
});
