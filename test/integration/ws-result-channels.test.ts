import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import { createResultChannels } from '../../src/http/ws-result-channels.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Result channels write graphql-ws `next` messages straight to a real socket: byte for byte what
// graphql-ws itself would send, each result serialised once for every channel it goes to.

/** A WebSocket server and a client connected to it, closed when `scope` ends. */
async function socketPair(scope: Scope, options: { paused?: boolean; deflate?: boolean } = {}) {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: options.deflate ?? false,
  });
  let client: WebSocket | null = null;
  closeWith(scope, async () => {
    client?.terminate();
    await new Promise((resolve) => server.close(resolve));
  });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  let tcp: Socket | null = null;
  client = new WebSocket(`ws://127.0.0.1:${port}`, {
    createConnection: () => (tcp = connect(port, '127.0.0.1')),
  });
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await once(client, 'open');
  const [socket] = await accepted;
  // A client that stops reading: what is written piles up in the kernel, then in the server.
  if (options.paused) tcp!.pause();
  return { socket, client, received };
}

/** As the server's onNext hook: errors formatted (here, masked), results without them as they are. */
function maskingFormat() {
  const formatted: ExecutionResult[] = [];
  const format = (result: ExecutionResult) => {
    formatted.push(result);
    return result.errors
      ? { ...result, errors: result.errors.map(() => ({ message: 'Internal server error' })) }
      : result;
  };
  return { format, formatted };
}

test('a channel writes what graphql-ws would write, serialising a result once for all channels', async (t) => {
  const pair = await socketPair(t);
  const { format, formatted } = maskingFormat();
  const channels = createResultChannels(format);
  const a = channels.open(pair.socket, 'a-1');
  const b = channels.open(pair.socket, 'b "quoted" ✓');
  const shared: ExecutionResult = {
    data: { messageEvents: { status: 'SENT', to: 'ü@example.com' } },
  };
  const failed: ExecutionResult = {
    data: null,
    errors: [new GraphQLError('database is locked at /var/lib/secret.db')],
  };
  a.send(shared);
  b.send(shared);
  a.send(failed);
  await waitFor(() => pair.received.length === 3, { description: 'three messages' });

  assert.deepEqual(pair.received, [
    stringifyMessage({ id: 'a-1', type: MessageType.Next, payload: shared }),
    stringifyMessage({ id: 'b "quoted" ✓', type: MessageType.Next, payload: shared }),
    stringifyMessage({
      id: 'a-1',
      type: MessageType.Next,
      payload: { data: null, errors: [{ message: 'Internal server error' }] },
    }),
  ]);
  assert.deepEqual(formatted, [shared, failed], 'the shared result was formatted once');
});

// Each size class of a frame's length field (7 bits, 16 bits, 64 bits), at its edges, with and
// without permessage-deflate (which channels leave to ws).
for (const deflate of [false, true]) {
  test(`frames of every length reach a real client${deflate ? ', compressed' : ''}`, async (t) => {
    const pair = await socketPair(t, { deflate });
    assert.equal(pair.socket.extensions !== '', deflate);
    const channel = createResultChannels((result) => result).open(pair.socket, 's');
    const overhead = stringifyMessage({
      id: 's',
      type: MessageType.Next,
      payload: { data: { x: '' } },
    }).length;
    const lengths = [125, 126, 65_535, 65_536, 200_000];
    const results = lengths.map((length) => ({ data: { x: 'y'.repeat(length - overhead) } }));
    for (const result of results) channel.send(result);
    await waitFor(() => pair.received.length === lengths.length, { description: 'every frame' });
    assert.deepEqual(
      pair.received.map((text) => text.length),
      lengths,
    );
    assert.deepEqual(
      pair.received,
      results.map((payload) => stringifyMessage({ id: 's', type: MessageType.Next, payload })),
    );
  });
}

test('a closed socket takes nothing more, and a channel says so without throwing', async (t) => {
  const pair = await socketPair(t);
  const channel = createResultChannels((result) => result).open(pair.socket, '1');
  pair.client.close();
  await waitFor(() => pair.socket.readyState === WebSocket.CLOSED, {
    description: 'the server side to close',
  });
  assert.doesNotThrow(() => channel.send({ data: { n: 1 } }));
  assert.equal(pair.received.length, 0);
});

test('pendingBytes grows when the client stops reading, which is what stops a slow subscriber', async (t) => {
  const pair = await socketPair(t, { paused: true });
  const channel = createResultChannels((result) => result).open(pair.socket, 'slow');
  assert.equal(channel.pendingBytes(), 0);
  const big: ExecutionResult = { data: { blob: 'x'.repeat(100_000) } };
  // Loopback buffers take a few MiB before anything stays in the process.
  for (let i = 0; i < 1_000 && channel.pendingBytes() <= 1024 * 1024; i++) {
    channel.send({ ...big });
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(channel.pendingBytes() > 1024 * 1024, `pending ${channel.pendingBytes()} bytes`);
});
