// Prints message events as they happen: `npm run watch-events [-- <cursor>]`.
// Connects where the CLI does: MAILSCOPE_URL, else http://127.0.0.1:$PORT (4000); with
// MAILSCOPE_TOKEN, else API_TOKEN, when set.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const env = process.env;
const base = env['MAILSCOPE_URL'] || `http://127.0.0.1:${env['PORT'] || '4000'}`;
const token = env['MAILSCOPE_TOKEN'] || env['API_TOKEN'];
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
