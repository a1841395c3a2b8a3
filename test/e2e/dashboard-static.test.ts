import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createStaticHandler } from '../../src/http/static.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';

// The dashboard's file serving, against a small build written here (the real build is exercised
// by test/browser). Raw node:http requests, so paths reach the server exactly as written.

const scratch = tempDir(fileScope);
const dist = { path: join(scratch.path, 'dist') };
const empty = { path: join(scratch.path, 'empty') };

const ASSET = 'index-AbC123.js';

function serve(root: string): Promise<Server> {
  const handler = createStaticHandler(root);
  const server = createServer((request, response) => {
    if (!handler(request, response)) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"not":"static"}');
    }
  });
  closeWith(fileScope, () => new Promise((resolve) => server.close(resolve)));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function get(server: Server, path: string, method = 'GET') {
  const { port } = server.address() as AddressInfo;
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, path, method }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      });
      request.on('error', reject);
      request.end();
    },
  );
}

let built: Server;
let unbuilt: Server;
before(async () => {
  mkdirSync(join(dist.path, 'assets'), { recursive: true });
  mkdirSync(empty.path);
  writeFileSync(join(dist.path, 'index.html'), '<!doctype html><title>mailscope</title>');
  writeFileSync(join(dist.path, 'assets', ASSET), 'console.log(1)');
  writeFileSync(join(dist.path, 'favicon.svg'), '<svg/>');
  // A secret next to the build that no URL may reach.
  writeFileSync(join(dist.path, '..', 'outside-secret.txt'), 'secret');
  built = await serve(dist.path);
  unbuilt = await serve(empty.path);
});

describe('the dashboard files', () => {
  test('/ is index.html, revalidated on every load, with a CSP', async () => {
    const response = await get(built, '/');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(response.body, /<title>mailscope/);
  });

  test('hashed assets are cached for a year with their content type', async () => {
    const response = await get(built, `/assets/${ASSET}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(response.body, 'console.log(1)');
    const icon = await get(built, '/favicon.svg');
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  test('HEAD answers headers without a body', async () => {
    const response = await get(built, `/assets/${ASSET}`, 'HEAD');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-length'], String('console.log(1)'.length));
    assert.equal(response.body, '');
  });

  test('client routes get the app; a missing asset is a 404', async () => {
    const route = await get(built, '/messages/42?status=SENT');
    assert.equal(route.status, 200);
    assert.match(route.body, /<title>mailscope/);
    const missing = await get(built, '/assets/index-Missing.js');
    assert.equal(missing.status, 404);
  });

  test('no path leaves the build directory', async () => {
    for (const path of [
      '/../outside-secret.txt',
      '/assets/../../outside-secret.txt',
      '/%2e%2e/outside-secret.txt',
      '/..%2Foutside-secret.txt',
      '/..%5Coutside-secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2foutside-secret.txt',
      '/%00.html',
      '/%E0%A4%A.txt',
    ]) {
      const response = await get(built, path);
      assert.ok(!response.body.includes('secret'), `${path} leaked a file outside the build`);
      assert.ok([200, 404].includes(response.status), `${path} answered ${response.status}`);
    }
  });

  test('other methods are left to the server', async () => {
    const response = await get(built, '/', 'POST');
    assert.equal(response.status, 404);
    assert.equal(response.body, '{"not":"static"}');
  });

  test('without a build, / says how to build it', async () => {
    assert.deepEqual(readdirSync(empty.path), []);
    const response = await get(unbuilt, '/');
    assert.equal(response.status, 503);
    assert.match(response.body, /npm run build/);
    assert.equal(existsSync(join(empty.path, 'index.html')), false);
  });
});
