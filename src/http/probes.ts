import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../ops/metrics.ts';
import type { Readiness } from '../ops/readiness.ts';

export interface ProbeDeps {
  readiness: Readiness;
  metrics: Pick<Metrics, 'contentType' | 'render'>;
  /** Bearer token /metrics requires, or null to leave it open (it holds counts, no secrets). */
  metricsToken: string | null;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** "Bearer <token>", compared in constant time (METRICS_TOKEN is not the API token). */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  // The scheme is case-insensitive (RFC 7235); the token is compared in constant time.
  const given = authorization?.replace(/^bearer /i, 'Bearer ');
  return given !== undefined && timingSafeEqual(digest(given), digest(`Bearer ${token}`));
}

/** Handles a request for an operations endpoint. */
export type ProbeRoutes = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * GET /readyz and GET /metrics: for load balancers, orchestrators and Prometheus, which call
 * without the API token. Returns false for any other request, which the server then handles.
 */
export function createProbeRoutes(deps: ProbeDeps): ProbeRoutes {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/readyz' && path !== '/metrics') return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    if (path === '/readyz') {
      deps.readiness.check().then(
        (report) => {
          const body = JSON.stringify(report);
          response.writeHead(report.ready ? 200 : 503, {
            'content-type': 'application/json; charset=utf-8',
            'cache-control': 'no-store',
          });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        () => {
          response.writeHead(503, { 'content-type': 'text/plain' }).end('readiness failed\n');
        },
      );
      return true;
    }
    if (
      deps.metricsToken !== null &&
      !bearerMatches(request.headers.authorization, deps.metricsToken)
    ) {
      response.writeHead(401, { 'www-authenticate': 'Bearer' }).end('missing or wrong token\n');
      return true;
    }
    deps.metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': deps.metrics.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
    return true;
  };
}
