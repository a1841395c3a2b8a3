import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type ExecutionResult } from 'graphql';
import type { ResultChannel } from '../../src/graphql/context.ts';
import type { Principal, Scope } from '../../src/auth/principal.ts';
import { createSharedSubscriptions } from '../../src/graphql/shared-subscriptions.ts';

// Subscribers of the same live operation share one execution; anything else runs on its own.

const caller = (scope: Scope): Principal => ({
  scope,
  kind: 'token',
  tokenId: 1,
  tokenName: 'dashboard',
});

function setup(maxQueued?: number, fields: readonly string[] = ['ticks']) {
  const listeners = new Set<(n: number) => void>();
  let executions = 0;
  let sources = 0;
  const schema = makeExecutableSchema({
    typeDefs: `
      type Query { ok: Boolean }
      type Tick { n: Int!, label: String! }
      type Subscription { ticks(after: Int, even: Boolean): Tick! }
    `,
    resolvers: {
      Subscription: {
        ticks: {
          subscribe: (_: unknown, args: { after?: number | null; even?: boolean | null }) => {
            sources++;
            const queue: number[] = [];
            let wake: (() => void) | null = null;
            const listener = (n: number) => {
              if (args.even && n % 2 !== 0) return;
              if (args.after != null && n <= args.after) return;
              queue.push(n);
              wake?.();
            };
            listeners.add(listener);
            return (async function* () {
              try {
                for (;;) {
                  while (queue.length > 0) yield { ticks: { n: queue.shift()! } };
                  await new Promise<void>((resolve) => (wake = resolve));
                }
              } finally {
                listeners.delete(listener);
              }
            })();
          },
        },
      },
      Tick: {
        label: (tick: { n: number }) => {
          executions++;
          return `tick ${tick.n}`;
        },
      },
    },
  });
  const subscribe = createSharedSubscriptions({
    fields,
    ...(maxQueued === undefined ? {} : { maxQueued }),
  });
  const document = parse(
    'subscription ($after: Int, $even: Boolean) { ticks(after: $after, even: $even) { n label } }',
  );
  const open = async (
    variableValues: Record<string, unknown> = {},
    { scope = 'read' as Scope, query = document } = {},
  ) =>
    (await subscribe({
      schema,
      document: query,
      variableValues,
      contextValue: { principal: caller(scope) },
    })) as AsyncGenerator<ExecutionResult>;
  const openWith = async (results: ResultChannel) =>
    (await subscribe({
      schema,
      document,
      contextValue: { results, principal: caller('read') },
    })) as AsyncGenerator<ExecutionResult>;
  const emit = (n: number) => {
    for (const listener of listeners) listener(n);
  };
  return {
    subscribe,
    schema,
    open,
    openWith,
    emit,
    executions: () => executions,
    sources: () => sources,
    listening: () => listeners.size,
  };
}

const take = async (results: AsyncGenerator<ExecutionResult>, count: number) => {
  const taken: unknown[] = [];
  for (let i = 0; i < count; i++) {
    taken.push(JSON.parse(JSON.stringify((await results.next()).value?.data)));
  }
  return taken;
};

test('three subscribers of one live operation: one source, one execution per event', async () => {
  const s = setup();
  const [a, b, c] = [await s.open(), await s.open(), await s.open()];
  assert.equal(s.sources(), 1);
  s.emit(1);
  s.emit(2);
  const expected = [{ ticks: { n: 1, label: 'tick 1' } }, { ticks: { n: 2, label: 'tick 2' } }];
  assert.deepEqual(await take(a, 2), expected);
  assert.deepEqual(await take(b, 2), expected);
  assert.deepEqual(await take(c, 2), expected);
  assert.equal(s.executions(), 2);
  await Promise.all([a.return(undefined), b.return(undefined), c.return(undefined)]);
});

test('different variables, or a replay cursor, run on their own', async () => {
  const s = setup();
  const all = await s.open();
  const even = await s.open({ even: true });
  const replaying = await s.open({ after: 1 });
  const replayingToo = await s.open({ after: 1 });
  assert.equal(s.sources(), 4);
  s.emit(1);
  s.emit(2);
  assert.deepEqual(await take(all, 2), [
    { ticks: { n: 1, label: 'tick 1' } },
    { ticks: { n: 2, label: 'tick 2' } },
  ]);
  assert.deepEqual(await take(even, 1), [{ ticks: { n: 2, label: 'tick 2' } }]);
  assert.deepEqual(await take(replaying, 1), [{ ticks: { n: 2, label: 'tick 2' } }]);
  assert.deepEqual(await take(replayingToo, 1), [{ ticks: { n: 2, label: 'tick 2' } }]);
  for (const results of [all, even, replaying, replayingToo]) await results.return(undefined);
});

test('what a result depends on keeps subscribers apart: fragments, any variable, the scope', async () => {
  const s = setup();
  const fragment = (fields: string) =>
    parse(`subscription S { ticks { ...F } } fragment F on Tick { ${fields} }`);
  const withLabel = parse('subscription S($l: Boolean!) { ticks { n label @include(if: $l) } }');
  const opened = [
    await s.open({}, { query: fragment('n') }),
    await s.open({}, { query: fragment('n label') }),
    await s.open({ l: false }, { query: withLabel }),
    await s.open({ l: true }, { query: withLabel }),
    await s.open(),
    await s.open({}, { scope: 'admin' }),
  ];
  assert.equal(s.sources(), 6, "none shared another's execution");
  s.emit(1);
  const got = await Promise.all(opened.map((results) => take(results, 1)));
  assert.deepEqual(got[0], [{ ticks: { n: 1 } }]);
  assert.deepEqual(got[1], [{ ticks: { n: 1, label: 'tick 1' } }]);
  assert.deepEqual(got[2], [{ ticks: { n: 1 } }]);
  assert.deepEqual(got[3], [{ ticks: { n: 1, label: 'tick 1' } }]);
  for (const results of opened) await results.return(undefined);
});

