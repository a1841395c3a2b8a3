import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { ComposedMessage } from '../../src/smtp/compose.ts';
import {
  createConnectionPool,
  type ConnectionPool,
  type ConnectionPoolOptions,
} from '../../src/smtp/connection-pool.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The pool's own rules (src/smtp/connection-pool.ts), against a real smtp-server. The transport
// tests cover TLS, AUTH, transcripts and error classification on top of it.

const server = startTestSmtpServer;

/** A pool to `smtp`, closed (forced) when `scope` ends. */
function pool(
  scope: Scope,
  smtp: TestSmtpServer,
  options: Partial<ConnectionPoolOptions> = {},
): ConnectionPool {
  const created = createConnectionPool({
    connection: {
      host: smtp.host,
      port: smtp.port,
      ignoreTLS: true,
      connectionTimeout: 3_000,
      greetingTimeout: 3_000,
      socketTimeout: 3_001,
    },
    auth: null,
    maxConnections: 2,
    maxRequeues: 1,
    keepTranscripts: true,
    ...options,
  });
  closeWith(scope, () => created.close({ force: true }));
  return created;
}

let sequence = 0;
function message(to = `rcpt${++sequence}@example.test`): ComposedMessage {
  const id = `<pool-${sequence}@example.test>`;
  return {
    envelope: { from: 'sender@example.test', to: [to] },
    raw: Buffer.from(`From: sender@example.test\r\nTo: ${to}\r\nMessage-ID: ${id}\r\n\r\nHi\r\n`),
  };
}

