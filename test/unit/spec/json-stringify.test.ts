// stringifyJsonExact writes, in one walk, exactly the text JSON.stringify writes — with bigints
// as plain integer literals (lossless-json's stringify is the independent reference for those).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify as losslessStringify } from 'lossless-json';
import { parseJsonExact, stringifyJsonExact } from '../../../src/spec/json.ts';

const awkward = {
  s: 'quote " backslash \\ newline \n tab \t nul \u0000 marker \u0001n:12 del \u007f é 😀 lone \ud800 end',
  '\u0001n:5': 'a key holding the old marker',
  'key "quoted"': [1, -0, 1.5e-7, -2e20, 0.21432741417924794, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity],
  skipped: undefined,
  fn: () => 1,
  arr: [undefined, () => 1, Symbol('x'), null, true, false, '', {}, []],
  nested: { a: { b: { c: [[[]], [{}]] } }, empty: {} },
  date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
  boxed: [new Number(3), new String('s'), new Boolean(false)],
};

describe('stringifyJsonExact', () => {
  test('writes what JSON.stringify writes for values without bigints, compact and indented', () => {
    assert.equal(stringifyJsonExact(awkward), JSON.stringify(awkward));
    for (const indent of [1, 2, 4]) assert.equal(stringifyJsonExact(awkward, indent), JSON.stringify(awkward, null, indent));
    for (const v of [null, 0, -0, 'x', true, [], {}, [[]], { a: [] }]) assert.equal(stringifyJsonExact(v), JSON.stringify(v));
  });

  test('bigints are plain integer literals, exactly as lossless-json writes them', () => {
    const v = {
      id: 9223372036854775807n, neg: -9223372036854775808n, small: 5n, zero: 0n,
      list: [9007199254740993n, { 'snapshot-id': 18446744073709551615n }], s: 'marker \u0001n:9007199254740993',
    };
    const text = stringifyJsonExact(v);
    assert.equal(text, losslessStringify(v));
    assert.equal(text, '{"id":9223372036854775807,"neg":-9223372036854775808,"small":5,"zero":0,"list":[9007199254740993,{"snapshot-id":18446744073709551615}],"s":"marker \\u0001n:9007199254740993"}');
    assert.deepStrictEqual(parseJsonExact(text), { ...v, small: 5, zero: 0 });
    assert.equal(stringifyJsonExact(v, 2), losslessStringify(v, null, 2));
  });

  test('a string holding the old marker text stays a string (no marker pass to confuse)', () => {
    const v = { summary: { note: '\u0001n:123' }, id: 123n };
    assert.deepStrictEqual(parseJsonExact(stringifyJsonExact(v)), { summary: { note: '\u0001n:123' }, id: 123 });
  });

  test('nothing serialisable is refused as JSON.stringify would return undefined', () => {
    assert.throws(() => stringifyJsonExact(undefined), /not serialisable/);
    assert.throws(() => stringifyJsonExact(() => 1), /not serialisable/);
  });
});
