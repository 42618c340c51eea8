// parseJsonExact against an independent parser (lossless-json's, numbers decided by the same
// rule) on seeded random documents: every JSON number form — long fractions, exponents,
// negative zero, integers beyond 2^53 — parses, and strings holding digits are left alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInteger, isSafeNumber, parse as losslessParse } from 'lossless-json';
import { parseJsonExact, stringifyJsonExact } from '../../../src/spec/json.ts';
import { seededRandom as rng } from '../../../src/cli/demo.ts';


const reference = (text: string): unknown =>
  losslessParse(text, null, (s: string) => (isInteger(s) && !isSafeNumber(s) ? BigInt(s) : Number(s)));

function numberLiteral(r: () => number): string {
  const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  const sign = r() < 0.5 ? '-' : '';
  const intPart = (): string => { const n = 1 + Math.floor(r() * 25); const d = digits(n); return n > 1 ? `${1 + Math.floor(r() * 9)}${d.slice(1)}` : d; };
  switch (Math.floor(r() * 8)) {
    case 0: return JSON.stringify(r()); // what JSON.stringify(Math.random()) prints
    case 1: { // any finite double, from random bits
      const f = new Float64Array(1);
      const u = new Uint32Array(f.buffer);
      do { u[0] = Math.floor(r() * 2 ** 32); u[1] = Math.floor(r() * 2 ** 32); } while (!Number.isFinite(f[0]!));
      return JSON.stringify(f[0]);
    }
    case 2: return `${sign}${intPart()}`; // integers, many beyond 2^53 and beyond 64 bits
    case 3: return `${sign}${intPart()}.${digits(1 + Math.floor(r() * 30))}`; // long fractions
    case 4: return `${sign}${intPart()}${r() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(r() * 3)]}${Math.floor(r() * 300)}`;
    case 5: return `${sign}${intPart()}.${digits(1 + Math.floor(r() * 20))}e${r() < 0.5 ? '-' : ''}${Math.floor(r() * 300)}`;
    case 6: return ['-0', '0', '-0.0', '0e0', '-0E-0', '9007199254740993', '-9223372036854775808', '18446744073709551616'][Math.floor(r() * 8)]!;
    default: return String(Math.floor(r() * 2 ** 31) * (sign ? -1 : 1));
  }
}

function document(r: () => number, depth = 0): string {
  const k = depth > 3 ? 0 : Math.floor(r() * 4);
  if (k === 0) return numberLiteral(r);
  if (k === 1) return JSON.stringify(`s${numberLiteral(r)}"\\${numberLiteral(r)}`); // digits inside strings
  if (k === 2) return `[${Array.from({ length: Math.floor(r() * 4) }, () => document(r, depth + 1)).join(', ')}]`;
  return `{${Array.from({ length: Math.floor(r() * 4) }, (_, i) => `"k${i}${numberLiteral(r)}":${document(r, depth + 1)}`).join(',')}}`;
}

describe('parseJsonExact', () => {
  test('every number form of 20,000 random documents parses as an independent parser reads it', () => {
    const seed = 20261127;
    const r = rng(seed);
    for (let n = 0; n < 20_000; n++) {
      const text = document(r);
      let expected: unknown;
      try { expected = reference(text); } catch { continue; }
      const overflows = /Infinity/.test(String(JSON.stringify(expected, (_k, v) => (typeof v === 'bigint' ? 0 : v === Infinity || v === -Infinity ? 'Infinity' : v))));
      if (overflows) {
        assert.throws(() => parseJsonExact(text), /beyond the range of a double/, `seed ${seed} case ${n}: ${text}`);
        continue;
      }
      assert.deepStrictEqual(parseJsonExact(text), expected, `seed ${seed} case ${n}: ${text}`);
    }
  });

  test('the forms from the issue', () => {
    assert.equal(parseJsonExact('0.21432741417924794'), 0.21432741417924794);
    assert.deepStrictEqual(parseJsonExact('{"x":0.21432741417924794,"y":[1.5e-7,-2E+20,12345678901234567890]}'),
      { x: 0.21432741417924794, y: [1.5e-7, -2e20, 12345678901234567890n] });
    assert.ok(Object.is(parseJsonExact('-0'), -0));
    assert.equal(parseJsonExact('9007199254740993'), 9007199254740993n);
    assert.equal(parseJsonExact('-9007199254740993.0'), -9007199254740992);
    assert.equal(parseJsonExact('3.4028235e38'), 3.4028235e38);
    assert.equal(parseJsonExact('1e-400'), 0);
    assert.throws(() => parseJsonExact('{"d":1e309}'), /number 1e309 at position 5 is beyond the range of a double/);
    assert.throws(() => parseJsonExact('[-2.5E+400]'), /beyond the range/);
    assert.throws(() => parseJsonExact(`{"s":"\\u0001","d":1e309}`), /beyond the range/); // the marker-clash path too
  });

  test('bigints round-trip through stringifyJsonExact', () => {
    const v = { id: 9223372036854775807n, f: 0.21432741417924794, neg: -9223372036854775808n };
    assert.deepStrictEqual(parseJsonExact(stringifyJsonExact(v)), v);
  });
});
