// Spec Appendix D single-value encodings (expected bytes written out by hand from the spec
// table and Java's Conversions / BigInteger.toByteArray) and the bound ordering.
import assert from 'node:assert/strict';
import { ValidationError, ValueTypeError } from '../../../src/errors.ts';
import { describe, it } from 'node:test';

import {
  bigintToFixedBytes,
  compareValues,
  decodeSingleValue,
  encodeSingleValue,
} from '../../../src/spec/single-value.ts';
import { decimal, fixed, primitive } from '../../../src/spec/types.ts';
import type { PrimitiveType, PrimitiveValue } from '../../../src/spec/types.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));

function expectEncoding(type: PrimitiveType, value: PrimitiveValue, expectedHex: string): void {
  const bytes = encodeSingleValue(type, value);
  assert.equal(hex(bytes), expectedHex.replace(/\s/g, ''), `encode ${String(value)} as ${type.kind}`);
  assert.deepEqual(decodeSingleValue(type, bytes), value, `decode ${expectedHex} as ${type.kind}`);
}

describe('encodeSingleValue / decodeSingleValue', () => {
  it('boolean is one byte', () => {
    expectEncoding(primitive('boolean'), false, '00');
    expectEncoding(primitive('boolean'), true, '01');
  });

  it('int and date are 4-byte little-endian two\'s complement', () => {
    expectEncoding(primitive('int'), 1, '01000000');
    expectEncoding(primitive('int'), -1, 'ffffffff');
    expectEncoding(primitive('int'), 2147483647, 'ffffff7f');
    expectEncoding(primitive('int'), -2147483648, '00000080');
    expectEncoding(primitive('date'), 19723, '0b4d0000'); // 2024-01-01
    expectEncoding(primitive('date'), -1, 'ffffffff');
    assert.throws(() => encodeSingleValue(primitive('int'), 2147483648), ValidationError);
    assert.throws(() => encodeSingleValue(primitive('int'), 1n), ValueTypeError);
  });

  it('long, time and timestamps are 8-byte little-endian, exact beyond 2^53', () => {
    expectEncoding(primitive('long'), 9007199254740993n, '0100000000002000');
    expectEncoding(primitive('long'), -9007199254740993n, 'ffffffffffffdfff');
    expectEncoding(primitive('long'), 9223372036854775807n, 'ffffffffffffff7f');
    expectEncoding(primitive('long'), -9223372036854775808n, '0000000000000080');
    expectEncoding(primitive('time'), 3_600_000_000n, '00a493d600000000');
    expectEncoding(primitive('timestamp'), 1_700_000_000_000_000n, '00401e18240a0600');
    expectEncoding(primitive('timestamptz'), -1n, 'ffffffffffffffff');
    assert.throws(() => encodeSingleValue(primitive('long'), 1), ValueTypeError, 'a number must never stand in for a long');
    assert.throws(() => encodeSingleValue(primitive('long'), 2n ** 63n), ValidationError);
  });

  it('reads 4-byte bounds of a column promoted from int to long', () => {
    assert.equal(decodeSingleValue(primitive('long'), fromHex('feffffff')), -2n);
  });

  it('float and double are little-endian IEEE 754', () => {
    expectEncoding(primitive('float'), 1, '0000803f');
    expectEncoding(primitive('float'), -0, '00000080');
    expectEncoding(primitive('double'), 1, '000000000000f03f');
    expectEncoding(primitive('double'), -2.5, '00000000000004c0');
    assert.equal(decodeSingleValue(primitive('double'), fromHex('0000803f')), 1, 'float bound of a promoted column');
  });

  it('string is UTF-8 without length prefix', () => {
    expectEncoding(primitive('string'), 'abc', '616263');
    expectEncoding(primitive('string'), 'é😀', 'c3a9f09f9880');
    expectEncoding(primitive('string'), '', '');
  });

  it('uuid is 16 big-endian bytes; binary and fixed are raw', () => {
    const uuid = fromHex('f79c3e09677c4bbda479 3f349cb785e7'.replace(' ', ''));
    expectEncoding(primitive('uuid'), uuid, 'f79c3e09677c4bbda4793f349cb785e7');
    assert.throws(() => encodeSingleValue(primitive('uuid'), new Uint8Array(15)), ValidationError);
    expectEncoding(primitive('binary'), fromHex('00ff10'), '00ff10');
    expectEncoding(fixed(3), fromHex('0a0b0c'), '0a0b0c');
  });

  it('decimal is the unscaled value, minimal big-endian two\'s complement (BigInteger.toByteArray)', () => {
    const type = decimal(38, 2);
    expectEncoding(type, 0n, '00');
    expectEncoding(type, 1n, '01');
    expectEncoding(type, 127n, '7f');
    expectEncoding(type, 128n, '0080');
    expectEncoding(type, 255n, '00ff');
    expectEncoding(type, 256n, '0100');
    expectEncoding(type, 32767n, '7fff');
    expectEncoding(type, 32768n, '008000');
    expectEncoding(type, -1n, 'ff');
    expectEncoding(type, -128n, '80');
    expectEncoding(type, -129n, 'ff7f');
    expectEncoding(type, -256n, 'ff00');
    expectEncoding(type, -32769n, 'ff7fff');
    const max38 = 10n ** 38n - 1n;
    expectEncoding(type, max38, '4b3b4ca85a86c47a098a223fffffffff');
    expectEncoding(type, -max38, 'b4c4b357a5793b85f675ddc000000001');
  });

  it('fixed-width decimal bytes are sign-extended and range-checked', () => {
    assert.equal(hex(bigintToFixedBytes(-1n, 4)), 'ffffffff');
    assert.equal(hex(bigintToFixedBytes(128n, 2)), '0080');
    assert.throws(() => bigintToFixedBytes(128n, 1), ValidationError);
    assert.throws(() => bigintToFixedBytes(-129n, 1), ValidationError);
  });
});

