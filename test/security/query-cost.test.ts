import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  graphqlRequest,
  startService,
  subscribe,
  wsClient,
  type GraphQLResponse,
  type TestService,
} from '../helpers/service.ts';
import { fileScope } from '../helpers/scope.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Issue 19, item 1: one READ-token query stalled the service. 15 aliases of messages(first: 500)
// looping through Message.events -> MessageEvent.message passed every limit and, over 300
// messages of 20 KB html, ran for 15-22 s with the event loop blocked (/healthz took 11.5 s) and
// took RSS to 2.7 GB. Now such queries are refused before they run, with the cost and the limit;
// a heavy query that is allowed gives the event loop back while it runs; the response is capped.
// `npm run bench:query` measures /healthz latency and RSS around the same queries.

const ADMIN = 'query-cost-admin';
const MESSAGES = 300;
const HTML = `<p>${'x'.repeat(20_000)}</p>`;
let svc: TestService;
let reader: string;

const loop = (levels: number) =>
  `${'events { message { '.repeat(levels)}id html${' } }'.repeat(levels)}`;
const aliased = (count: number, selection: string, first = 500) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: messages(first: ${first}) { edges { node { ${selection} } } }`).join(' ')} }`;
/** The review's query: 15 aliases x 500 messages x the events/message loop, 1.8 KB, depth 10. */
const REVIEW = aliased(15, `id html ${loop(3)}`);

