import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayCall } from '../../src/graphql/authorize.ts';

test('scopes: SEND may call sendEmail and sendEmails only', () => {
  const rows: [string, string, { admin: boolean; read: boolean; send: boolean }][] = [
    ['Mutation', 'sendEmail', { admin: true, read: false, send: true }],
    ['Mutation', 'sendEmails', { admin: true, read: false, send: true }],
    ['Mutation', 'sendTestEmail', { admin: true, read: false, send: false }],
    ['Mutation', 'configureSmtp', { admin: true, read: false, send: false }],
    ['Mutation', 'createApiToken', { admin: true, read: false, send: false }],
    ['Query', 'messages', { admin: true, read: true, send: false }],
    ['Query', 'viewer', { admin: true, read: true, send: false }],
    ['Query', 'apiTokens', { admin: true, read: false, send: false }],
    ['Query', 'verifySmtp', { admin: true, read: false, send: false }],
    ['Subscription', 'messageEvents', { admin: true, read: true, send: false }],
  ];
  for (const [type, field, expected] of rows) {
    for (const scope of ['admin', 'read', 'send'] as const) {
      assert.equal(mayCall(scope, type, field), expected[scope], `${scope} ${type}.${field}`);
    }
  }
});
