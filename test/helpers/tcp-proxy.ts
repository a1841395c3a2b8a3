import net from 'node:net';
import { closeWith, type Scope } from './scope.ts';
import { createTestDatabase } from './storage.ts';

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
  /**
   * A path that silently drops everything (a dead route, a firewall that forgot the
   * connection): open connections stay open but no byte crosses them again, in either
   * direction, and new ones are accepted and then hear nothing. No reset, no FIN: only a
   * timeout on the client's side notices. `setTarget` restores new connections; the ones that
   * lost bytes stay dead (their protocol state is gone), open until either end closes them.
   */
  blackhole(): void;
  /** Blackholed connections still open (the client has not given up on them yet). */
  deadConnections(): number;
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
  let blackholed = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  /** Connections that hear nothing: accepted while blackholed, or open when it began. */
  const silent = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (blackholed) {
      silent.add(client);
      client.on('data', () => {});
      client.once('close', () => silent.delete(client));
      return;
    }
    if (target === null) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => {});
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    // Not pipe(): a blackholed pair must keep reading (and dropping) what either side sends.
    client.on('data', (chunk) => {
      if (!silent.has(client)) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent.has(client)) client.write(chunk);
    });
    // Either side going away takes the other with it, as a closed server's socket would.
    const end = () => {
      pairs.delete(pair);
      silent.delete(client);
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
      for (const client of silent) client.destroy();
    }));
  closeWith(scope, close);
  return {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    setTarget(next) {
      blackholed = false;
      target = next === null ? null : { host: next.host ?? '127.0.0.1', port: next.port };
      if (next === null) {
        for (const [client, upstream] of pairs) {
          client.resetAndDestroy();
          upstream.destroy();
        }
      }
    },
    blackhole() {
      blackholed = true;
      for (const [client] of pairs) silent.add(client);
    },
    deadConnections: () => silent.size,
    close,
  };
}

/**
 * A PostgreSQL database of the test's own, reached through a TCP proxy: `url` goes through the
 * proxy (what the service is given), `upstream` is where the proxy forwards (set it back after a
 * cut). Both are removed when `scope` ends.
 */
export async function databaseBehindProxy(scope: Scope) {
  const database = await createTestDatabase('postgres');
  closeWith(scope, () => database.remove());
  const proxy = await startTcpProxy(scope);
  const direct = new URL(database.env.DATABASE_URL!);
  const upstream = { port: Number(direct.port || 5432), host: direct.hostname };
  proxy.setTarget(upstream);
  const behindProxy = new URL(direct);
  behindProxy.host = `${proxy.host}:${proxy.port}`;
  return { database, proxy, upstream, url: behindProxy.toString() };
}
