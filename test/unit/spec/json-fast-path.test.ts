// parseJsonExact's native fast path against the exact path it short-cuts (parseJsonExactSlow):
// same value (bigint, -0 and all) or the same error, on generated documents full of the forms
// that decide between them — integers around and beyond 2^53, long fractions, exponents up to
// overflow, negative numbers, digits inside strings after escaped quotes, marker characters —
// and on broken texts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseJsonExact, parseJsonExactSlow } from '../../../src/spec/json.ts';

const digitRun = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** A JSON number literal: optional minus, 1–25 integer digits, optional fraction and exponent. */
const numberLiteral: fc.Arbitrary<string> = fc.tuple(
  fc.boolean(),
  fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digitRun(0, 24)).map(([a, b]) => a + b)),
  fc.option(digitRun(1, 30), { nil: undefined }),
  fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digitRun(1, 4)), { nil: undefined }),
).map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac !== undefined ? `.${frac}` : ''}${exp ? exp.join('') : ''}`);

const edgeNumbers = fc.constantFrom(
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740991', '-9007199254740993',
  '1234567890123456', '9999999999999999', '-9223372036854775808', '18446744073709551616',
  '1e308', '1e309', '-1e309', '1.7976931348623157e308', '1.7976931348623159e308', '1e-400', '-0', '-0.0', '0e0',
  '9007199254740993.0', '9007199254740993e0', '12345678901234567890.5',
);

/** String tokens that look like numbers, escape quotes, or carry the marker character. */
const stringToken: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789-+.eE"\\ab\u0001\u00e9\ud83d\ude00'), maxLength: 30 }).map((s) => JSON.stringify(s)),
  fc.tuple(numberLiteral, numberLiteral).map(([a, b]) => `"${a}\\"${b}"`),
  edgeNumbers.map((n) => `"x\\\\${n}"`),
  fc.constantFrom('"\\u0001n:123"', '"\u0001n:9007199254740993"', '"\\"\\\\"'),
);

const document: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberLiteral, edgeNumbers, stringToken, fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
    fc.array(fc.tuple(stringToken, tie('value')), { maxLength: 5 }).map((kv) => `{${kv.map(([k, v]) => `${k}:${v}`).join(', ')}}`),
  ),
})).value;

type Outcome = { value: unknown } | { error: string };
function outcome(parse: (text: string) => unknown, text: string): Outcome {
  try {
    return { value: parse(text) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe('parseJsonExact fast path', () => {
  test('equals the exact path on generated documents (values, bigints, -0, range errors)', () => {
    fc.assert(fc.property(document, (text) => {
      assert.deepStrictEqual(outcome(parseJsonExact, text), outcome(parseJsonExactSlow, text));
    }), { numRuns: 3000 });
  });

  test('equals the exact path on long texts (≥ 4 KiB: a digit-run scan picks the path first)', () => {
    const long = fc.tuple(document, fc.constantFrom(' ', 'x', '1', '12345678901234567')).map(([d, pad]) => `[${d}, "${pad.repeat(Math.ceil(4100 / pad.length))}"]`);
    fc.assert(fc.property(long, (text) => {
      assert.deepStrictEqual(outcome(parseJsonExact, text), outcome(parseJsonExactSlow, text));
    }), { numRuns: 500 });
  });

  test('equals the exact path on broken texts (same error, same message)', () => {
    const broken = fc.tuple(document, fc.nat(), fc.constantFrom('', '"', ',', '}', '-', '00', 'e', '\\', '1e999'))
      .map(([text, at, junk]) => { const i = at % (text.length + 1); return text.slice(0, i) + junk + text.slice(i + 1); });
    fc.assert(fc.property(broken, (text) => {
      assert.deepStrictEqual(outcome(parseJsonExact, text), outcome(parseJsonExactSlow, text));
    }), { numRuns: 3000 });
  });

  test('the forms that must leave the fast path come back exact', () => {
    assert.deepStrictEqual(parseJsonExact('{"id":9007199254740993,"s":"9007199254740993","n":-9223372036854775808}'),
      { id: 9007199254740993n, s: '9007199254740993', n: -9223372036854775808n });
    assert.deepStrictEqual(parseJsonExact('[9007199254740991, 1e16, -0]'), [9007199254740991, 1e16, -0]);
    assert.throws(() => parseJsonExact('{"x":[1e309]}'), /number 1e309 at position 6 is beyond the range of a double/);
    // Deeper than the call stack: the native parser copes, so must the check of its result.
    let deep: unknown = parseJsonExact(`${'['.repeat(50_000)}9007199254740991${']'.repeat(50_000)}`);
    for (let d = 0; d < 50_000; d++) deep = (deep as unknown[])[0];
    assert.equal(deep, 9007199254740991);
  });

  test('an out-of-range number is refused only when the value keeps it (a duplicate key may overwrite it)', () => {
    for (const parse of [parseJsonExact, parseJsonExactSlow]) {
      assert.deepStrictEqual(parse('{"a":1e999,"a":2}'), { a: 2 });
      assert.throws(() => parse('{"a":2,"a":-1e999}'), /number -1e999 at position 11 is beyond the range of a double/);
      // Broken texts are still refused for their first out-of-range number.
      assert.throws(() => parse('{"a":1e999,"a":'), /number 1e999 at position 5/);
      assert.throws(() => parse('{"a":01e999,"a":2}'), /number 01e999 at position 5/);
    }
  });
});
