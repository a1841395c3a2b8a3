import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttemptRecord, Storage } from '../../src/db/port.ts';
import type { Message } from '../../src/domain/message.ts';
import type { DeliveryOutcome } from '../../src/domain/report.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../src/domain/webhook.ts';
import { claim, enqueue, newMessage, record, sentRecord } from '../helpers/queue.ts';
import { openTestStorage, TEST_DIALECT } from '../helpers/storage.ts';

// The outbox trigger's mapping of message events to webhook event types (written once per
// dialect in the migrations), as one table of cases run against the suite's dialect.

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

async function outbox(storage: Storage, endpointId: number) {
  const rows = await storage.webhooks.claim(endpointId, 1_000, Date.now() + 10_000_000, 60_000);
  return rows.map((row) => ({ ...row, body: JSON.parse(row.payload) }));
}

function failedRecord(message: Message, next: AttemptRecord['next']): AttemptRecord {
  return {
    ...sentRecord(message, T0 + 1_000),
    response: null,
    error: {
      code: 'EREFUSED',
      message: 'refused',
      phase: 'connect',
      enhancedStatus: null,
      permanent: next.status === 'ABANDONED',
      responseCode: null,
      hint: null,
    } as never,
    next,
  };
}

async function sentMessage(storage: Storage, n: number): Promise<Message> {
  await enqueue(storage.messages, [newMessage(n)], T0);
  const [claimed] = await claim(storage.messages, T0, 1);
  await record(storage.messages, [sentRecord(claimed!.message, T0 + 1_000)]);
  return (await storage.messages.find(claimed!.message.id))!;
}

async function report(storage: Storage, message: Message, outcome: DeliveryOutcome) {
  await storage.reports.record(
    {
      target: { kind: 'id', id: message.id },
      outcome,
      sourceEventId: `${outcome}-${message.id}`,
      recipient: null,
      detail: {
        source: 'DSN',
        bounceType: outcome === 'BOUNCED' ? 'SOFT' : null,
        enhancedStatus: null,
        diagnostic: null,
        remoteMta: null,
        hint: null,
      },
    },
    T0 + 2_000,
  );
}

/** Each case: what happens to one message, and the webhook types it must produce in order. */
const CASES: { name: string; run: (storage: Storage) => Promise<unknown>; types: string[] }[] = [
  {
    name: 'queued, claimed, sent',
    run: (storage) => sentMessage(storage, 1),
    types: ['MESSAGE_QUEUED', 'MESSAGE_SENT'],
  },
  {
    name: 'a failed attempt scheduled for retry',
    run: async (storage) => {
      await enqueue(storage.messages, [newMessage(2)], T0);
      const [claimed] = await claim(storage.messages, T0, 1);
      await record(storage.messages, [
        failedRecord(claimed!.message, {
          status: 'QUEUED',
          reason: 'retry_scheduled',
          delayMs: 1_000,
          nextAttemptAtMs: T0 + 2_000,
        }),
      ]);
    },
    types: ['MESSAGE_QUEUED', 'MESSAGE_DEFERRED'],
  },
  {
    name: 'abandoned',
    run: async (storage) => {
      await enqueue(storage.messages, [newMessage(3)], T0);
      const [claimed] = await claim(storage.messages, T0, 1);
      await record(storage.messages, [
        failedRecord(claimed!.message, { status: 'ABANDONED', reason: 'failed_permanently' }),
      ]);
    },
    types: ['MESSAGE_QUEUED', 'MESSAGE_ABANDONED'],
  },
  {
    name: 'cancelled',
    run: async (storage) => {
      const [message] = await enqueue(storage.messages, [newMessage(4)], T0 + 60_000);
      await storage.messages.cancel(message!.id, T0, null);
    },
    types: ['MESSAGE_QUEUED', 'MESSAGE_CANCELLED'],
  },
  {
    name: 'suppressed when queued',
    run: (storage) => enqueue(storage.messages, [newMessage(5, { suppressed: true })], T0),
    types: ['MESSAGE_SUPPRESSED'],
  },
  {
    name: 'released on shutdown: nothing',
    run: async (storage) => {
      await enqueue(storage.messages, [newMessage(6)], T0);
      const [claimed] = await claim(storage.messages, T0, 1);
      await storage.messages.release(
        [{ messageId: claimed!.message.id, leaseExpiresAtMs: claimed!.message.leaseExpiresAtMs! }],
        T0,
        null,
      );
    },
    types: ['MESSAGE_QUEUED'],
  },
  ...(['DELIVERED', 'BOUNCED', 'COMPLAINED', 'DEFERRED'] as const).map((outcome, index) => ({
    name: `a ${outcome} report`,
    run: async (storage: Storage) =>
      report(storage, await sentMessage(storage, 10 + index), outcome),
    types: ['MESSAGE_QUEUED', 'MESSAGE_SENT', `MESSAGE_${outcome}`],
  })),
];

