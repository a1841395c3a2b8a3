// One graphql-ws subscriber of messageEvents for the PostgreSQL scenario's lag part, in a process
// of its own so that its event loop is not the one sending the load. Remembers when each
// message's first QUEUED and first SENT event arrived (clock.ts's clock) and reports them over
// IPC on request: 'ready' once the connection is acknowledged.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { answerClockPings, clockNow } from './lib/clock.ts';

const { url, statuses } = JSON.parse(process.argv[2]!) as {
  url: string;
  /** Subscribe to these statuses only; null for every event. */
  statuses: string[] | null;
};
const QUERY = `subscription ($filter: MessageFilter) {
  messageEvents(filter: $filter) { status message { id messageId } }
}`;

/** Message id -> when its first QUEUED event arrived. */
const queued = new Map<string, number>();
/** Message id -> [when its SENT event arrived, its Message-ID header]. */
const sent = new Map<string, [number, string]>();
let events = 0;
let problem: string | null = null;

/** An Error's message, or a CloseEvent's code and reason (what graphql-ws reports). */
function describe(error: unknown): string {
  const { message, code, reason } = (error ?? {}) as {
    message?: string;
    code?: number;
    reason?: string;
  };
  return (
    message ?? (code !== undefined ? `closed with ${code} ${reason ?? ''}`.trim() : String(error))
  );
}

const client = createClient({
  url: url.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  onNonLazyError: (error) => {
    problem ??= `connection failed: ${describe(error)}`;
  },
  on: { connected: () => process.send!({ type: 'ready' }) },
});
client.subscribe<{
  messageEvents: { status: string; message: { id: string; messageId: string } };
}>(
  { query: QUERY, variables: { filter: statuses ? { status: statuses } : null } },
  {
    next: ({ data, errors }) => {
      const at = clockNow();
      if (!data) {
        problem ??= `an event with errors: ${JSON.stringify(errors)}`;
        return;
      }
      events++;
      const { status, message } = data.messageEvents;
      if (status === 'QUEUED') {
        if (!queued.has(message.id)) queued.set(message.id, at);
      } else if (status === 'SENT') {
        if (!sent.has(message.id)) sent.set(message.id, [at, message.messageId]);
      }
    },
    error: (error) => {
      problem ??= `subscription failed: ${describe(error)}`;
    },
    complete: () => {
      problem ??= 'the service completed the subscription';
    },
  },
);
answerClockPings();

// The bench is gone (killed): nothing will ask for a report or close this process.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: { type: string }) => {
  if (message.type === 'report') {
    process.send!({
      type: 'report',
      events,
      problem,
      queued: [...queued],
      sent: [...sent].map(([id, [at, messageId]]) => [id, at, messageId]),
    });
  } else if (message.type === 'close') {
    void Promise.resolve(client.dispose()).finally(() => process.exit(0));
  }
});