test('without a caller nothing is shared (the scope check must run for each)', async () => {
  const s = setup();
  const document = parse('subscription { ticks { n } }');
  for (let i = 0; i < 2; i++) {
    const results = await s.subscribe({ schema: s.schema, document });
    await (results as AsyncGenerator<ExecutionResult>).return(undefined);
  }
  assert.equal(s.sources(), 2);
});

test('one subscriber leaving does not disturb the others; the last one stops the source', async () => {
  const s = setup();
  const a = await s.open();
  const b = await s.open();
  s.emit(1);
  await take(a, 1);
  await a.return(undefined);
  s.emit(2);
  assert.deepEqual(await take(b, 2), [
    { ticks: { n: 1, label: 'tick 1' } },
    { ticks: { n: 2, label: 'tick 2' } },
  ]);
  assert.equal(s.listening(), 1);
  await b.return(undefined);
  // A plain async generator parked in `await` sees return() at its next event (the service's
  // event stream wakes itself instead); the source must stop then.
  s.emit(99);
  for (let i = 0; i < 10 && s.listening() > 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(s.listening(), 0);
  const c = await s.open(); // a new group starts afresh
  assert.equal(s.sources(), 2);
  s.emit(3);
  assert.deepEqual(await take(c, 1), [{ ticks: { n: 3, label: 'tick 3' } }]);
  await c.return(undefined);
});

test('a subscriber that falls too far behind is stopped with a clear error; others go on', async () => {
  const s = setup(5);
  const slow = await s.open();
  const fast = await s.open();
  const seen: unknown[] = [];
  const reading = (async () => {
    for await (const result of fast) {
      seen.push(result.data);
      if (seen.length === 20) break;
    }
  })();
  for (let n = 1; n <= 20; n++) {
    s.emit(n);
    await new Promise((r) => setImmediate(r));
  }
  await reading;
  assert.equal(seen.length, 20);
  const first = await slow.next();
  assert.equal(
    (first.value as ExecutionResult).errors?.[0]?.extensions?.['code'],
    'SUBSCRIBER_TOO_SLOW',
  );
  assert.match(
    (first.value as ExecutionResult).errors![0]!.message,
    /subscribe again with `after`/,
  );
  assert.equal((await slow.next()).done, true);
});

test('a field that is not listed as shareable always runs on its own', async () => {
  const s = setup(undefined, []);
  const subscribers = [await s.open(), await s.open()];
  assert.equal(s.sources(), 2);
  for (const results of subscribers) await results.return(undefined);
});

/** A subscriber's channel to its client: what was written, and how much is left untaken. */
function recordingChannel(pending = 0) {
  const sent: ExecutionResult[] = [];
  return {
    sent,
    channel: { send: (result: ExecutionResult) => sent.push(result), pendingBytes: () => pending },
  };
}

test('subscribers with a result channel get every result written through it from one execution', async () => {
  const s = setup();
  const channels = [recordingChannel(), recordingChannel(), recordingChannel()];
  const results: AsyncGenerator<ExecutionResult>[] = [];
  for (const { channel } of channels) results.push(await s.openWith(channel));
  assert.equal(s.sources(), 1);
  s.emit(1);
  s.emit(2);
  const expected = [{ ticks: { n: 1, label: 'tick 1' } }, { ticks: { n: 2, label: 'tick 2' } }];
  await waitForSent(channels, 2);
  for (const { sent } of channels) assert.deepEqual(data(sent), expected);
  // The very same result objects: a channel serialises each once for the whole group.
  assert.equal(channels[0]!.sent[1], channels[2]!.sent[1]);
  assert.equal(s.executions(), 2);
  // The iterator yields nothing itself; returning it ends the operation and its writes.
  await results[0]!.return(undefined);
  assert.equal((await results[0]!.next()).done, true);
  s.emit(3);
  await waitForSent(channels.slice(1), 3);
  assert.equal(channels[0]!.sent.length, 2);
  for (const r of results.slice(1)) await r.return(undefined);
  s.emit(99); // the test's source sees return() at its next event
  for (let i = 0; i < 10 && s.listening() > 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(s.listening(), 0);
});

test('a channel whose client leaves too much untaken is stopped with the same error', async () => {
  const s = setup();
  const slow = recordingChannel(2 * 1024 * 1024);
  const fast = recordingChannel();
  const slowResults = await s.openWith(slow.channel);
  const fastResults = await s.openWith(fast.channel);
  s.emit(1);
  s.emit(2);
  await waitForSent([fast], 2);
  assert.equal(slow.sent.length, 1);
  assert.equal(slow.sent[0]!.errors?.[0]?.extensions?.['code'], 'SUBSCRIBER_TOO_SLOW');
  assert.equal((await slowResults.next()).done, true);
  assert.deepEqual(data(fast.sent), [
    { ticks: { n: 1, label: 'tick 1' } },
    { ticks: { n: 2, label: 'tick 2' } },
  ]);
  await fastResults.return(undefined);
});

const data = (sent: ExecutionResult[]) => sent.map((r) => JSON.parse(JSON.stringify(r.data)));

async function waitForSent(channels: { sent: unknown[] }[], count: number) {
  for (let i = 0; i < 100 && channels.some((c) => c.sent.length < count); i++) {
    await new Promise((r) => setImmediate(r));
  }
  for (const { sent } of channels) assert.equal(sent.length, count);
}
