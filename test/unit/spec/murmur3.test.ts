// Murmur3 x86 32-bit against the Iceberg spec's Appendix B reference values and the
// algorithm's published SMHasher-style vectors (seed 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InternalError } from '../../../src/errors.ts';
import {
  murmur3Hash32, murmur3HashInt32, murmur3HashInt64, murmur3HashInt64Parts,
} from '../../../src/spec/murmur3.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('hashLong matches the spec for 34 (int and long hash identically)', () => {
  assert.equal(murmur3HashInt64(34n), 2017239379);
  assert.equal(murmur3HashInt64Parts(34, 0), 2017239379);
});

test('hashBytes matches the spec for strings, bytes and decimals', () => {
  assert.equal(murmur3Hash32(utf8('iceberg')), 1210000089);
  assert.equal(murmur3Hash32(new Uint8Array([0, 1, 2, 3])), -188683207);
  // 14.20 → unscaled 1420 → minimal big-endian 0x05 0x8C.
  assert.equal(murmur3Hash32(new Uint8Array([0x05, 0x8c])), -500754589);
  const uuid = Uint8Array.from(Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex'));
  assert.equal(murmur3Hash32(uuid), 1488055340);
});

test('published seed-0 vectors cover every tail length and unsigned block math', () => {
  // Ian Boyd's MurmurHash3_x86_32 vectors (stackoverflow.com/a/31929528), as used by mmh3's
  // test suite; the expected values are unsigned, our results signed.
  const vectors: [number[] | string, number][] = [
    [[], 0x00000000],
    [[0xff, 0xff, 0xff, 0xff], 0x76293b50],
    [[0x21, 0x43, 0x65, 0x87], 0xf55b516b],
    [[0x21, 0x43, 0x65], 0x7e4a8634],
    [[0x21, 0x43], 0xa0f7b07a],
    [[0x21], 0x72661cf4],
    [[0, 0, 0, 0], 0x2362f9de],
    [[0, 0, 0], 0x85f0b427],
    [[0, 0], 0x30f4c306],
    [[0], 0x514e28b7],
    ['abc', 0xb3dd93fa],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 0xee925b90],
  ];
  for (const [input, expected] of vectors) {
    const bytes = typeof input === 'string' ? utf8(input) : Uint8Array.from(input);
    assert.equal(murmur3Hash32(bytes), expected | 0, JSON.stringify(input));
  }
});

test('offset and length select a window without copying', () => {
  const framed = new Uint8Array([9, 9, 0, 1, 2, 3, 9]);
  assert.equal(murmur3Hash32(framed, 2, 4), -188683207);
  assert.throws(() => murmur3Hash32(framed, 5, 4), InternalError);
});

test('hashInt hashes 4 little-endian bytes', () => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, -123456789, true);
  assert.equal(murmur3HashInt32(-123456789), murmur3Hash32(bytes));
});

test('hashLong equals hashBytes of 8 little-endian bytes, including negatives', () => {
  const edges = [0n, -1n, 1n << 31n, -(1n << 31n), 1n << 32n, -(1n << 32n), (1n << 53n) - 1n, 1n - (1n << 53n), 1n << 53n];
  for (const v of [...edges, 1510871468000000n, -9223372036854775808n, 9223372036854775807n]) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, v, true);
    assert.equal(murmur3HashInt64(v), murmur3Hash32(bytes), String(v));
  }
});
