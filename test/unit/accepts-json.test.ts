import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsJson } from '../../src/http/accepts-json.ts';

test('an Accept header admits a JSON answer, or does not', () => {
  for (const accept of [
    undefined,
    '',
    '*/*',
    'application/json',
    'Application/JSON; charset=utf-8',
    'application/graphql-response+json, application/json;q=0.9',
    'text/html, application/*;q=0.1',
    'text/event-stream, */*;q=0.5',
  ]) {
    assert.equal(acceptsJson(accept), true, String(accept));
  }
  for (const accept of [
    'text/event-stream',
    'text/html, text/plain',
    'application/json;q=0',
    'multipart/mixed',
    'application/xml',
  ]) {
    assert.equal(acceptsJson(accept), false, accept);
  }
});
