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
  // A refused token (4401/4403) stays refused: say so at once rather than retry for a minute.
  shouldRetry: (event) => !isCloseEvent(event) || (event.code !== 4401 && event.code !== 4403),
});

function isCloseEvent(event: unknown): event is { code: number; reason: string } {
  return typeof event === 'object' && event !== null && 'code' in event && 'reason' in event;
}

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
      if (isCloseEvent(error)) {
        const refused = error.code === 4401 || error.code === 4403;
        console.error(
          `connection closed: ${error.code} ${error.reason}${refused ? ' (set MAILSCOPE_TOKEN to a READ or ADMIN token)' : ''}`,
        );
      } else {
        console.error('subscription failed:', error instanceof Error ? error.message : error);
      }
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
