// Prints message events as they happen: `npm run watch-events [-- <cursor>]`.
// Uses MAILSCOPE_URL (default http://127.0.0.1:4000) and API_TOKEN when set.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env['MAILSCOPE_URL'] ?? 'http://127.0.0.1:4000';
const token = process.env['API_TOKEN'];
const after = process.argv[2] ?? null;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
});

client.subscribe(
  {
    query: `subscription ($after: String) {
      messageEvents(after: $after) {
        cursor at status
        message { id recipient subject attempts }
        error { code responseCode enhancedStatus command response permanent hint }
      }
    }`,
    variables: { after },
  },
  {
    next: (value) => console.log(JSON.stringify(value.data?.['messageEvents'] ?? value)),
    error: (error) => {
      console.error('subscription failed:', error);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