before(async () => {
  svc = await startService(fileScope, { API_TOKEN: ADMIN, NODE_ENV: 'production' });
  for (let sent = 0; sent < MESSAGES; sent += 100) {
    const batch = await svc.gql(
      `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: 100 }, (_, i) => ({
          to: `r${sent + i}@example.com`,
          subject: 'twenty kilobytes of html',
          html: HTML,
        })),
      },
    );
    assert.equal(batch.errors, undefined);
  }
  // Delivered to the embedded server: every message has its events and a dispatch.
  await waitFor(
    async () =>
      (await svc.gql(`{ messages(filter: { status: [SENT] }) { totalCount } }`)).data.messages
        .totalCount === MESSAGES,
    { timeoutMs: 60_000, description: 'every message to be sent' },
  );
  const created = await svc.gql(
    `mutation { createApiToken(name: "reviewer", scope: READ) { token } }`,
  );
  reader = created.data.createApiToken.token;
});
after(() => svc.close());

const asReader = (query: string, variables: Record<string, unknown> = {}) =>
  graphqlRequest(`${svc.url}/graphql`, query, variables, reader);

function refusal(response: GraphQLResponse, limit: string) {
  assert.equal(response.status, 400, JSON.stringify(response.errors));
  assert.equal(response.data, undefined, 'nothing was executed');
  const error = response.errors?.find((e) => e.extensions?.['limit'] === limit);
  assert.ok(error, `a ${limit} error in ${JSON.stringify(response.errors)}`);
  assert.equal(error.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
  return error;
}

/** The first error of a graphql-ws operation, whatever kind of operation it is. */
async function wsError(query: string, variables: Record<string, unknown> = {}) {
  const client = wsClient(fileScope, svc.url, reader);
  try {
    const sub = subscribe(client, query, variables);
    await waitFor(() => sub.errors.length > 0 || sub.received.length > 0 || sub.closed);
    assert.equal(sub.received.length, 0, 'nothing was executed');
    return sub.errors.flat()[0] as { message: string; extensions?: Record<string, unknown> };
  } finally {
    await client.dispose();
  }
}

describe('refused up front, with the cost and the limit', () => {
  test("the review's query: the loop is refused, over HTTP and graphql-ws", async () => {
    const http = refusal(await asReader(REVIEW), 'cycle');
    assert.match(http.message, /selects Message again inside itself/);
    assert.match(http.message, /would cost up to 804,052,665; the limit is 300,000/);
    const ws = await wsError(REVIEW);
    assert.equal(ws.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
  });

  test('the loop however it is spelled: one level, fragments, inline fragments', async () => {
    for (const query of [
      `{ messages(first: 500) { edges { node { events { message { id } } } } } }`,
      `{ message(id: "1") { ...M } } fragment M on Message { events { ...E } } fragment E on MessageEvent { message { html } }`,
      `{ messages { edges { node { events { ... on MessageEvent { message { id } } } } } } }`,
    ]) {
      refusal(await asReader(query), 'cycle');
    }
  });

  test('without the loop: 15 aliases of 500 messages with html cost too much', async () => {
    const error = refusal(await asReader(aliased(15, 'id html')), 'cost');
    assert.equal(error.extensions?.['maxCost'], 300_000);
    assert.ok((error.extensions?.['cost'] as number) > 700_000);
    assert.match(
      error.message,
      /^query cost [\d,]+ is over the limit of 300,000: each list counts once per item/,
    );
    assert.match(error.message, /a0 alone costs [\d,]+/);
    const ws = await wsError(aliased(15, 'id html'));
    assert.equal(ws.extensions?.['limit'], 'cost');
  });

  test('the cost follows the variables: first: $n is what is sent', async () => {
    const query = `query ($n: Int) { ${Array.from({ length: 15 }, (_, i) => `a${i}: messages(first: $n) { edges { node { id html } } }`).join(' ')} }`;
    refusal(await asReader(query, { n: 500 }), 'cost');
    const small = await asReader(query, { n: 2 });
    assert.equal(small.errors, undefined);
    assert.equal(small.data.a14.edges.length, 2);
  });

  test('a fragment bomb is priced without being expanded', async () => {
    const levels = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
    ).join(' ');
    const response = await asReader(
      `{ ...F30 } fragment F0 on Query { messages(first: 1) { totalCount } } ${levels}`,
    );
    assert.equal(response.status, 400);
    assert.ok(response.errors?.some((e) => e.extensions?.['limit'] === 'fields'));
  });

  test('subscriptions: priced per event against their own limit, and no loops', async () => {
    const heavy = await wsError(
      `subscription { messageEvents(after: "0") { message { ${Array.from({ length: 12 }, (_, i) => `h${i}: html`).join(' ')} } } }`,
    );
    assert.equal(heavy.extensions?.['limit'], 'cost');
    assert.equal(heavy.extensions?.['maxCost'], 1_000);
    assert.match(heavy.message, /per event/);
    const looped = await wsError(
      `subscription { messageEvents(after: "0") { message { events { message { id } } } } }`,
    );
    assert.equal(looped.extensions?.['limit'], 'cycle');
    // What a dashboard subscribes to is well inside it.
    const client = wsClient(fileScope, svc.url, reader);
    try {
      const feed = subscribe(
        client,
        `subscription { messageEvents(after: "0") { cursor status message { id status html } } }`,
      );
      await waitFor(() => feed.received.length >= 10);
      assert.deepEqual(feed.errors, []);
    } finally {
      await client.dispose();
    }
  });
});

describe('a heavy query that is allowed', () => {
  const HEAVY = `{ messages(first: 500) { totalCount edges { node { id subject html
    events { status at reason } dispatches { attempt succeeded response } } } } }`;

  test('gives the event loop back while it runs, so /healthz is answered meanwhile', async () => {
    // Structural, not timed: the resolvers that read per message step through a pacer that
    // yields every 32 steps (or 8 ms), so 300 messages x 3 paced reads give at least 28 turns (20 asserted)
    // of the event loop during execution however fast or busy the machine is. Without it the
    // whole execution was one turn. The service runs in this process, so a setImmediate chain
    // here counts the turns between sending the query and its answer's headers.
    let turns = 0;
    let counting = true;
    const spin = () => {
      if (!counting) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    let healthChecks = 0;
    let heavyDone = false;
    const health = (async () => {
      while (!heavyDone) {
        assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
        if (!heavyDone) healthChecks++;
      }
    })();
    const response = await fetch(`${svc.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}` },
      body: JSON.stringify({ query: HEAVY }),
    });
    counting = false;
    heavyDone = true;
    const body = (await response.json()) as GraphQLResponse;
    await health;
    assert.equal(response.status, 200);
    assert.equal(body.errors, undefined);
    assert.equal(body.data.messages.edges.length, MESSAGES);
    assert.ok(turns >= 20, `the event loop turned ${turns} times during the query`);
    console.log(
      `security figures: heavy legal query event-loop turns=${turns} healthz answered meanwhile=${healthChecks}`,
    );
  });

  test('what a dashboard and the detail panel ask stays well inside the limits', async () => {
    const page = await asReader(
      `{ eventCursor messages(first: 50) { edges { cursor node { id recipient subject status attempts lastError { code } } } pageInfo { hasNextPage endCursor } totalCount } }`,
    );
    assert.equal(page.errors, undefined);
    const id = page.data.messages.edges[0].node.id;
    const detail = await asReader(
      `query ($id: ID!) { message(id: $id) { id html headers { name value } events { cursor at status reason } dispatches { attempt response transcript error { code } } } }`,
      { id },
    );
    assert.equal(detail.errors, undefined);
    assert.equal(detail.data.message.html, HTML);
  });
});

describe('the response is capped', () => {
  test('more than 16 MiB of html is one RESPONSE_TOO_LARGE error, not a body', async () => {
    // 5 aliases x 300 messages x 20 KB = 30 MB: within the cost limit, over the size limit.
    const response = await asReader(aliased(5, 'id html'));
    assert.equal(response.data, undefined);
    assert.equal(response.errors?.length, 1);
    const [error] = response.errors!;
    assert.equal(error!.extensions?.['code'], 'RESPONSE_TOO_LARGE');
    assert.equal(error!.extensions?.['maxResponseBytes'], 16 * 1024 * 1024);
    assert.match(error!.message, /larger than 16 MiB/);
    // The service is fine afterwards.
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const after = await asReader(aliased(2, 'id html', 100));
    assert.equal(after.errors, undefined);
  });
});
