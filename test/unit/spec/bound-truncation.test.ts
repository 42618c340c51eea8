// Truncated lower/upper bounds for the truncate(N) metrics mode: prefixes for lower bounds,
// incremented prefixes for upper bounds, in code point (= UTF-8 byte) and unsigned byte order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../src/errors.ts';
import {
  truncateLowerBinary, truncateLowerString, truncateUpperBinary, truncateUpperString,
} from '../../../src/spec/bound-truncation.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

test('lower string bound keeps the first n code points', () => {
  assert.equal(truncateLowerString('iceberg', 3), 'ice');
  assert.equal(truncateLowerString('ice', 3), 'ice');
  assert.equal(truncateLowerString('', 3), '');
  assert.equal(truncateLowerString('😀😁😂', 2), '😀😁');
  assert.equal(truncateLowerString('a😀b', 2), 'a😀');
  assert.equal(truncateLowerString('😀😁', 2), '😀😁'); // 4 UTF-16 units, 2 code points
});

test('upper string bound increments the last kept code point', () => {
  assert.equal(truncateUpperString('iceberg', 3), 'icf');
  assert.equal(truncateUpperString('abz', 2), 'ac');
  assert.equal(truncateUpperString('a😀b', 2), 'a😁');
  assert.equal(truncateUpperString('a\uFFFFb', 2), 'a\u{10000}'); // BMP → supplementary
});

test('upper string bound is the input when it has no more than n code points', () => {
  assert.equal(truncateUpperString('ice', 3), 'ice');
  assert.equal(truncateUpperString('😀😁', 2), '😀😁');
  assert.equal(truncateUpperString('\u{10FFFF}\u{10FFFF}', 2), '\u{10FFFF}\u{10FFFF}');
  assert.equal(truncateUpperString('', 1), '');
});

test('upper string bound skips the surrogate range', () => {
  assert.equal(truncateUpperString('a\uD7FFz', 2), 'a\uE000');
});

test('upper string bound carries past U+10FFFF into the previous code point', () => {
  assert.equal(truncateUpperString('a\u{10FFFF}z', 2), 'b');
  assert.equal(truncateUpperString('ab\u{10FFFF}\u{10FFFF}z', 4), 'ac');
});

test('upper string bound is impossible when every kept code point is U+10FFFF', () => {
  assert.equal(truncateUpperString('\u{10FFFF}\u{10FFFF}a', 2), undefined);
  assert.equal(truncateUpperString('\u{10FFFF}x', 1), undefined);
});

test('a lone surrogate is bounded as the U+FFFD an encoder writes for it', () => {
  assert.equal(truncateUpperString('a\uD800zz', 2), 'a\uFFFE');
  assert.equal(truncateLowerString('a\uD800zz', 2), 'a\uD800');
});

test('string bounds hold in UTF-8 byte order for a mix of widths', () => {
  const values = ['a', 'ab€', '😀', '\uFFFF\uFFFF', '\u{10000}x', 'zz\u{10FFFF}', 'ä\u{10FFFF}\u{10FFFF}y', '\uD7FF\uD7FF'];
  for (const n of [1, 2, 3]) {
    for (const value of values) {
      const lower = truncateLowerString(value, n);
      assert.ok(utf8Compare(lower, value) <= 0, `lower ${JSON.stringify(value)} n=${n}`);
      const upper = truncateUpperString(value, n);
      if (upper !== undefined) {
        assert.ok(utf8Compare(upper, value) >= 0, `upper ${JSON.stringify(value)} n=${n}`);
        assert.ok([...upper].length <= n, `upper length ${JSON.stringify(value)} n=${n}`);
      }
    }
  }
});

test('lower binary bound keeps the first n bytes', () => {
  assert.deepEqual(truncateLowerBinary(hex('0102030405'), 3), hex('010203'));
  const short = hex('0102');
  assert.equal(truncateLowerBinary(short, 3), short);
  assert.deepEqual(truncateLowerBinary(new Uint8Array(0), 3), new Uint8Array(0));
});

test('upper binary bound increments the last byte below 0xFF', () => {
  assert.deepEqual(truncateUpperBinary(hex('0102030405'), 3), hex('010204'));
  assert.deepEqual(truncateUpperBinary(hex('01ffff05'), 3), hex('02'));
  assert.deepEqual(truncateUpperBinary(hex('01feff'), 2), hex('01ff'));
  const short = hex('ffff');
  assert.equal(truncateUpperBinary(short, 2), short);
  assert.equal(truncateUpperBinary(hex('ffff00'), 2), undefined);
});

test('upper binary bound never aliases the input', () => {
  const input = hex('0102030405');
  const bound = truncateUpperBinary(input, 3)!;
  bound[0] = 0x7f;
  assert.equal(input[0], 0x01);
});

test('non-positive or fractional lengths are rejected', () => {
  assert.throws(() => truncateLowerString('abc', 0), ValidationError);
  assert.throws(() => truncateUpperString('abc', -1), ValidationError);
  assert.throws(() => truncateLowerBinary(hex('01'), 1.5), ValidationError);
  assert.throws(() => truncateUpperBinary(hex('01'), 0), ValidationError);
});
