// Key tuples of identifier fields: read from raw records with the writer's parsers, and encoded
// to one canonical string (injective; number/bigint/string inputs of one value agree).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../../src/errors.ts';
import { keyEncoder, keyValuesOfRecord } from '../../../src/merge/row-key.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { NestedField, PrimitiveValue } from '../../../src/spec/types.ts';

const f = (id: number, name: string, type: NestedField['type'], required = true): NestedField => ({ id, name, required, type });

/** id: long key; plus a nested key customer.region (string) when `nested`. */
function schemaOf(keyIds: number[]): Schema {
  return new Schema(0, [
    f(1, 'id', { kind: 'long' }),
    f(2, 'n', { kind: 'int' }),
    f(3, 'customer', { kind: 'struct', fields: [f(4, 'region', { kind: 'string' }), f(5, 'since', { kind: 'timestamptz' })] }),
    f(6, 'u', { kind: 'uuid' }),
    f(7, 'amount', { kind: 'decimal', precision: 10, scale: 2 }),
    f(8, 'constructor', { kind: 'string' }),
    f(9, 'day', { kind: 'date' }),
    f(10, 'flag', { kind: 'boolean' }),
    f(11, 'bin', { kind: 'binary' }),
    f(12, 'label', { kind: 'string' }, false),
  ], keyIds);
}

