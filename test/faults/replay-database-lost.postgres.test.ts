import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startService, subscribe, wsClient } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A subscriber replaying the log (`after`) when PostgreSQL becomes unreachable. Each event's
// message is read as it goes out; an event whose read failed must not go out spoiled (data null,
// an error) while the stream goes on, or the client, resuming after its last cursor as it is
// told to, never gets that event. The stream ends instead, and resuming from the last cursor
// once the database is back leaves no gap and no repeat.

type Event = { messageEvents: { cursor: string; message: { id: string } } };
const FEED = `subscription ($after: String) { messageEvents(after: $after) { cursor message { id } } }`;

test('replaying when the database goes away: the stream ends, and resuming leaves no gap', async (t) => {
  const { proxy, upstream, url: behindProxy } = await databaseBehindProxy(t);
  const smtp = await startTestSmtpServer(t);
  const svc = await startService(t, {
    DATABASE_URL: behindProxy,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  // 2,000 messages, 6,000 events (QUEUED, PROCESSING, SENT) to replay.
  const inputs = Array.from({ length: 1_000 }, (_, i) => ({
    to: `r${i}@example.com`,
    subject: 's',
    text: 't',
  }));
  for (let round = 0; round < 2; round++) {
    const sent = await svc.gql(
      `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
      {
        inputs,
      },
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  }
  await waitFor(() => smtp.receivedCount === 2_000, {
    timeoutMs: 60_000,
    description: 'every message sent',
  });
  const whole = subscribe<Event>(wsClient(t, svc.url), FEED, { after: '0' });
  await waitFor(() => whole.received.length >= 6_000, { description: 'the whole log' });
  const all = whole.received.map((event) => event.messageEvents.cursor);
  whole.unsubscribe();

  // The replay, cut once it is under way.
  const replay = subscribe<Event>(wsClient(t, svc.url), FEED, { after: '0' });
  await waitFor(() => replay.received.length >= 50, { description: 'the replay under way' });
  proxy.setTarget(null);
  await waitFor(() => replay.closed, { timeoutMs: 30_000, description: 'the replay to end' });
  const spoiled = replay.errors.filter((error) => !Array.isArray(error));
  assert.deepEqual(spoiled, [], 'no event went out spoiled while the stream went on');
  assert.ok(replay.received.length < all.length, 'the outage cut the replay short');
  const ended = replay.errors.flat()[0] as { extensions?: { code?: string } } | undefined;
  assert.equal(ended?.extensions?.code, 'SERVICE_UNAVAILABLE');

  proxy.setTarget(upstream);
  const got = replay.received.map((event) => event.messageEvents.cursor);
  const resumed = (await waitFor(
    async () => {
      const again = subscribe<Event>(wsClient(t, svc.url), FEED, { after: got.at(-1) });
      await waitFor(() => again.closed || again.received.length >= all.length - got.length, {
        description: 'the rest of the log',
      });
      again.unsubscribe();
      return !again.closed && again.received.map((event) => event.messageEvents.cursor);
    },
    { timeoutMs: 30_000, description: 'a resumed replay once the database answers' },
  )) as string[];
  assert.deepEqual([...got, ...resumed], all, 'the replay and its resumption: the whole log, once');
});
