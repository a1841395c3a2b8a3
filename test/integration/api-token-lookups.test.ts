import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { createApiTokens } from '../../src/auth/api-tokens.ts';
import type { ApiTokenStore } from '../../src/db/port.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { openTestStorage } from '../helpers/storage.ts';

// Authentication remembers its look-ups for a moment (LOOKUP_REUSE_MS in src/auth/api-tokens.ts)
// instead of reading the database on every request. What must not change: a revocation, here or
// announced by another instance, refuses the token at once; a token written straight into the
// database (no signal) is required within that moment; an answer read before a revocation is
// never remembered past it. On the suite's dialect, with the real storage and its signals.

const REUSE_MS = 250;
const bearer = (token: string) => `Bearer ${token}`;

/** The storage's token store, counting look-ups; `hold` makes the next findActiveByHash wait. */
function countingStore(store: ApiTokenStore) {
  const calls = { findActiveByHash: 0, anyStored: 0, answered: 0 };
  let held: Promise<void> | null = null;
  const counted: ApiTokenStore = {
    ...store,
    async findActiveByHash(hash) {
      calls.findActiveByHash++;
      const answer = await store.findActiveByHash(hash);
      calls.answered++;
      if (held) await held;
      return answer;
    },
    anyStored() {
      calls.anyStored++;
      return store.anyStored();
    },
  };
  return {
    store: counted,
    calls,
    /** The next look-ups read the database at once but answer only once `release` is called. */
    hold(): () => void {
      let release!: () => void;
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = null;
        release();
      };
    },
  };
}

const opened = await openTestStorage(fileScope);
const { storage } = opened;
const clock = { now: 1_000_000 };

/** An instance's ApiTokens on the shared storage (its signals reach every one of them). */
function instance(store: ApiTokenStore = storage.apiTokens) {
  const tokens = createApiTokens({
    repository: store,
    signals: storage.signals,
    bootstrapToken: null,
    now: () => clock.now,
  });
  closeWith(fileScope, () => tokens.close());
  return tokens;
}

async function newToken(tokens: ReturnType<typeof instance>, name: string) {
  const created = await tokens.create(name, 'send', { via: 'cli' });
  assert.ok(created.ok);
  return created;
}

describe('remembered token look-ups', () => {
  test('no token yet: anonymous, asked again only after the moment', async () => {
    const counting = countingStore(storage.apiTokens);
    const tokens = instance(counting.store);
    for (let i = 0; i < 5; i++) {
      assert.equal((await tokens.authenticate(undefined))?.kind, 'anonymous');
    }
    assert.equal(counting.calls.anyStored, 1);
    clock.now += REUSE_MS;
    await tokens.authenticate(undefined);
    assert.equal(counting.calls.anyStored, 2);
  });

  test('a token written straight into the database (no signal) is required within the moment', async () => {
    const tokens = instance();
    assert.equal((await tokens.authenticate(undefined))?.kind, 'anonymous');
    // As `mailscope create-token --database` does beside a running service on SQLite.
    const token = 'ms_written-straight-into-the-database';
    await storage.apiTokens.insert({
      name: 'cli',
      scope: 'admin',
      tokenHash: createHash('sha256').update(token).digest('hex'),
      createdAtMs: clock.now,
      createdVia: 'cli',
      createdByTokenId: null,
    });
    clock.now += REUSE_MS;
    assert.equal(await tokens.authenticate(undefined), null, 'no longer anonymous');
    assert.equal((await tokens.authenticate(bearer(token)))?.tokenName, 'cli');
  });

  test('a stored token is read once per moment, and refused at once when revoked here', async () => {
    const counting = countingStore(storage.apiTokens);
    const tokens = instance(counting.store);
    const { token, apiToken } = await newToken(tokens, 'remembered');
    for (let i = 0; i < 5; i++) {
      assert.equal((await tokens.authenticate(bearer(token)))?.tokenId, apiToken.id);
    }
    assert.equal(counting.calls.findActiveByHash, 1);
    clock.now += REUSE_MS;
    await tokens.authenticate(bearer(token));
    assert.equal(counting.calls.findActiveByHash, 2);

    await tokens.revoke(apiToken.id);
    assert.equal(await tokens.authenticate(bearer(token)), null);
  });

  test("another instance's revocation refuses the token at once, requests and sessions alike", async () => {
    const here = instance();
    const there = instance();
    const { token, apiToken } = await newToken(here, 'revoked-elsewhere');
    const principal = await here.authenticate(bearer(token));
    assert.equal(principal?.tokenId, apiToken.id);
    assert.equal(await here.stillValid(principal!), true);

    await there.revoke(apiToken.id);
    assert.equal(await here.authenticate(bearer(token)), null);
    assert.equal(await here.stillValid(principal!), false);
  });

  test('an answer read before a revocation serves its request but is not remembered', async () => {
    const counting = countingStore(storage.apiTokens);
    const tokens = instance(counting.store);
    const { token, apiToken } = await newToken(tokens, 'raced');
    const release = counting.hold();
    const racing = tokens.authenticate(bearer(token)); // reads the token active, then waits
    await waitForCall(() => counting.calls.answered === 1);
    await instance().revoke(apiToken.id);
    release();
    assert.equal((await racing)?.tokenId, apiToken.id, 'it was active when read');
    assert.equal(await tokens.authenticate(bearer(token)), null, 'asked again: revoked');
    assert.equal(counting.calls.findActiveByHash, 2);
  });
});

/** Yields to the event loop until `done` (the look-up under way has its answer). */
async function waitForCall(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}
