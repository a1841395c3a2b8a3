import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type pg from 'pg';
import WebSocket from 'ws';
import { startBurst } from '../helpers/faults.ts';
import { closeWith, fileScope, type Scope } from '../helpers/scope.ts';
import { cleanupStack, connect, storedLog, type Cleanup } from '../helpers/postgres.ts';
import {
  graphqlRequest,
  startService,
  subscribe,
  wsClient,
  type Subscription,
  type TestService,
} from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { createPostgresDatabase } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Three instances on one PostgreSQL database, as the contract promises them: one feed in one
// order on every instance, cursors that resume anywhere, configuration and tokens in force
// everywhere, and figures that count every instance's work.

const BOOTSTRAP = 'instances-bootstrap-token';
const addCleanup = (cleanup: Cleanup) => closeWith(fileScope, cleanup);

let instances: TestService[];
let smtp: TestSmtpServer;
let sql: pg.Client;

before(async () => {
  const database = await createPostgresDatabase();
  addCleanup(() => database.remove());
  smtp = await startTestSmtpServer(fileScope);
  const env = {
    DATABASE_URL: database.url,
    API_TOKEN: BOOTSTRAP,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  };
  // Started together: they migrate once, under the advisory lock.
  instances = await Promise.all(
    [0, 1, 2].map(async () => {
      return startService(fileScope, env);
    }),
  );
  sql = await connect(database.url);
  addCleanup(() => sql.end());
});

type Event = { messageEvents: { cursor: string; status: string } };
const EVENTS = `subscription ($after: String) { messageEvents(after: $after) { cursor status } }`;
const line = (e: Event) => `${e.messageEvents.cursor} ${e.messageEvents.status}`;

/** Orders "<xid>.<seq>" cursors as the log does. */
function compareCursors(a: string, b: string): number {
  const [ax, as] = a.split('.').map(BigInt) as [bigint, bigint];
  const [bx, bs] = b.split('.').map(BigInt) as [bigint, bigint];
  return ax < bx ? -1 : ax > bx ? 1 : as < bs ? -1 : as > bs ? 1 : 0;
}

async function logLines(): Promise<string[]> {
  return (await storedLog(sql)).map((e) => `${e.cursor} ${e.status}`);
}

