import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDnsResolver } from '../../src/dns/resolver.ts';
import { startTestDnsServer } from '../helpers/dns-server.ts';

// The resolver every sender-domain look-up goes through, against the test's own DNS server.

test("DNS_TIMEOUT_MS is each query's budget, however fast the answers before it were", async (t) => {
  const fast = [{ type: 'TXT' as const, value: 'v=spf1 -all' }];
  const dns = await startTestDnsServer(t, {
    'fast.test': fast,
    // Slower than the time-out c-ares (1.32 and later) adapts to after fast answers.
    'slow.test': { delayMs: 1_500, records: fast },
  });
  const resolver = createDnsResolver({ servers: [dns.address], timeoutMs: 5_000 });
  for (let i = 0; i < 20; i++) {
    assert.equal((await resolver.txt('fast.test')).kind, 'found');
  }
  assert.deepEqual(await resolver.txt('slow.test'), { kind: 'found', records: ['v=spf1 -all'] });
});
