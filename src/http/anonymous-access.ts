import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config.ts';

/**
 * Headers reverse proxies add. nginx, Caddy, Traefik, Apache and HAProxy each send one or more
 * (nginx only when configured; by default it forwards nothing and says `Host: 127.0.0.1`, which
 * is why the README says a proxy needs API_TOKEN).
 */
const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
] as const;

/**
 * Why an anonymous caller (no token configured anywhere) may not be served, or null when it may.
 * Without any token the service trusts callers on this machine, and both the socket's address
 * and `Host` can say "loopback" for a caller that is not:
 * - a reverse proxy on the same host connects from 127.0.0.1 on behalf of anyone; it announces
 *   itself with forwarding headers;
 * - a web page reaches a loopback service through DNS rebinding (its own name resolving to
 *   127.0.0.1) and is then "same origin"; its requests carry that name in `Host`.
 */
export function anonymousRefusal(request: IncomingMessage): string | null {
  const forwarded = FORWARDING_HEADERS.find((name) => request.headers[name] !== undefined);
  if (forwarded !== undefined) {
    return `this request came through a proxy (${forwarded} header): anonymous access is only for callers on this machine; set API_TOKEN and send it as a bearer token`;
  }
  if (!hostIsLoopback(request)) {
    return 'anonymous access needs a loopback name in Host (e.g. 127.0.0.1 or localhost); set API_TOKEN to serve other names';
  }
  return null;
}

function hostIsLoopback(request: IncomingMessage): boolean {
  const host = request.headers.host;
  if (host === undefined) return true; // HTTP/1.0 clients; no browser omits Host
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return isLoopbackHost(name);
}