async function openMessages(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE status IN ('QUEUED', 'PROCESSING')`,
  );
  return rows[0]!.n;
}

function subscriber(scope: Scope, service: TestService, after?: string): Subscription<Event> {
  const client = wsClient(scope, service.url, BOOTSTRAP);
  const defer = (cleanup: Cleanup) => closeWith(scope, cleanup);
  const subscription = subscribe<Event>(client, EVENTS, after === undefined ? {} : { after });
  defer(() => subscription.unsubscribe());
  return subscription;
}

describe('one feed, in one order, on every instance', () => {
  test('live subscribers on three instances see the same sequence, equal to the stored log; cursors resume on another instance', async (t) => {
    const defer = cleanupStack(t);
    const live = instances.map((service) => subscriber(t, service));
    // Subscriptions start asynchronously: mail is sent until each has seen an event, so all
    // three are live from then on.
    let warmUps = 0;
    await waitFor(
      async () => {
        if (live.every((s) => s.received.length > 0)) return true;
        await instances[warmUps % 3]!.gql(
          `mutation { sendEmail(input: { to: "warm${warmUps++}@example.com", subject: "w", text: "t" }) { id } }`,
        );
        return false;
      },
      { intervalMs: 200, description: 'every subscriber to be live' },
    );
    await waitFor(async () => (await openMessages()) === 0, { description: 'warm-ups sent' });
    const logBefore = await logLines();
    const startAfter = logBefore.at(-1)!.split(' ')[0]!;

    const burst = startBurst(
      instances.map((service) => service.url),
      { count: 600, parallel: 12, prefix: 'order', token: BOOTSTRAP },
    );
    defer(() => burst.stop());
    // A cursor read on instance 0 mid-burst, resumed on instance 1 while the burst goes on.
    await waitFor(() => live[0]!.received.length >= logBefore.length + 300, {
      timeoutMs: 60_000,
      description: '300 burst events on instance 0',
    });
    const midCursor = live[0]!.received.at(-1)!.messageEvents.cursor;
    const resumedLive = subscriber(t, instances[1]!, midCursor);
    await burst.done;
    assert.equal(burst.acknowledged.length, 600, JSON.stringify(burst.failures));
    await waitFor(async () => (await openMessages()) === 0, {
      timeoutMs: 60_000,
      description: 'every message sent',
    });

    const log = await logLines();
    const after = (lines: string[], cursor: string) =>
      lines.filter((l) => compareCursors(l.split(' ')[0]!, cursor) > 0);
    await waitFor(
      () =>
        live.every(
          (s) => after(s.received.map(line), startAfter).length >= after(log, startAfter).length,
        ) &&
        after(resumedLive.received.map(line), midCursor).length === after(log, midCursor).length,
      { timeoutMs: 30_000, description: 'every subscriber to catch up with the log' },
    );
    // The last cursor instance 2 saw, resumed on instance 0 after the fact: replay only.
    const lastCursor = live[2]!.received.at(-1)!.messageEvents.cursor;
    const resumedLate = subscriber(t, instances[0]!, lastCursor);
    const fromStart = subscriber(t, instances[2]!, '0');
    await waitFor(() => fromStart.received.length >= log.length, {
      description: 'a replay from "0" on instance 2',
    });

    for (const [index, subscription] of live.entries()) {
      assert.deepEqual(subscription.errors, [], `instance ${index}`);
      const lines = subscription.received.map(line);
      // From its first event on, each is the log itself: no gap, no repeat, the log's order.
      const first = log.indexOf(lines[0]!);
      assert.ok(first >= 0, `instance ${index} saw an event the log does not have`);
      assert.deepEqual(lines, log.slice(first), `instance ${index} differs from the stored log`);
      // And the three agree on everything after the warm-ups.
      assert.deepEqual(after(lines, startAfter), after(log, startAfter), `instance ${index}`);
    }
    assert.deepEqual(resumedLive.received.map(line), after(log, midCursor), 'resumed mid-burst');
    assert.deepEqual(resumedLate.received.map(line), [], 'resumed at the end: nothing more');
    assert.deepEqual(fromStart.received.map(line), log, 'replayed from "0"');
    assert.deepEqual([...resumedLive.errors, ...resumedLate.errors, ...fromStart.errors], []);
  });
});

describe('figures cover every instance', () => {
  test('messages, deliveryStats, queueStats and /metrics count what all instances did', async (t) => {
    const defer = cleanupStack(t);
    const burst = startBurst(
      instances.map((service) => service.url),
      { count: 90, parallel: 6, prefix: 'figures', token: BOOTSTRAP },
    );
    defer(() => burst.stop());
    await burst.done;
    assert.equal(burst.acknowledged.length, 90);
    await waitFor(async () => (await openMessages()) === 0, { description: 'every message sent' });
    const { rows } = await sql.query<{ total: number; sent: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'SENT')::int AS sent
       FROM messages`,
    );
    const { total, sent } = rows[0]!;
    assert.equal(total, sent);

    const client = wsClient(t, instances[2]!.url, BOOTSTRAP);
    defer(() => client.dispose());
    const queueStats = subscribe<{ queueStats: { queued: number; sent: number } }>(
      client,
      `subscription { queueStats(intervalMs: 250) { queued sent queueDepth processing } }`,
    );
    defer(() => queueStats.unsubscribe());

    for (const [index, service] of instances.entries()) {
      const counted = await service.gql(
        `{ all: messages { totalCount } sent: messages(filter: { status: [SENT] }) { totalCount } }`,
      );
      assert.equal(counted.data.all.totalCount, total, `instance ${index}: messages`);
      assert.equal(counted.data.sent.totalCount, sent, `instance ${index}: SENT messages`);
      // Counters are folded by one instance at a time, every second: they catch up.
      await waitFor(
        async () => {
          const figures = (
            await service.gql(`{ deliveryStats { queued sent queueDepth processing } }`)
          ).data.deliveryStats;
          return (
            figures.queued === total &&
            figures.sent === sent &&
            figures.queueDepth === 0 &&
            figures.processing === 0
          );
        },
        { description: `instance ${index}: deliveryStats to count ${total} messages` },
      );
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`^mailscope_messages\\{status="SENT"\\} ${sent}$`, 'm'));
    }
    await waitFor(
      () =>
        queueStats.received.some(
          (s) => s.queueStats.sent === sent && s.queueStats.queued === total,
        ),
      { description: 'queueStats on instance 2 to count every instance' },
    );
  });
});