describe('keyEncoder', () => {
  test('refuses a schema without identifier fields', () => {
    assert.throws(() => keyEncoder(schemaOf([])), (e: unknown) => e instanceof ValidationError && /no identifier fields/.test(e.message));
  });

  test('lists the key fields with ids, types and dotted names', () => {
    const enc = keyEncoder(schemaOf([1, 4]));
    assert.deepEqual(enc.fieldIds, [1, 4]);
    assert.deepEqual(enc.types, [{ kind: 'long' }, { kind: 'string' }]);
    assert.deepEqual(enc.names, ['id', 'customer.region']);
  });

  test('number and bigint of the same integer give the same key; -0 is 0', () => {
    const enc = keyEncoder(schemaOf([1, 2]));
    assert.equal(enc.encode([7n, 3]), enc.encode([7, 3n]));
    assert.equal(enc.encode([0, 1]), enc.encode([-0, 1n]));
    assert.notEqual(enc.encode([7n, 3]), enc.encode([7n, 4]));
    // Past 2^53 a number's text is exponent form; the key uses the exact integer.
    assert.equal(enc.encode([2 ** 60, 1]), enc.encode([2n ** 60n, 1]));
  });

  test('separators and tags inside strings do not make different tuples collide', () => {
    const enc = keyEncoder(schemaOf([12, 4, 8]));
    const tuples: PrimitiveValue[][] = [
      ['a,sb', 'c', ''], ['a', 'b,sc', ''], ['a', 'sb,c', ''], ['a', 'b', 'c'], ['a,s1:b', 'c', ''], ['', '', 'a,b'], [',', ',', ','],
      ['s1:a', '', ''], ['1:a', '', ''], ['a', '', 's'], ['', 'n', ''],
    ];
    const keys = new Set(tuples.map((t) => enc.encode(t)));
    assert.equal(keys.size, tuples.length);
    assert.notEqual(enc.encode([null, 'a', 'b']), enc.encode(['n', 'a', 'b']));
  });

  test('bytes keys compare by content, not identity', () => {
    const enc = keyEncoder(schemaOf([11, 1]));
    assert.equal(enc.encode([Uint8Array.of(1, 2, 3), 1n]), enc.encode([new Uint8Array([1, 2, 3]), 1n]));
    assert.notEqual(enc.encode([Uint8Array.of(0x2c), 1n]), enc.encode([Uint8Array.of(), 1n]));
    // a view into a larger buffer reads only its own bytes
    const big = Uint8Array.of(9, 1, 2, 3, 9);
    assert.equal(enc.encode([big.subarray(1, 4), 1n]), enc.encode([Uint8Array.of(1, 2, 3), 1n]));
  });

  test('property: encode is injective over mixed tuples of adversarial values (seeded)', () => {
    const text = fc.string({ unit: fc.constantFrom(',', ':', 's', 'n', 'i', 'b', '1', '0', '\u0000', '😀'), maxLength: 4 });
    const value: fc.Arbitrary<PrimitiveValue | null> = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -3, max: 12 }),
      fc.bigInt({ min: -3n, max: 12n }),
      fc.constantFrom(0.5, -0.5, -0, Number.NaN, 1e21, 2 ** 53 + 2, Number.POSITIVE_INFINITY, 1.1),
      text,
      fc.uint8Array({ maxLength: 3 }).map((b) => b.map((x) => [0x2c, 0x3a, 0x73, 0x31][x % 4]!)),
    );
    /** Equality of key values as MERGE means it, written independently of the encoder. */
    const canonical = (t: readonly (PrimitiveValue | null)[]): string => JSON.stringify(t.map((v) => {
      if (v === null) return ['null'];
      if (typeof v === 'bigint') return ['int', v.toString()];
      if (typeof v === 'number') return Number.isInteger(v) ? ['int', BigInt(v).toString()] : ['float', String(v)];
      if (v instanceof Uint8Array) return ['bytes', Buffer.from(v).toString('hex')];
      return [typeof v, v];
    }));
    for (const arity of [1, 2, 3]) {
      const ids = [12, 4, 8].slice(0, arity);
      const enc = keyEncoder(schemaOf(ids));
      fc.assert(fc.property(fc.array(fc.array(value, { minLength: arity, maxLength: arity }), { minLength: 2, maxLength: 40 }), (tuples) => {
        const seen = new Map<string, string>();
        for (const t of tuples) {
          const k = enc.encode(t);
          const c = canonical(t);
          const prev = seen.get(k);
          if (prev !== undefined && prev !== c) return false;
          seen.set(k, c);
        }
        // and equal canonical tuples got equal keys
        const byCanonical = new Map<string, string>();
        for (const t of tuples) {
          const c = canonical(t);
          const k = enc.encode(t);
          if ((byCanonical.get(c) ?? k) !== k) return false;
          byCanonical.set(c, k);
        }
        return true;
      }), { seed: 20261127 + arity, numRuns: 400 });
    }
  });
  test('property: string-only tuples over the separator alphabet never collide (seeded)', () => {
    // Small alphabet, many tuples: splits like ["a,sb", "c"] / ["a", "b,sc"] come up often.
    const text = fc.string({ unit: fc.constantFrom(',', 's', ':', '1', 'n'), maxLength: 4 });
    for (const arity of [2, 3]) {
      const enc = keyEncoder(schemaOf([12, 4, 8].slice(0, arity)));
      fc.assert(fc.property(fc.array(fc.array(fc.oneof(text, fc.constant(null)), { minLength: arity, maxLength: arity }), { minLength: 50, maxLength: 300 }), (tuples) => {
        const seen = new Map<string, string>();
        for (const t of tuples) {
          const k = enc.encode(t);
          const c = JSON.stringify(t);
          if ((seen.get(k) ?? c) !== c) return false;
          seen.set(k, c);
        }
        return true;
      }), { seed: 777 + arity, numRuns: 200 });
    }
  });
});

