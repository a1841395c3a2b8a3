// Subscribers for the fan-out and memory scenarios, in a process of their own so that their
// CPU is not the bench's. Opens `count` graphql-ws connections, each with one messageEvents
// subscription, and reports over IPC: 'ready' once every connection is acknowledged, then
// per-event aggregates (how many subscribers got it and when the last one did) on request.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Job {
  url: string;
  count: number;
  /** Subscriber i gets variables.filter.recipient = recipients[i % length], when given. */
  recipients: string[] | null;
}

const job = JSON.parse(process.argv[2]!) as Job;
const QUERY = `subscription ($filter: MessageFilter) {
  messageEvents(filter: $filter) { cursor at status message { id recipient status attempts } }
}`;

/** cursor -> [event time ms, subscribers that received it, latest receive time ms, recipient] */
const seen = new Map<string, [number, number, number, string]>();
const clients: Client[] = [];
/** Subscribers whose connection has been acknowledged at least once. */
const acknowledged = new Set<number>();

for (let i = 0; i < job.count; i++) {
  const client = createClient({
    url: job.url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    lazy: false,
    // As a dashboard would: a connection refused or reset while thousands open at once retries.
    retryAttempts: 5,
    on: { connected: () => acknowledged.add(i) },
  });
  clients.push(client);
  const filter = job.recipients ? { recipient: job.recipients[i % job.recipients.length] } : null;
  client.subscribe<{
    messageEvents: { cursor: string; at: string; message: { recipient: string } };
  }>(
    { query: QUERY, variables: { filter } },
    {
      next: ({ data }) => {
        const now = Date.now();
        const event = data!.messageEvents;
        const entry = seen.get(event.cursor);
        if (entry) {
          entry[1]++;
          entry[2] = now;
        } else {
          seen.set(event.cursor, [Date.parse(event.at), 1, now, event.message.recipient]);
        }
      },
      error: (error) =>
        console.error('subscriber error:', (error as { message?: string }).message ?? error),
      complete: () => {},
    },
  );
}

const readyTimer = setInterval(() => {
  if (acknowledged.size < job.count) return;
  clearInterval(readyTimer);
  process.send!({ type: 'ready' });
}, 10);

process.on('message', (message: { type: string }) => {
  if (message.type === 'report') {
    process.send!({ type: 'report', events: [...seen.entries()] });
    seen.clear();
  } else if (message.type === 'close') {
    void Promise.all(clients.map((client) => client.dispose())).then(() => process.exit(0));
  }
});