describe('connection pool', () => {
  test('20 sends at once share at most maxConnections connections, all delivered', async (t) => {
    const smtp = await server(t);
    const connections = pool(t, smtp, { maxConnections: 3 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => connections.send(message())),
    );
    assert.ok(results.every((result) => result.ok));
    assert.equal(smtp.receivedCount, 20);
    assert.equal(smtp.connectionCount, 3);
    assert.equal(connections.size, 3);
  });

  test('a rejected recipient resets the session and the connection is used again', async (t) => {
    const smtp = await server(t, {
      rejectRecipients: (address) =>
        address.startsWith('nobody') ? { code: 550, message: '5.1.1 No such user' } : null,
    });
    const connections = pool(t, smtp, { maxConnections: 1 });
    const rejected = await connections.send(message('nobody@example.test'));
    assert.equal(rejected.ok, false);
    assert.equal((rejected as { error: { responseCode?: number } }).error.responseCode, 550);
    const next = await connections.send(message());
    assert.equal(next.ok, true);
    assert.equal(smtp.connectionCount, 1, 'the same connection, after RSET');
    assert.ok(smtp.events.includes('RSET'));
  });

  test('a reused connection found dead before the message left is retried on a new one, at most maxRequeues times', async (t) => {
    let drop = false;
    const smtp = await server(t, {
      // Every second transaction of a session finds the connection gone.
      mailFromFault: ({ transaction }) => (drop && transaction >= 2 ? 'close' : null),
    });
    for (const [maxRequeues, expectOk] of [
      [1, true],
      [0, false],
    ] as const) {
      drop = false;
      const connections = pool(t, smtp, { maxConnections: 1, maxRequeues });
      assert.equal((await connections.send(message())).ok, true);
      drop = true;
      const before = smtp.connectionCount;
      const result = await connections.send(message());
      assert.equal(result.ok, expectOk, `maxRequeues ${maxRequeues}`);
      if (expectOk) {
        assert.equal(smtp.connectionCount, before + 1, 'sent on a new connection');
        // The transcript is the new connection's, not the dead one's.
        assert.equal(result.transcript?.note, null);
      } else {
        assert.equal((result as { error: { code?: string } }).error.code, 'ECONNECTION');
      }
      connections.close();
    }
  });

  test('a setup failure fails only the send it was opened for', async (t) => {
    const smtp = await server(t);
    let refused = 0;
    const connections = pool(t, smtp, {
      maxConnections: 1,
      // The destination guard's hook: the first two connections are refused before dialling.
      getSocket: (_options, callback) => {
        if (refused++ < 2) callback(Object.assign(new Error('not allowed'), { code: 'EDENIED' }));
        else callback(null, false);
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => connections.send(message())));
    assert.deepEqual(
      results.map((result) => (result.ok ? 'sent' : (result.error as Error).message)),
      ['not allowed', 'not allowed', 'sent'],
    );
    assert.equal(smtp.connectionCount, 1);
  });

  test('close() fails the waiting sends at once and lets the one in progress finish', async (t) => {
    let releaseReply!: () => void;
    const replyReleased = new Promise<void>((resolve) => (releaseReply = resolve));
    const smtp = await server(t, { beforeAccept: () => replyReleased });
    const connections = pool(t, smtp, { maxConnections: 1 });
    const inProgress = connections.send(message());
    const waiting = connections.send(message());
    await waitFor(() => smtp.events.includes('DATA'), {
      description: 'the first send to reach DATA',
    });
    connections.close();
    // The server still holds its reply to the first, so the waiting one is refused first.
    const refused = await waiting;
    assert.equal(refused.ok, false);
    assert.match(String((refused as { error: Error }).error.message), /closed/);
    assert.equal((await connections.send(message())).ok, false, 'a closed pool sends nothing');

    releaseReply();
    const first = await inProgress;
    assert.equal(first.ok, true, `the send in progress was cut off: ${JSON.stringify(first)}`);
    assert.equal(smtp.receivedCount, 1);
    // Then its connection says goodbye and goes.
    await waitFor(() => smtp.events.includes('QUIT') && smtp.openConnections === 0, {
      description: 'the connection to QUIT',
    });
    assert.equal(connections.size, 0);
  });

  test('close({ force: true }) fails the send in progress and the waiting ones at once', async (t) => {
    const smtp = await server(t, { stall: 'data' });
    const connections = pool(t, smtp, { maxConnections: 1 });
    const stalled = connections.send(message());
    const queued = connections.send(message());
    await waitFor(() => smtp.events.some((line) => line === 'DATA'), {
      description: 'the first send to reach DATA',
    });
    connections.close({ force: true });
    const [first, second] = await Promise.all([stalled, queued]);
    assert.equal(first.ok, false);
    assert.equal(second.ok, false);
    assert.equal((await connections.send(message())).ok, false, 'a closed pool sends nothing');
    assert.equal(connections.size, 0);
    assert.equal(smtp.receivedCount, 0);
  });
  test('a message and the "." that ends its DATA leave in one write to the socket', async (t) => {
    const smtp = await server(t);
    /** What the socket handed the kernel, one entry per write. */
    const writes: string[] = [];
    const connections = pool(t, smtp, {
      maxConnections: 1,
      getSocket: (_options, callback) => {
        const socket = net.connect(smtp.port, smtp.host);
        const write = socket._write.bind(socket);
        const writev = socket._writev!.bind(socket);
        socket._write = (chunk: Buffer, encoding, done) => {
          writes.push(String(chunk));
          write(chunk, encoding, done);
        };
        socket._writev = (chunks, done) => {
          writes.push(chunks.map(({ chunk }) => String(chunk)).join(''));
          writev(chunks, done);
        };
        socket.once('connect', () => callback(null, { connection: socket }));
      },
    });
    for (let round = 0; round < 2; round++) {
      const sent = message();
      const result = await connections.send(sent);
      assert.equal(result.ok, true);
      const data = writes.filter((chunk) => chunk.includes('Message-ID:') || chunk.startsWith('.'));
      assert.deepEqual(data, [`${sent.raw.toString()}.\r\n`], 'the bytes and the end, together');
      writes.length = 0;
    }
    assert.equal(smtp.receivedCount, 2);
    assert.equal(smtp.connectionCount, 1);
  });
});