describe('keyValuesOfRecord', () => {
  test('a long key given as number, bigint or digit string reads (and encodes) the same', () => {
    const s = schemaOf([1]);
    const enc = keyEncoder(s);
    const forms = [{ id: 7 }, { id: 7n }, { id: '7' }].map((r) => keyValuesOfRecord(s, r));
    for (const v of forms) assert.deepEqual(v, [7n]);
    assert.equal(new Set(forms.map((v) => enc.encode(v))).size, 1);
  });

  test('int reads as number, long as bigint, decimal as its unscaled bigint', () => {
    const s = schemaOf([2, 1, 7]);
    assert.deepEqual(keyValuesOfRecord(s, { n: 5n, id: '5', amount: '1.50' }), [5, 5n, 150n]);
    assert.deepEqual(keyValuesOfRecord(s, { n: '5', id: 5, amount: 1.5 }), [5, 5n, 150n]);
  });

  test('nested key fields are read by path; missing parts read as null', () => {
    const s = schemaOf([1, 4]);
    assert.deepEqual(keyValuesOfRecord(s, { id: 1, customer: { region: 'eu' } }), [1n, 'eu']);
    assert.deepEqual(keyValuesOfRecord(s, { id: 1, customer: null }), [1n, null]);
    assert.deepEqual(keyValuesOfRecord(s, { id: 1, customer: 'eu' }), [1n, null]);
    assert.deepEqual(keyValuesOfRecord(s, { customer: { region: 'eu' } }), [null, 'eu']);
    assert.deepEqual(keyValuesOfRecord(s, null), [null, null]);
  });

  test('a key named like an Object.prototype member reads only the own property', () => {
    const s = schemaOf([8]);
    assert.deepEqual(keyValuesOfRecord(s, {}), [null]);
    assert.deepEqual(keyValuesOfRecord(s, { constructor: 'x' }), ['x']);
  });

  test('temporal, uuid and boolean keys use the writer parsers', () => {
    const s = schemaOf([6, 9, 10]);
    const enc = keyEncoder(s);
    const a = keyValuesOfRecord(s, { u: 'f79c3e09-677c-4bbd-a479-3f349cb785e7', day: '2024-02-29', flag: true });
    const b = keyValuesOfRecord(s, { u: 'F79C3E09677C4BBDA4793F349CB785E7', day: 19782, flag: true });
    assert.equal(enc.encode(a), enc.encode(b));
    const ts = schemaOf([5]);
    const t1 = keyValuesOfRecord(ts, { customer: { since: '2024-01-01T01:00:00+01:00' } });
    const t2 = keyValuesOfRecord(ts, { customer: { since: Date.UTC(2024, 0, 1) } });
    assert.deepEqual(t1, t2);
  });

  test('a value its type refuses throws a ValidationError naming the key field', () => {
    const s = schemaOf([1, 4]);
    assert.throws(() => keyValuesOfRecord(s, { id: 'seven', customer: { region: 'eu' } }),
      (e: unknown) => e instanceof ValidationError && /^key field 'id': expected long/.test(e.message));
    assert.throws(() => keyValuesOfRecord(s, { id: 1, customer: { region: 5 } }),
      (e: unknown) => e instanceof ValidationError && /^key field 'customer.region': expected string/.test(e.message));
  });

  test('property: random (long, int, string) keys agree across number/bigint/string inputs and stay distinct (seeded)', () => {
    const s = new Schema(0, [f(1, 'id', { kind: 'long' }), f(2, 'n', { kind: 'int' }), f(3, 's', { kind: 'string' })], [1, 2, 3]);
    const enc = keyEncoder(s);
    const key = fc.record({
      id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      n: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      s: fc.string({ unit: fc.constantFrom('a', ',', ':', '1', 's'), maxLength: 3 }),
    });
    fc.assert(fc.property(fc.array(key, { minLength: 1, maxLength: 30 }), fc.nat(), (keys, pick) => {
      const seen = new Map<string, string>();
      for (const k of keys) {
        const forms: unknown[] = [
          { id: k.id, n: k.n, s: k.s },
          { id: k.id.toString(), n: String(k.n), s: k.s },
          { id: k.id >= BigInt(Number.MIN_SAFE_INTEGER) && k.id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(k.id) : k.id, n: BigInt(k.n), s: k.s },
        ];
        const encoded = forms.map((r) => enc.encode(keyValuesOfRecord(s, r)));
        if (new Set(encoded).size !== 1) return false;
        const identity = `${k.id}|${k.n}|${JSON.stringify(k.s)}`;
        const prev = seen.get(encoded[0]!);
        if (prev !== undefined && prev !== identity) return false;
        seen.set(encoded[0]!, identity);
      }
      // a changed component changes the key
      const k = keys[pick % keys.length]!;
      return enc.encode([k.id, k.n, k.s]) !== enc.encode([k.id + 1n, k.n, k.s])
        && enc.encode([k.id, k.n, k.s]) !== enc.encode([k.id, k.n, `${k.s},`]);
    }), { seed: 4242, numRuns: 300 });
  });
});