describe('configuration and tokens are in force on every instance', () => {
  test('configureSmtp on one instance: the others answer it and deliver with it', async (t) => {
    const defer = cleanupStack(t);
    const other = await startTestSmtpServer(t);
    defer(() => other.close());
    const beforeChange = smtp.receivedCount;
    const changedAt = performance.now();
    const configured = await instances[0]!.gql(
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { fromAddress } }`,
      {
        input: {
          connectionUri: `smtp://${other.host}:${other.port}/?disable_starttls=true`,
          fromAddress: 'changed@instances.test',
        },
      },
    );
    assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
    const propagationMs: number[] = [];
    for (const service of instances.slice(1)) {
      await waitFor(
        async () =>
          (await service.gql(`{ smtpConfig { fromAddress } }`)).data.smtpConfig.fromAddress ===
          'changed@instances.test',
        { intervalMs: 10, description: 'the new configuration on another instance' },
      );
      propagationMs.push(Math.round(performance.now() - changedAt));
    }
    // Mail sent through each instance, one at a time (each wakes its own worker first), goes
    // to the new server only.
    for (const [index, service] of instances.entries()) {
      const sent = await service.gql(
        `mutation { sendEmail(input: { to: "after-change-${index}@example.com", subject: "s", text: "t" }) { messageId } }`,
      );
      const messageId: string = sent.data.sendEmail.messageId;
      await waitFor(() => other.received.some((m) => m.raw.includes(messageId)), {
        description: `instance ${index}'s message at the new server`,
      });
    }
    assert.equal(smtp.receivedCount, beforeChange, 'nothing went to the old server');
    assert.ok(other.received.every((m) => m.from === 'changed@instances.test'));
    t.diagnostic(`figures: configPropagationMs=${propagationMs.join('/')}`);
  });

  test('a token made on one instance works on the others at once; its revocation closes its sockets everywhere', async (t) => {
    const defer = cleanupStack(t);
    const created = await instances[0]!.gql(
      `mutation { createApiToken(name: "shared", scope: READ) { token apiToken { id } } }`,
    );
    const { token, apiToken } = created.data.createApiToken;
    for (const [index, service] of instances.entries()) {
      const viewer = await graphqlRequest(
        `${service.url}/graphql`,
        `{ viewer { scope tokenName } }`,
        {},
        token,
      );
      assert.deepEqual(
        viewer.data?.viewer,
        { scope: 'READ', tokenName: 'shared' },
        `instance ${index}`,
      );
    }

    // A live subscription with the token on every instance.
    let revokedAt = 0;
    const sockets = instances.map((service) => {
      const socket = new WebSocket(
        `${service.url.replace('http', 'ws')}/graphql`,
        'graphql-transport-ws',
      );
      defer(() => socket.terminate());
      const frames: string[] = [];
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      socket.on('message', (data) => frames.push(String(data)));
      socket.on('open', () =>
        socket.send(
          JSON.stringify({
            type: 'connection_init',
            payload: { authorization: `Bearer ${token}` },
          }),
        ),
      );
      const entry = { socket, frames, code: null as number | null, closedAfterMs: 0 };
      void closed.then((code) => {
        entry.code = code;
        entry.closedAfterMs = Math.round(performance.now() - revokedAt);
      });
      return entry;
    });
    for (const entry of sockets) {
      await waitFor(() => entry.frames.some((f) => f.includes('connection_ack')));
      entry.socket.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: 'subscription { messageEvents(after: "0") { cursor } }' },
        }),
      );
      await waitFor(() => entry.frames.some((f) => f.includes('"next"')));
    }

    revokedAt = performance.now();
    const revoked = await instances[1]!.gql(
      `mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`,
      { id: apiToken.id },
    );
    assert.ok(revoked.data.revokeApiToken.revokedAt);
    await waitFor(() => sockets.every((entry) => entry.code !== null), {
      description: "the token's sockets to close on every instance",
    });
    assert.deepEqual(
      sockets.map((entry) => entry.code),
      [4403, 4403, 4403],
      'closed with 4403 on every instance',
    );
    for (const [index, service] of instances.entries()) {
      const refused = await graphqlRequest(
        `${service.url}/graphql`,
        `{ viewer { scope } }`,
        {},
        token,
      );
      assert.equal(refused.status, 401, `instance ${index} still takes the revoked token`);
    }
    t.diagnostic(
      `figures: revocationClosedSocketsAfterMs=${sockets.map((s) => s.closedAfterMs).join('/')}`,
    );
  });
});