describe('compareValues', () => {
  it('orders -0.0 before +0.0 and NaN above everything', () => {
    for (const kind of ['float', 'double'] as const) {
      const type = primitive(kind);
      assert.equal(compareValues(type, -0, 0), -1);
      assert.equal(compareValues(type, 0, -0), 1);
      assert.equal(compareValues(type, -0, -0), 0);
      assert.equal(compareValues(type, -1, -0), -1);
      assert.equal(compareValues(type, Number.POSITIVE_INFINITY, Number.NaN), -1);
      assert.equal(compareValues(type, Number.NaN, Number.NaN), 0);
    }
  });

  it('orders numbers and longs signed', () => {
    assert.equal(compareValues(primitive('int'), -5, 3), -1);
    assert.equal(compareValues(primitive('long'), -9007199254740993n, 9007199254740993n), -1);
    assert.equal(compareValues(primitive('long'), 9007199254740993n, 9007199254740992n), 1);
    assert.equal(compareValues(decimal(10, 2), -1n, 0n), -1);
    assert.equal(compareValues(primitive('boolean'), false, true), -1);
  });

  it('orders bytes unsigned and shorter-prefix first', () => {
    const type = primitive('binary');
    assert.equal(compareValues(type, fromHex('7f'), fromHex('80')), -1, '0x80 is 128, not -128');
    assert.equal(compareValues(type, fromHex('ff'), fromHex('00ff')), 1);
    assert.equal(compareValues(type, fromHex('01'), fromHex('0100')), -1);
    assert.equal(compareValues(type, fromHex('0102'), fromHex('0102')), 0);
    assert.equal(compareValues(primitive('uuid'), fromHex('80'.padEnd(32, '0')), fromHex('7f'.padEnd(32, 'f'))), 1);
    assert.equal(compareValues(fixed(1), fromHex('ff'), fromHex('01')), 1);
  });

  it('orders strings by code point, i.e. by UTF-8 bytes', () => {
    const type = primitive('string');
    // U+FF5E is one UTF-16 unit above U+D83D (the lead surrogate of 😀), but 😀 (U+1F600)
    // is the larger code point and has the larger UTF-8 encoding.
    assert.equal(compareValues(type, '～', '😀'), -1);
    assert.equal(compareValues(type, '😀', '～'), 1);
    assert.equal(compareValues(type, 'a', 'ab'), -1);
    assert.equal(compareValues(type, 'b', 'ab'), 1);
    assert.equal(compareValues(type, 'é', 'z'), 1);
    const pairs: [string, string][] = [['～', '😀'], ['😀', '😁'], ['a', 'é'], ['', 'a']];
    for (const [a, b] of pairs) {
      assert.equal(
        compareValues(type, a, b),
        Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
        `${a} vs ${b} agrees with UTF-8 byte order`,
      );
    }
  });
});
