import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressProblem,
  headerProblems,
  singleLineProblem,
} from '../../src/delivery/input-rules.ts';

test('addresses: plain local@domain accepted', () => {
  for (const address of [
    'ada@example.com',
    'first.last+tag@mail.example.co.uk',
    "o'brien@example.org",
    'x@xn--bcher-kva.example',
    'jörg@bücher.example',
    'a_b-c@sub-domain.example.io',
  ]) {
    assert.equal(addressProblem(address), null, address);
  }
});

test('addresses: everything else rejected with a reason', () => {
  const rows: [string, RegExp][] = [
    ['', /empty/],
    ['ada', /single address/],
    ['ada@', /single address/],
    ['@example.com', /single address/],
    ['Ada <ada@example.com>', /without a display name/],
    ['<ada@example.com>', /without a display name/],
    ['ada@example.com, bob@example.com', /one address.*sendEmails/],
    ['ada@example.com;bob@example.com', /one address/],
    ['ada@example.com bob@example.com', /one address/],
    ['ada@example', /domain/],
    ['ada@exa mple.com', /domain/],
    ['a..b@example.com', /local part/],
    ['.a@example.com', /local part/],
    ['a.@example.com', /local part/],
    ['"quoted"@example.com', /local part/],
    ['ada@example.com\r\nBcc: eve@example.com', /control/],
    ['ada@-example.com', /domain/],
    ['a,b@example.com', /local part/],
    [`${'a'.repeat(65)}@example.com`, /local part must be at most 64/],
    [`a@${'b'.repeat(250)}.com`, /at most 254/],
    // Full-width letters reach the plain domain on the wire, past the suppression list.
    ['victim@\uff45xample.com', /write it as "example\.com"/],
    ['victim@example.\uff43\uff4f\uff4d', /write it as "example\.com"/],
  ];
  for (const [address, expected] of rows) {
    const problem = addressProblem(address);
    assert.ok(problem, `${JSON.stringify(address)} should be rejected`);
    assert.match(problem, expected, JSON.stringify(address));
  }
});

test('headers: names are tokens, values single-line, reserved names refused', () => {
  assert.deepEqual(headerProblems([{ name: 'X-Campaign', value: 'spring' }], 'input.headers'), []);
  const rows: [string, string, string, RegExp][] = [
    ['X Bad', 'v', 'input.headers[0].name', /not a valid header name/],
    ['X-Colon:', 'v', 'input.headers[0].name', /not a valid header name/],
    ['', 'v', 'input.headers[0].name', /not a valid header name/],
    ['From', 'v', 'input.headers[0].name', /set by mailscope/],
    ['message-id', 'v', 'input.headers[0].name', /set by mailscope/],
    ['Content-Type', 'v', 'input.headers[0].name', /set by mailscope/],
    ['BCC', 'v', 'input.headers[0].name', /set by mailscope/],
    ['X-Ok', 'a\r\nBcc: eve@example.com', 'input.headers[0].value', /line breaks/],
    ['X-Ok', 'a\nb', 'input.headers[0].value', /line breaks/],
    ['X-Ok', 'x'.repeat(2_001), 'input.headers[0].value', /at most 2000/],
  ];
  for (const [name, value, field, expected] of rows) {
    const problems = headerProblems([{ name, value }], 'input.headers');
    assert.equal(problems.length, 1, `${name}: ${JSON.stringify(problems)}`);
    assert.equal(problems[0]!.field, field);
    assert.match(problems[0]!.problem, expected);
  }
});

test('single-line values: no line breaks, bounded', () => {
  assert.equal(singleLineProblem('Hello, wörld', 998), null);
  assert.match(singleLineProblem('a\rb', 998)!, /line breaks/);
  assert.match(singleLineProblem('a\u0000b', 998)!, /control/);
  assert.match(singleLineProblem('x'.repeat(999), 998)!, /at most 998/);
});
