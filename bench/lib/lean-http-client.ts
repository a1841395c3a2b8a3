import net from 'node:net';

/**
 * A load generator's HTTP/1.1 client, as lean as wrk's or autocannon's: one request at a time on
 * each of a few kept-alive sockets, requests written as one buffer, responses parsed just enough
 * to find the status and the body (Content-Length framing only, which is what node:http sends for
 * a buffered GraphQL response). The bench and the service share the machine's two cores, so
 * every microsecond the client spends is one the service cannot; node:http's client costs ~90 µs
 * per request here.
 */
export interface LeanHttpClient {
  /** POSTs `body` (JSON) to `path`; resolves with the status and the response body. */
  post(path: string, body: string): Promise<{ status: number; text: string }>;
  close(): void;
}

interface Pending {
  request: Buffer;
  resolve: (response: { status: number; text: string }) => void;
  reject: (error: Error) => void;
}

class Connection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private current: Pending | null = null;
  private readonly onIdle: (connection: Connection) => void;
  /** Connected at some point: one that never did is not replaced when it closes. */
  connected = false;
  closed = false;

  constructor(
    host: string,
    port: number,
    onIdle: (connection: Connection) => void,
    onClosed: (connection: Connection) => void,
  ) {
    this.onIdle = onIdle;
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.fail(error));
    // A closed socket says nothing more, so what was in flight fails now and the connection
    // leaves the pool (the server closes keep-alive sockets idle for 5 s).
    this.socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
      onClosed(this);
    });
  }

  send(pending: Pending): void {
    if (this.closed) {
      pending.reject(new Error('connection closed'));
      return;
    }
    this.current = pending;
    this.socket.write(pending.request);
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    const pending = this.current;
    this.current = null;
    pending?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headerEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.fail(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
      return;
    }
    const bodyStart = headerEnd + 4;
    const bodyEnd = bodyStart + Number(length[1]);
    if (this.buffered.length < bodyEnd) return;
    const status = Number(head.slice(9, 12));
    const text = this.buffered.toString('utf8', bodyStart, bodyEnd);
    this.buffered = this.buffered.subarray(bodyEnd);
    const pending = this.current!;
    this.current = null;
    pending.resolve({ status, text });
    this.onIdle(this);
  }
}

export function createLeanHttpClient(url: string, connections: number): LeanHttpClient {
  const { hostname, port } = new URL(url);
  const host = `${hostname}:${port}`;
  const idle: Connection[] = [];
  const waiting: Pending[] = [];
  const all = new Set<Connection>();
  let closing = false;
  const onIdle = (connection: Connection) => {
    const next = waiting.shift();
    if (next) connection.send(next);
    else idle.push(connection);
  };
  // A connection the server closed is replaced, so the client keeps its width.
  const onClosed = (connection: Connection) => {
    all.delete(connection);
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    if (!closing && connection.connected) onIdle(open());
    if (all.size === 0) {
      for (const pending of waiting.splice(0)) pending.reject(new Error('no connection left'));
    }
  };
  const open = () => {
    const connection = new Connection(hostname, Number(port), onIdle, onClosed);
    all.add(connection);
    return connection;
  };
  for (let i = 0; i < connections; i++) idle.push(open());
  return {
    post(path, body) {
      return new Promise((resolve, reject) => {
        const request = Buffer.from(
          `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
        );
        const pending = { request, resolve, reject };
        if (all.size === 0) {
          reject(new Error(closing ? 'client closed' : 'no connection left'));
          return;
        }
        // The longest idle first: under a light load (a paced scenario) every socket is used
        // now and then, so none reaches the server's keep-alive timeout and is closed just as a
        // request is written to it.
        const connection = idle.shift();
        if (connection) connection.send(pending);
        else waiting.push(pending);
      });
    },
    close() {
      closing = true;
      for (const connection of all) connection.close();
      for (const pending of waiting.splice(0)) pending.reject(new Error('client closed'));
    },
  };
}