describe(`webhook event types of message events (${TEST_DIALECT})`, () => {
  for (const { name, run, types } of CASES) {
    test(name, async (t) => {
      const { storage } = await openTestStorage(t);
      const endpoint = await storage.webhooks.createEndpoint({
        url: 'https://example.com/hooks',
        events: WEBHOOK_EVENT_TYPES,
        description: null,
        secret: 'whsec_test',
        nowMs: T0,
      });
      await run(storage);
      const rows = await outbox(storage, endpoint.id);
      assert.deepEqual(
        rows.map((row) => row.eventType),
        types,
      );
      for (const row of rows) {
        assert.equal(row.body.type, row.eventType.toLowerCase().replace('_', '.'));
        assert.equal(typeof row.body.data.message.id, 'string');
        assert.equal(row.body.data.message.text, undefined);
      }
      const last = rows.at(-1)!.body;
      if (last.type === 'message.deferred' && types.length === 2) {
        assert.equal(last.data.error.code, 'EREFUSED');
      }
      if (types.length === 3) assert.equal(last.data.report.source, 'DSN');
    });
  }

  test('each subscribed endpoint gets its own row of an event, with the same body and its own id', async (t) => {
    const { storage } = await openTestStorage(t);
    const endpoint = (events: readonly WebhookEventType[]) =>
      storage.webhooks.createEndpoint({
        url: 'https://example.com/hooks',
        events: [...events],
        description: null,
        secret: 'whsec_test',
        nowMs: T0,
      });
    const all = [await endpoint(WEBHOOK_EVENT_TYPES), await endpoint(WEBHOOK_EVENT_TYPES)];
    const sentOnly = await endpoint(['MESSAGE_SENT']);
    const disabled = await endpoint(WEBHOOK_EVENT_TYPES);
    await storage.webhooks.updateEndpoint(disabled.id, { enabled: false });
    await sentMessage(storage, 1);
    const [first, second] = [await outbox(storage, all[0]!.id), await outbox(storage, all[1]!.id)];
    const onlySent = await outbox(storage, sentOnly.id);
    assert.deepEqual(
      first!.map((row) => row.eventType),
      ['MESSAGE_QUEUED', 'MESSAGE_SENT'],
    );
    assert.deepEqual(
      second!.map((row) => row.payload),
      first!.map((row) => row.payload),
    );
    assert.deepEqual(
      onlySent.map((row) => row.payload),
      [first![1]!.payload],
    );
    const ids = [...first!, ...second!, ...onlySent].map((row) => row.webhookId);
    assert.equal(new Set(ids).size, 5, 'one id per row');
    await storage.webhooks.updateEndpoint(disabled.id, { enabled: true });
    assert.deepEqual(await outbox(storage, disabled.id), []);
  });

  test('nothing is written while no enabled endpoint subscribes', async (t) => {
    const { storage } = await openTestStorage(t);
    const endpoint = await storage.webhooks.createEndpoint({
      url: 'https://example.com/hooks',
      events: ['MESSAGE_BOUNCED'],
      description: null,
      secret: 'whsec_test',
      nowMs: T0,
    });
    await sentMessage(storage, 1);
    await storage.webhooks.updateEndpoint(endpoint.id, {
      enabled: false,
      events: ['MESSAGE_SENT'],
    });
    await sentMessage(storage, 2);
    await storage.webhooks.updateEndpoint(endpoint.id, { enabled: true });
    assert.deepEqual(await outbox(storage, endpoint.id), []);
  });

  test('a claim holds a row until its lease ends; a record after that is dropped', async (t) => {
    const { storage } = await openTestStorage(t);
    const endpoint = await storage.webhooks.createEndpoint({
      url: 'https://example.com/hooks',
      events: ['MESSAGE_QUEUED'],
      description: null,
      secret: 'whsec_test',
      nowMs: T0,
    });
    await enqueue(storage.messages, [newMessage(1)], T0);
    const now = Date.now() + 1_000;
    const [first] = await storage.webhooks.claim(endpoint.id, 10, now, 60_000);
    assert.ok(first);
    assert.deepEqual(await storage.webhooks.claim(endpoint.id, 10, now + 1, 60_000), []);
    const [again] = await storage.webhooks.claim(endpoint.id, 10, now + 60_000, 60_000);
    assert.equal(again?.webhookId, first.webhookId);
    const [stale] = await storage.webhooks.recordAttempts([
      {
        claim: first,
        atMs: now,
        durationMs: 1,
        statusCode: 200,
        error: null,
        responseBody: '',
        succeeded: true,
        nextAttemptAtMs: null,
      },
    ]);
    assert.equal(stale, null);
    const [recorded] = await storage.webhooks.recordAttempts([
      {
        claim: again!,
        atMs: now,
        durationMs: 1,
        statusCode: 500,
        error: null,
        responseBody: 'no',
        succeeded: false,
        nextAttemptAtMs: now + 5_000,
      },
    ]);
    assert.equal(recorded?.delivery.attempt, 1);
    assert.equal(recorded?.failingSinceMs, now);
  });
});

