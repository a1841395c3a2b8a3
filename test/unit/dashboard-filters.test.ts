import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageRow } from '../../web/src/api/types.ts';
import {
  admits,
  EMPTY_FILTERS,
  filtersFromSearch,
  searchFor,
  toEventFilter,
  toMessageFilter,
  type Filters,
} from '../../web/src/state/filters.ts';

// The dashboard's view lives in the URL: what is shared must come back as the same filters and
// the same GraphQL MessageFilter.

const NOW = Date.parse('2026-11-25T12:00:00.000Z');

describe('dashboard filters and the URL', () => {
  const cases: { name: string; filters: Partial<Filters>; search: string; gql: object }[] = [
    { name: 'nothing', filters: {}, search: '', gql: {} },
    {
      name: 'statuses',
      filters: { status: ['ABANDONED', 'QUEUED'] },
      search: '?status=ABANDONED,QUEUED',
      gql: { status: ['ABANDONED', 'QUEUED'] },
    },
    {
      name: 'outcomes after SENT',
      filters: { status: ['SENT'], outcome: ['BOUNCED', 'COMPLAINED'] },
      search: '?status=SENT&outcome=BOUNCED,COMPLAINED',
      gql: { status: ['SENT'], outcome: ['BOUNCED', 'COMPLAINED'] },
    },
    {
      name: 'recipient, error and text',
      filters: { recipient: 'bob@example.com', errorCode: ['RECIPIENT_REJECTED'], text: 'reset' },
      search: '?to=bob@example.com&error=RECIPIENT_REJECTED&q=reset',
      gql: {
        recipient: 'bob@example.com',
        errorCode: ['RECIPIENT_REJECTED'],
        subjectContains: 'reset',
      },
    },
    {
      name: 'failed at least once in the last hour',
      filters: { everFailed: true, range: '1h' },
      search: '?failed=1&range=1h',
      gql: { everFailed: true, createdAfter: '2026-11-25T11:00:00.000Z' },
    },
  ];
  for (const { name, filters, search, gql } of cases) {
    test(name, () => {
      const full = { ...EMPTY_FILTERS, ...filters };
      assert.equal(searchFor(full, null), search);
      assert.deepEqual(filtersFromSearch(search), full);
      assert.deepEqual(toMessageFilter(full, NOW), gql);
    });
  }

  test('the open message rides along', () => {
    assert.equal(searchFor({ ...EMPTY_FILTERS, range: '24h' }, '42'), '?range=24h&message=42');
  });

  test('unknown values in a hand-edited URL are dropped, not sent', () => {
    const filters = filtersFromSearch(
      '?status=SENT,BOGUS,sent&outcome=bounced,LOST&error=NOPE&range=3y',
    );
    assert.deepEqual(filters.status, ['SENT']);
    assert.deepEqual(filters.outcome, ['BOUNCED']);
    assert.deepEqual(filters.errorCode, []);
    assert.equal(filters.range, '');
  });

  test('a custom range becomes createdAfter/createdBefore', () => {
    const filters = filtersFromSearch('?range=custom&from=2026-11-01T00:00&until=2026-11-02T00:00');
    const gql = toMessageFilter(filters, NOW) as Record<string, string>;
    assert.equal(Date.parse(gql['createdBefore']!) - Date.parse(gql['createdAfter']!), 86_400_000);
  });

  test('the event subscription keeps what it can filter and leaves status and outcome to the page', () => {
    assert.deepEqual(
      toEventFilter({
        status: ['SENT'],
        outcome: ['BOUNCED'],
        errorCode: ['AUTH'],
        everFailed: true,
        recipient: 'a@b.c',
      }),
      { recipient: 'a@b.c' },
    );
  });

  test('a new live row is admitted only when it matches the view', () => {
    const row = (
      status: MessageRow['status'],
      code: string | null,
      outcome: MessageRow['outcome'] = null,
    ): MessageRow => ({
      id: '1',
      recipient: 'a@b.c',
      subject: 's',
      status,
      attempts: 1,
      maxAttempts: 5,
      createdAt: '',
      updatedAt: '',
      nextAttemptAt: null,
      lastError: code ? ({ code, responseCode: 550, enhancedStatus: '5.1.1' } as never) : null,
      outcome,
    });
    const view = { ...EMPTY_FILTERS, status: ['ABANDONED' as const] };
    assert.equal(admits(view, row('ABANDONED', null), null), true);
    assert.equal(admits(view, row('SENT', null), null), false);
    const byError = { ...EMPTY_FILTERS, errorCode: ['RECIPIENT_REJECTED' as const] };
    assert.equal(admits(byError, row('ABANDONED', 'RECIPIENT_REJECTED'), null), true);
    assert.equal(admits(byError, row('QUEUED', null), { code: 'RECIPIENT_REJECTED' }), true);
    assert.equal(admits(byError, row('SENT', null), null), false);
    assert.equal(admits({ ...EMPTY_FILTERS, everFailed: true }, row('SENT', null), null), false);
    const bounced = { ...EMPTY_FILTERS, outcome: ['BOUNCED' as const] };
    assert.equal(admits(bounced, row('SENT', null, 'BOUNCED'), null), true);
    assert.equal(admits(bounced, row('SENT', null, 'DELIVERED'), null), false);
    assert.equal(admits(bounced, row('SENT', null), null), false);
  });
});
