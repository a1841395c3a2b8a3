import assert from 'node:assert/strict';
import { test } from 'node:test';
import { specifiedRules, type ValidationRule } from 'graphql';
import { createDocumentCache, type CheckedDocument } from '../../src/graphql/document-cache.ts';
import { createSchema } from '../../src/graphql/schema.ts';

const schema = createSchema();
const FEED = 'subscription { messageEvents { cursor status } }';

/** The specified rules and one that counts the documents validated. */
function countingRules() {
  const counted = { validations: 0 };
  const counting: ValidationRule = () => ({
    Document: () => {
      counted.validations++;
    },
  });
  return { counted, rules: [...specifiedRules, counting] };
}

function documentOf(checked: CheckedDocument) {
  assert.equal(checked.kind, 'valid');
  return checked.kind === 'valid' ? checked.document : null;
}

test('a query text is parsed and validated once, and its subscribers share the document', () => {
  const { counted, rules } = countingRules();
  const cache = createDocumentCache({ schema, rules, maxTokens: 1_000 });
  assert.equal(documentOf(cache.check(FEED)), documentOf(cache.check(FEED)));
  assert.equal(counted.validations, 1);
  cache.check(`${FEED} `); // another text is another document
  assert.equal(counted.validations, 2);
});

test('what does not parse or validate is refused every time and never kept', () => {
  const { counted, rules } = countingRules();
  const cache = createDocumentCache({ schema, rules, maxTokens: 1_000 });
  for (let i = 0; i < 2; i++) {
    assert.equal(cache.check('subscription {').kind, 'unparsable');
    const invalid = cache.check('subscription { messageEvents { nope } }');
    assert.equal(invalid.kind, 'invalid');
    assert.match(invalid.kind === 'invalid' ? invalid.problems[0]!.message : '', /nope/);
  }
  assert.equal(counted.validations, 2);
  assert.equal(cache.size(), 0);
  // The token limit still applies to a text seen before.
  assert.equal(cache.check(FEED).kind, 'valid');
  const strict = createDocumentCache({ schema, rules, maxTokens: 3 });
  assert.equal(strict.check(FEED).kind, 'unparsable');
});

test('the least recently used documents go once the texts exceed the bound', () => {
  const { counted, rules } = countingRules();
  const texts = [0, 1, 2].map((i) => `subscription Feed${i} { messageEvents { cursor } }`);
  const cache = createDocumentCache({
    schema,
    rules,
    maxTokens: 1_000,
    maxChars: texts[0]!.length * 2,
  });
  cache.check(texts[0]!);
  cache.check(texts[1]!);
  cache.check(texts[0]!); // used again: texts[1] is now the least recently used
  cache.check(texts[2]!);
  assert.equal(cache.size(), 2);
  assert.equal(counted.validations, 3);
  cache.check(texts[0]!);
  cache.check(texts[2]!);
  assert.equal(counted.validations, 3, 'the two most recent are still kept');
  cache.check(texts[1]!);
  assert.equal(counted.validations, 4, 'the least recently used was dropped');
  // A text larger than the whole bound is checked but not kept.
  const large = `subscription { messageEvents { cursor } }${' '.repeat(texts[0]!.length * 2)}`;
  assert.equal(cache.check(large).kind, 'valid');
  assert.equal(cache.size(), 2);
});
