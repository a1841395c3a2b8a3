import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, specifiedRules, validate } from 'graphql';
import { DEFAULT_LIMITS, limitRules } from '../../src/graphql/limits.ts';
import { createSchema } from '../../src/graphql/schema.ts';

const schema = createSchema();
const problems = (query: string, production = false) =>
  validate(schema, parse(query), [
    ...specifiedRules,
    ...limitRules(DEFAULT_LIMITS, production),
  ]).map((error) => error.message);

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
  const deep = (n: number) => `${'events { message { '.repeat(n)}id${' } }'.repeat(n)}`;
  assert.deepEqual(problems(`{ message(id: "1") { ${deep(4)} } }`), []);
  assert.match(problems(`{ message(id: "1") { ${deep(5)} } }`)[0]!, /nested 12 levels/);
  assert.match(
    problems(
      `{ ...A } fragment A on Query { message(id: "1") { ... on Message { ${deep(5)} } } }`,
    )[0]!,
    /nested 12 levels/,
  );
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
