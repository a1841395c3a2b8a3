import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStorage } from '../../src/db/open-storage.ts';
import { closeWith } from '../helpers/scope.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';

// Mailgun's one-time tokens through the storage port: a token is new once, the same event under
// it again is a retry, another event a replay; on PostgreSQL every instance sees the same.

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

test(`webhook tokens are good once, on every instance (${TEST_DIALECT})`, async (t) => {
  const { storage, database } = await openTestStorage(t);
  const tokens = storage.webhookTokens;
  assert.equal(await tokens.claim('tok-1', 'event-a', T0, T0 - 1), 'new');
  assert.equal(await tokens.claim('tok-1', 'event-a', T0 + 1, T0 - 1), 'same');
  assert.equal(await tokens.claim('tok-1', 'event-b', T0 + 2, T0 - 1), 'reused');
  assert.equal(await tokens.claim('tok-2', 'event-b', T0 + 3, T0 - 1), 'new');
  // Forgotten once older than the cut-off (its timestamp would be refused by then).
  assert.equal(await tokens.claim('tok-3', 'event-c', T0 + 60_000, T0 + 10), 'new');
  assert.equal(await tokens.claim('tok-1', 'event-b', T0 + 60_001, T0 + 10), 'new');

  if (database.descriptor.dialect !== 'postgres') return;
  const other = await openStorage(database.descriptor, { role: 'main', secrets: null });
  closeWith(t, () => other.close());
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      (i % 2 === 0 ? storage : other).webhookTokens.claim('shared', `event-${i}`, T0 + 70_000, T0),
    ),
  );
  assert.equal(results.filter((r) => r === 'new').length, 1, results.join(','));
  assert.equal(results.filter((r) => r === 'reused').length, 7);
  // The same event from two instances at once: a retry, whichever comes second.
  const same = await Promise.all([
    storage.webhookTokens.claim('both', 'event-z', T0 + 70_000, T0),
    other.webhookTokens.claim('both', 'event-z', T0 + 70_000, T0),
  ]);
  assert.deepEqual(same.sort(), ['new', 'same']);
  assert.equal(await other.webhookTokens.claim('tok-3', 'event-x', T0 + 70_001, T0), 'reused');
});