describe(`webhook log retention (${TEST_DIALECT})`, () => {
  test('finished deliveries older than the cut go with their attempts; pending ones stay', async (t) => {
    const { storage } = await openTestStorage(t);
    const endpoint = await storage.webhooks.createEndpoint({
      url: 'https://example.com/hooks',
      events: ['MESSAGE_QUEUED'],
      description: null,
      secret: 'whsec_test',
      nowMs: T0,
    });
    await enqueue(storage.messages, [newMessage(1), newMessage(2)], T0);
    const now = Date.now() + 1_000;
    const claims = await storage.webhooks.claim(endpoint.id, 10, now, 60_000);
    assert.equal(claims.length, 2);
    const attempt = { atMs: now, durationMs: 1, error: null, responseBody: '' };
    await storage.webhooks.recordAttempts([
      { ...attempt, claim: claims[0]!, statusCode: 200, succeeded: true, nextAttemptAtMs: null },
      {
        ...attempt,
        claim: claims[1]!,
        statusCode: 500,
        succeeded: false,
        nextAttemptAtMs: now + 5_000,
      },
    ]);
    assert.equal((await storage.webhooks.listDeliveries(endpoint.id, 10)).length, 2);
    // A cut before they were made prunes nothing.
    assert.equal(await storage.retention.pruneWebhookDeliveries(T0 - 1), 0);
    assert.equal(await storage.retention.pruneWebhookDeliveries(now + 1), 1);
    const left = await storage.webhooks.listDeliveries(endpoint.id, 10);
    assert.deepEqual(
      left.map((delivery) => delivery.webhookId),
      [claims[1]!.webhookId],
    );
    // Still to be retried: its row is there to be claimed.
    const [retry] = await storage.webhooks.claim(endpoint.id, 10, now + 5_000, 60_000);
    assert.equal(retry?.webhookId, claims[1]!.webhookId);
  });
});
