import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, specifiedRules, validate } from 'graphql';
import { costError, DEFAULT_LIMITS, limitRules } from '../../src/graphql/limits.ts';
import { createSchema } from '../../src/graphql/schema.ts';

const schema = createSchema();
const problems = (query: string, production = false, limits = DEFAULT_LIMITS) =>
  validate(schema, parse(query), [...specifiedRules, ...limitRules(limits, production)]).map(
    (error) => error.message,
  );
const cost = (query: string, variables: Record<string, unknown> = {}) => {
  const error = costError(schema, parse(query), null, variables, DEFAULT_LIMITS);
  return error === null
    ? null
    : ({ message: error.message, ...error.extensions } as Record<string, unknown> & {
        message: string;
      });
};

test('what a dashboard asks passes', () => {
  assert.deepEqual(
    problems(`query ($after: String) {
      messages(first: 50, after: $after) {
        edges { cursor node { id recipient subject status attempts lastError { code message hint }
          dispatches { attempt succeeded at durationMs error { code message } transcript } } }
        pageInfo { hasNextPage endCursor } totalCount }
      deliveryStats { queued sent failuresByCode { code count } timeToSent { p50Ms p95Ms } }
      viewer { scope tokenName }
    }`),
    [],
  );
});

test('depth counts through fragments and inline fragments', () => {
  // Without loops no path of this schema is deeper than 10, so the limit is lowered here.
  const limits = { ...DEFAULT_LIMITS, maxDepth: 4 };
  const deep = `messages { edges { node { dispatches { error { code } } } } }`;
  assert.deepEqual(problems(`{ message(id: "1") { id } }`, false, limits), []);
  assert.match(problems(`{ ${deep} }`, false, limits)[0]!, /nested 6 levels/);
  assert.match(
    problems(`{ ...A } fragment A on Query { ... on Query { ${deep} } }`, false, limits)[0]!,
    /nested 6 levels/,
  );
});

test('no loops back through a type, however they are spelled', () => {
  for (const query of [
    `{ message(id: "1") { events { message { id } } } }`,
    `{ messages { edges { node { events { message { id } } } } } }`,
    `subscription { messageEvents { message { events { status } } } }`,
    `{ message(id: "1") { ...E } } fragment E on Message { events { ...M } } fragment M on MessageEvent { message { id } }`,
    `{ message(id: "1") { events { ... on MessageEvent { message { id } } } } }`,
  ]) {
    assert.match(
      problems(query).join(),
      /selects (Message|MessageEvent) again inside itself/,
      query,
    );
  }
  // The same types side by side, not inside each other, are fine.
  assert.deepEqual(
    problems(`{ message(id: "1") { lastError { code } dispatches { error { code } } } }`),
    [],
  );
});

test('cost multiplies by first and list sizes, with the variables sent', () => {
  const page = `query ($n: Int) { messages(first: $n) { edges { node { id events { status } } } } }`;
  assert.equal(cost(page, { n: 500 }), null);
  const loop = `events { message { id html } }`;
  const review = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: messages(first: 500) { edges { node { id html ${loop} } } }`).join(' ')} }`;
  assert.equal(problems(review).length > 0, true, 'the loop is refused by validation already');
  const wide = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: messages(first: 500) { edges { node { id html } } }`).join(' ')} }`;
  const refused = cost(wide);
  assert.ok(refused);
  assert.equal(refused['code'], 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(refused['limit'], 'cost');
  assert.equal(refused['maxCost'], 300_000);
  assert.ok((refused['cost'] as number) > 700_000);
  assert.match(refused.message, /query cost [\d,]+ is over the limit of 300,000/);
  // The same document costs what its variables make it cost.
  const aliased = `query ($n: Int) { ${Array.from({ length: 15 }, (_, i) => `a${i}: messages(first: $n) { edges { node { id html } } }`).join(' ')} }`;
  assert.equal(cost(aliased, { n: 50 }), null);
  assert.ok(cost(aliased, { n: 500 }));
  // A fragment bomb is measured without expanding it.
  const levels = Array.from(
    { length: 30 },
    (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
  ).join('\n');
  assert.match(
    cost(`{ ...F30 } fragment F0 on Query { viewer { scope } } ${levels}`)!.message,
    /query cost/,
  );
});

test('a subscription is measured per event, against its own limit', () => {
  assert.equal(
    cost(`subscription { messageEvents { cursor status message { id status } } }`),
    null,
  );
  const heavy = `subscription { messageEvents { message { ${Array.from({ length: 12 }, (_, i) => `h${i}: html`).join(' ')} } } }`;
  const refused = cost(heavy);
  assert.ok(refused);
  assert.equal(refused['maxCost'], 1_000);
  assert.match(refused.message, /per event/);
});

test('introspection depth is not counted in development, and refused in production', () => {
  const introspection = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`;
  assert.deepEqual(problems(introspection), []);
  assert.match(problems(introspection, true).join(), /introspection/i);
});

test('aliases, directives and cost are bounded; a fragment bomb is measured without expanding it', () => {
  const aliases = (n: number) =>
    Array.from({ length: n }, (_, i) => `a${i}: viewer { scope }`).join(' ');
  assert.deepEqual(problems(`{ ${aliases(15)} }`), []);
  assert.match(problems(`{ ${aliases(16)} }`)[0]!, /aliases/);
  assert.match(
    problems(`{ viewer { scope ${'@skip(if: false) '.repeat(21)} } }`).join(),
    /directives/,
  );
  const levels = Array.from(
    { length: 30 },
    (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
  ).join('\n');
  const bomb = problems(`{ ...F30 } fragment F0 on Query { viewer { scope } } ${levels}`);
  assert.match(bomb.join(), /more than 1500 fields/);
  // 2^30 expansions would never finish: without memoising, this test would not end.
});

test('cyclic fragments are reported by graphql, and do not hang the limit rules', () => {
  assert.match(
    problems(
      `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A viewer { scope } }`,
    ).join(),
    /cannot spread fragment/i,
  );
});
