import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { fileScope } from '../helpers/scope.ts';
import {
  graphqlRequest,
  rawSocket,
  startService,
  subscribe,
  wsClient,
  type TestService,
} from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The service as a user meets it: booted with nothing configured (so it delivers to its
// embedded SMTP server), driven over HTTP and graphql-ws.

const SEND = `mutation ($input: SendEmailInput!) {
  sendEmail(input: $input) { id status attempts messageId createdAt }
}`;
const EVENTS = `subscription ($after: String, $filter: MessageFilter) {
  messageEvents(after: $after, filter: $filter) {
    cursor at status previousStatus reason
    message { id recipient status }
  }
}`;

let svc: TestService;
before(async () => {
  svc = await startService(fileScope);
});

async function send(input: Record<string, unknown>) {
  return svc.gql(SEND, { input: { subject: 'Hello', text: 'Hi', ...input } });
}

describe('a fresh install', () => {
  test('GET /healthz answers 200', async () => {
    const response = await fetch(`${svc.url}/healthz`);
    assert.equal(response.status, 200);
  });

  test('smtpConfig describes the embedded development server', async () => {
    const result = await svc.gql(`{ smtpConfig { connectionUri embedded source version } }`);
    const config = result.data.smtpConfig;
    assert.equal(config.embedded, true);
    assert.equal(config.source, 'EMBEDDED');
    assert.equal(config.version, null);
    assert.match(config.connectionUri, /^smtp:\/\/127\.0\.0\.1:\d+\/\?disable_starttls=true$/);
  });

  test('a subscriber sees QUEUED -> PROCESSING -> SENT, and the real 250 reply is recorded', async (t) => {
    const client = wsClient(t, svc.url);
    const to = 'live@example.com';
    const events = subscribe(client, EVENTS, { filter: { recipient: 'LIVE@example.com' } });
    // graphql-ws acknowledges before the subscription is registered; wait until it's live (any
    // probe's event will do: on PostgreSQL events arrive once the feed has read them).
    const probes = new Set<string>();
    await waitFor(async () => {
      probes.add((await send({ to })).data.sendEmail.id);
      return events.received.some((e: any) => probes.has(e.messageEvents.message.id));
    });
    // Only what follows counts; late events of the probes are not this test's business.
    const isProbe = (e: any) => probes.has(e.messageEvents.message.id);
    events.received.length = 0;
    const other = await send({ to: 'someone-else@example.com' });
    const sent = await send({ to });
    const id = sent.data.sendEmail.id;
    const mine = () => events.received.filter((e: any) => e.messageEvents.message.id === id);
    await waitFor(() => mine().length === 3, { description: 'three events' });
    // The other message goes through too; none of its events reach this filtered subscriber.
    await waitFor(async () => {
      const query = `query ($id: ID!) { message(id: $id) { status } }`;
      return (await svc.gql(query, { id: other.data.sendEmail.id })).data.message.status === 'SENT';
    });
    assert.deepEqual(
      [
        ...new Set(
          events.received
            .filter((e: any) => !isProbe(e))
            .map((e: any) => e.messageEvents.message.recipient),
        ),
      ],
      [to],
    );
    assert.deepEqual(
      mine().map((e: any) => e.messageEvents.status),
      ['QUEUED', 'PROCESSING', 'SENT'],
    );
    for (const event of mine()) {
      assert.match(event.messageEvents.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    events.unsubscribe();
    await client.dispose();

    const message = await svc.gql(
      `query ($id: ID!) { message(id: $id) { status dispatches { succeeded response } } }`,
      { id },
    );
    assert.equal(message.data.message.status, 'SENT');
    assert.match(message.data.message.dispatches[0].response, /^250 2\.0\.0 Ok: queued as \w+$/);
  });
});

describe('subscription replay', () => {
  test('after a cursor: replays then continues live, nothing lost or repeated', async (t) => {
    const recipient = 'replay@example.com';
    const filter = { recipient };
    // A burst, then wait until it has settled, so the full log of this recipient is known.
    for (let i = 0; i < 10; i++) await send({ to: recipient });
    await waitFor(
      async () => {
        const r = await svc.gql(
          `{ messages(filter: { recipient: "${recipient}", status: [SENT] }) { totalCount } }`,
        );
        return r.data.messages.totalCount === 10;
      },
      { description: 'the 10 messages to be SENT' },
    );

    const client = wsClient(t, svc.url);
    const full = subscribe(client, EVENTS, { after: '0', filter });
    await waitFor(() => full.received.length === 30, { description: 'replay of 30 events' });
    const cursors = full.received.map((e: any) => Number(e.messageEvents.cursor));
    assert.deepEqual(
      cursors,
      [...cursors].sort((a, b) => a - b),
      'replayed oldest first',
    );
    const resumeAfter = full.received[11].messageEvents.cursor;

    // Resume from the middle while more mail flows: the replay and the live tail must join.
    const resumed = subscribe(client, EVENTS, { after: resumeAfter, filter });
    for (let i = 0; i < 10; i++) await send({ to: recipient });
    await waitFor(() => full.received.length === 60, { description: '60 events in total' });
    await waitFor(() => resumed.received.length === 48, {
      description: 'the resumed stream to catch up',
    });
    const expected = full.received.slice(12).map((e: any) => e.messageEvents.cursor);
    assert.deepEqual(
      resumed.received.map((e: any) => e.messageEvents.cursor),
      expected,
    );
    full.unsubscribe();
    resumed.unsubscribe();
    await client.dispose();
  });

  test('a malformed cursor is BAD_USER_INPUT', async (t) => {
    const client = wsClient(t, svc.url);
    const bad = subscribe(client, EVENTS, { after: 'not-a-cursor' });
    await waitFor(() => bad.errors.length > 0 || bad.closed);
    assert.match(JSON.stringify(bad.errors), /BAD_USER_INPUT|not an event cursor/);
    await client.dispose();
  });
});

describe('sendEmail input', () => {
  async function total() {
    return (await svc.gql(`{ messages { totalCount } }`)).data.messages.totalCount as number;
  }

  test('bad input is BAD_USER_INPUT naming the field, and nothing is stored', async () => {
    const before = await total();
    const rows: [Record<string, unknown>, RegExp][] = [
      [{ to: 'not-an-address' }, /input\.to/],
      [{ to: 'a@example.com', subject: 'two\r\nlines' }, /input\.subject/],
      [{ to: 'a@example.com', text: null }, /input\.text/],
      [
        { to: 'a@example.com', headers: [{ name: 'Bcc', value: 'eve@example.com' }] },
        /input\.headers\[0\]\.name/,
      ],
      [
        { to: 'a@example.com', headers: [{ name: 'X-A', value: 'a\r\nBcc: e@example.com' }] },
        /input\.headers\[0\]\.value/,
      ],
      [
        { to: 'a@example.com', headers: [{ name: 'Bad Name', value: 'v' }] },
        /input\.headers\[0\]\.name/,
      ],
    ];
    for (const [input, field] of rows) {
      const result = await svc.gql(SEND, { input: { subject: 'Hello', text: 'Hi', ...input } });
      assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(input));
      assert.match(result.errors![0]!.message, field);
    }
    assert.equal(await total(), before);
  });

  test('idempotencyKey: a repeat returns the first message; different input is CONFLICT', async () => {
    const input = { to: 'idem@example.com', idempotencyKey: 'order-42' };
    const first = await send(input);
    const repeat = await send(input);
    assert.equal(repeat.data.sendEmail.id, first.data.sendEmail.id);
    assert.equal(repeat.data.sendEmail.messageId, first.data.sendEmail.messageId);
    const conflicting = await send({ ...input, subject: 'Different' });
    assert.equal(conflicting.errors?.[0]?.extensions?.code, 'CONFLICT');
    const stored = await svc.gql(
      `{ messages(filter: { recipient: "idem@example.com" }) { totalCount } }`,
    );
    assert.equal(stored.data.messages.totalCount, 1);
  });
});

describe('what HTTP refuses before anything runs', () => {
  test('a mutation whose Accept admits no JSON answer: 406, and nothing is stored', async () => {
    const count = async () =>
      (await svc.gql(`{ messages { totalCount } }`)).data.messages.totalCount;
    const before = await count();
    const response = await fetch(`${svc.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: `mutation { sendEmail(input: { to: "accept@example.com", subject: "s", text: "t" }) { id } }`,
      }),
    });
    assert.equal(response.status, 406);
    const body = (await response.json()) as any;
    assert.equal(body.errors[0].extensions.code, 'BAD_REQUEST');
    assert.equal(await count(), before, 'the mutation did not run');
  });

  test('a subscription over HTTP is BAD_REQUEST saying where subscriptions are served', async () => {
    const result = await svc.gql(`subscription { messageEvents { cursor } }`);
    assert.equal(result.status, 400);
    assert.equal(result.errors?.[0]?.extensions?.['code'], 'BAD_REQUEST');
    assert.match(result.errors![0]!.message, /WebSocket/);
  });
});

describe('configureSmtp input', () => {
  test('a bad URI names the problem and never repeats the password', async () => {
    const result = await svc.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      {
        input: {
          connectionUri: 'smtp://user:SuperSecret99@mail.example.com:587/?bogus=1',
          fromAddress: 'a@example.com',
        },
      },
    );
    assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(result.errors![0]!.message, /input\.connectionUri.*bogus/);
    assert.ok(!JSON.stringify(result).includes('SuperSecret99'));
    const config = await svc.gql(`{ smtpConfig { embedded } smtpConfigHistory { version } }`);
    assert.equal(config.data.smtpConfig.embedded, true, 'nothing was stored');
    assert.deepEqual(config.data.smtpConfigHistory, []);
  });
});

describe('messages query', () => {
  test('newest first, cursor pagination, filters and totalCount', async () => {
    const recipient = `page-${Date.now()}@example.com`;
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await send({ to: recipient, subject: `Invoice ${i}` })).data.sendEmail.id);
    }
    const QUERY = `query ($after: String, $filter: MessageFilter) {
      messages(first: 2, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id subject } }
      }
    }`;
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: any = await svc.gql(QUERY, { after: cursor, filter: { recipient } });
      assert.equal(page.data.messages.totalCount, 5);
      seen.push(...page.data.messages.edges.map((e: any) => e.node.id));
      if (!page.data.messages.pageInfo.hasNextPage) break;
      cursor = page.data.messages.pageInfo.endCursor;
    }
    assert.deepEqual(seen, [...ids].reverse());

    const bySubject = await svc.gql(QUERY, {
      filter: { recipient, subjectContains: 'invoice 3' },
    });
    assert.deepEqual(
      bySubject.data.messages.edges.map((e: any) => e.node.id),
      [ids[3]],
    );
    const future = await svc.gql(QUERY, {
      filter: { recipient, createdAfter: '2999-01-01T00:00:00.000Z' },
    });
    assert.equal(future.data.messages.totalCount, 0);
    const tooMany = await svc.gql(`{ messages(first: 501) { totalCount } }`);
    assert.equal(tooMany.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});

describe('API_TOKEN', () => {
  let secured: TestService;
  before(async () => {
    secured = await startService(fileScope, { API_TOKEN: 'tok-123' });
  });

  test('HTTP: 401 UNAUTHENTICATED without or with a wrong token; works with it', async () => {
    const endpoint = `${secured.url}/graphql`;
    for (const token of [undefined, 'wrong']) {
      const result = await graphqlRequest(endpoint, '{ smtpConfig { embedded } }', {}, token);
      assert.equal(result.status, 401);
      assert.equal(result.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    }
    const ok = await graphqlRequest(endpoint, '{ smtpConfig { embedded } }', {}, 'tok-123');
    assert.equal(ok.status, 200);
    assert.equal(ok.data.smtpConfig.embedded, true);
    // The scheme is case-insensitive (RFC 7235).
    const lower = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'bearer tok-123' },
      body: JSON.stringify({ query: '{ smtpConfig { embedded } }' }),
    });
    assert.equal(lower.status, 200);
    assert.equal((await fetch(`${secured.url}/healthz`)).status, 200, 'healthz needs no token');
  });

  test('graphql-ws: a connection without the token is closed with 4403', async (t) => {
    const anonymous = rawSocket(t, secured.url);
    anonymous.socket.on('open', () =>
      anonymous.socket.send(JSON.stringify({ type: 'connection_init', payload: {} })),
    );
    const code = await waitFor(() => anonymous.closeCode, { description: 'the socket to close' });
    assert.equal(code, 4403);

    const client = wsClient(t, secured.url, 'tok-123');
    const events = subscribe(client, EVENTS, { after: '0' });
    await graphqlRequest(
      `${secured.url}/graphql`,
      SEND,
      { input: { to: 'a@example.com', subject: 's', text: 't' } },
      'tok-123',
    );
    await waitFor(() => events.received.length > 0);
    assert.deepEqual(events.errors, []);
    await client.dispose();
  });
});
