// compareCodePoints (shared prefix skipped natively) against the unit-by-unit reference it
// replaced, on generated strings built to share long prefixes and to differ where UTF-16 and
// code point order disagree: astral characters (surrogate pairs) against U+E000..U+FFFF, lone
// high and low surrogates, one string a prefix of the other; and compareValues on 'string'.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { commonPrefixLength, compareCodePoints, compareCodePointsSlow, compareValues } from '../../../src/spec/single-value.ts';
import { primitive } from '../../../src/spec/types.ts';

/** Units chosen where the orders differ: ASCII, Latin-1, U+D7FF, U+E000, U+FFFF, a pair, lone surrogates. */
const piece = fc.constantFrom('a', 'b', 'z', 'é', '\u00ff', '\u4e2d', '\ud7ff', '\ue000', '\uffff', '\ud83d\ude00', '\ud83d\ude01', '\udbff\udfff', '\ud800', '\udc00', '\udfff', '\ud83d');
const shortString = fc.array(piece, { maxLength: 8 }).map((xs) => xs.join(''));
/** Two strings with a shared prefix of 0–2,000 units (crossing every block boundary). */
const pair = fc.tuple(
  fc.oneof(fc.constant(''), fc.tuple(piece, fc.integer({ min: 1, max: 2000 })).map(([p, n]) => p.repeat(n).slice(0, n)), shortString),
  shortString, shortString,
).map(([prefix, x, y]) => [prefix + x, prefix + y] as const);

describe('compareCodePoints fast path', () => {
  test('equals the unit-by-unit comparison (and is antisymmetric) on strings with long shared prefixes', () => {
    fc.assert(fc.property(pair, ([a, b]) => {
      const expected = compareCodePointsSlow(a, b);
      assert.equal(compareCodePoints(a, b), expected, JSON.stringify([a.length, b.length]));
      assert.equal(compareCodePoints(b, a), expected === 0 ? 0 : -expected);
      assert.equal(compareValues(primitive('string'), a, b), expected);
    }), { numRuns: 5000 });
  });

  test('equals the reference on arbitrary strings (full Unicode, lone surrogates)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 50 }), (a, b) => {
      assert.equal(compareCodePoints(a, b), compareCodePointsSlow(a, b));
      assert.equal(compareCodePoints(a, `${a}`), 0);
    }), { numRuns: 5000 });
  });

  test('commonPrefixLength is the first differing unit at every position of a long string', () => {
    const base = 'x'.repeat(3000);
    for (let i = 0; i < 3000; i += 7) {
      const other = `${base.slice(0, i)}y${base.slice(i + 1)}`;
      assert.equal(commonPrefixLength(base, other), i);
    }
    assert.equal(commonPrefixLength(base, base.slice(0, 1234)), 1234);
    // The case UTF-16 order gets wrong, after 900 shared units: U+1F600 sorts after U+FFFF.
    const p = 'x'.repeat(900);
    assert.equal(compareCodePoints(`${p}\ud83d\ude00`, `${p}\uffff`), 1);
    assert.equal(`${p}\ud83d\ude00` < `${p}\uffff`, true);
  });
});
