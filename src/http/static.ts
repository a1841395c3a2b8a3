import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { resourcePath } from '../resources.ts';

/** Where `npm run build` writes the dashboard (web/dist). */
export const DASHBOARD_DIR = resourcePath('web/dist/');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

// The dashboard loads nothing from elsewhere and talks only to this server (graphql-ws included:
// 'self' covers same-origin ws: in CSP 3).
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>mailscope</title>
<h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds first), then reload.
GraphQL works meanwhile at <a href="/graphql">/graphql</a>.</p>
`;

/** A path inside `root` for the URL path, or null when it would leave `root` or is malformed. */
function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = normalize(decoded).replace(/^[/\\]+/, '');
  if (relative.split(/[/\\]/).includes('..')) return null;
  const full = join(root, relative);
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null;
}

async function fileAt(path: string | null): Promise<{ path: string; size: number } | null> {
  if (path === null) return null;
  try {
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size } : null;
  } catch {
    return null;
  }
}

function sendText(response: ServerResponse, status: number, type: string, body: string) {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

async function serve(root: string, request: IncomingMessage, response: ServerResponse) {
  const urlPath = new URL(request.url ?? '/', 'http://localhost').pathname;
  const index = await fileAt(join(root, 'index.html'));
  if (index === null) {
    sendText(response, 503, 'text/html; charset=utf-8', NOT_BUILT);
    return;
  }
  const requested = resolveInside(root, urlPath);
  let file = urlPath.endsWith('/') ? null : await fileAt(requested);
  // Client routes (no file extension) get the app; a missing asset is a plain 404.
  if (file === null) {
    if (requested === null || extname(urlPath) !== '') {
      sendText(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    file = index;
  }
  const immutable = file.path.startsWith(join(root, 'assets') + sep);
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream',
    'content-length': file.size,
    // Vite puts a content hash in every asset name, so they never change; index.html names the
    // current ones and must always be revalidated.
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/**
 * Serves the built dashboard for GET and HEAD; returns false for other methods so the caller
 * answers them. Only files inside `root` are ever read.
 */
export function createStaticHandler(root: string = DASHBOARD_DIR) {
  const normalizedRoot = normalize(root).replace(/[/\\]+$/, '');
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    serve(normalizedRoot, request, response).catch((error: unknown) => {
      console.error('http: static file failed', error);
      if (!response.headersSent) sendText(response, 500, 'text/plain', 'internal error\n');
      else response.destroy();
    });
    return true;
  };
}
