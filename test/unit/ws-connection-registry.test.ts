import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Principal } from '../../src/auth/principal.ts';
import { createConnectionRegistry } from '../../src/http/ws-guard.ts';

// The per-token cap counts a caller's operations over all its connections, without walking
// every connection at every subscribe (which made connecting many dashboards quadratic).

const token = (tokenId: number): Principal => ({
  scope: 'read',
  kind: 'token',
  tokenId,
  tokenName: `t${tokenId}`,
});

/** A connection holding `operations` live operations, counting how often it is asked. */
function connection(operations: number) {
  const live = {
    operations,
    asked: 0,
    close: () => {},
    subscriptions: () => {
      live.asked++;
      return live.operations;
    },
  };
  return live;
}

describe('connection registry: operations of one caller against the cap', () => {
  test('under the cap no connection is counted; at the cap the count is exact', () => {
    const registry = createConnectionRegistry();
    const connections = Array.from({ length: 5 }, () => connection(0));
    for (const c of connections) registry.add(token(1), c);
    // Five operations subscribed one after another (graphql-ws registers each before the check).
    for (let i = 0; i < 5; i++) {
      connections[i]!.operations = 1;
      assert.equal(registry.operationsOver(token(1), 5), false);
    }
    assert.equal(
      connections.reduce((sum, c) => sum + c.asked, 0),
      0,
      'no walk while under the cap',
    );
    // A sixth: over the cap of 5, counted exactly.
    connections[0]!.operations = 2;
    assert.equal(registry.operationsOver(token(1), 5), true);
    assert.ok(connections.every((c) => c.asked === 1));
  });

  test('operations that ended make room again once the count is taken', () => {
    const registry = createConnectionRegistry();
    const a = connection(0);
    registry.add(token(2), a);
    for (let i = 1; i <= 3; i++) {
      a.operations = i;
      assert.equal(registry.operationsOver(token(2), 3), false);
    }
    // Two end, one more starts: the bound says 4, the exact count says 2.
    a.operations = 2;
    assert.equal(registry.operationsOver(token(2), 3), false);
    assert.equal(a.asked, 1);
    // From the exact count on, the bound is 2 again: one more fits without a walk.
    a.operations = 3;
    assert.equal(registry.operationsOver(token(2), 3), false);
    assert.equal(a.asked, 1);
  });

  test('callers are counted apart, and a closed connection no longer counts', () => {
    const registry = createConnectionRegistry();
    const mine = connection(1);
    const theirs = connection(1);
    registry.add(token(3), mine);
    const remove = registry.add(token(4), theirs);
    assert.equal(registry.operationsOver(token(3), 1), false);
    assert.equal(registry.operationsOver(token(4), 1), false);
    theirs.operations = 2;
    assert.equal(registry.operationsOver(token(4), 1), true);
    remove();
    // Token 4 has no connection left: its next connection starts from nothing.
    const again = connection(1);
    registry.add(token(4), again);
    assert.equal(registry.operationsOver(token(4), 1), false);
    assert.equal(theirs.asked, 1);
  });
});
