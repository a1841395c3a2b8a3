import net from 'node:net';
import { closeWith, type Scope } from './scope.ts';

export interface TcpProxy {
  host: string;
  port: number;
  /** `http://host:port`, for a service behind it. */
  url: string;
  /**
   * Where connections go from now on. Null: every new connection is reset as it arrives, and
   * so are the open ones: for clients, a server that is down.
   */
  setTarget(target: { port: number; host?: string } | null): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 (an ephemeral port it keeps for its life), as a load balancer in
 * front of a server: a server can go down and come back behind it on a new port, and clients
 * that reconnect to the same address find it. (Giving the port up and listening on it again
 * later races with every other process on the machine picking an ephemeral port.) Closed when
 * `scope` ends.
 */
export async function startTcpProxy(scope: Scope): Promise<TcpProxy> {
  let target: { port: number; host: string } | null = null;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (target === null) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => {});
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side going away takes the other with it, as a closed server's socket would.
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    }));
  closeWith(scope, close);
  return {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    setTarget(next) {
      target = next === null ? null : { host: next.host ?? '127.0.0.1', port: next.port };
      if (next === null) {
        for (const [client, upstream] of pairs) {
          client.resetAndDestroy();
          upstream.destroy();
        }
      }
    },
    close,
  };
}
