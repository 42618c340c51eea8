// One change per key: greatest order wins (ties: later input), or the last in the input without
// order; winners come back in input order. Checked against a brute-force model with fast-check.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Change } from '../../../src/merge/change-decoder.ts';
import { compareOrderValues, parseOrderValue, type OrderValue } from '../../../src/merge/change-order.ts';
import { latestPerKey } from '../../../src/merge/latest-changes.ts';

const change = (index: number, key: string, order: OrderValue | null, op: Change['op'] = 'upsert'): Change => ({
  op, key, keyValues: [key], row: op === 'delete' ? null : { k: key, index }, order, index,
});

describe('latestPerKey', () => {
  test('without order the last change of each key wins, in input order', () => {
    const cs = [change(0, 'a', null), change(1, 'b', null), change(2, 'a', null, 'delete'), change(3, 'c', null), change(4, 'b', null)];
    assert.deepEqual(latestPerKey(cs, false).map((c) => c.index), [2, 3, 4]);
  });

  test('with order the greatest order wins even when earlier in the input', () => {
    const cs = [change(0, 'a', 10n, 'delete'), change(1, 'a', 5n), change(2, 'b', 1n), change(3, 'b', 2n)];
    const out = latestPerKey(cs, true);
    assert.deepEqual(out.map((c) => [c.index, c.op]), [[0, 'delete'], [3, 'upsert']]);
  });

  test('order ties go to the later change; a null order loses to any value', () => {
    const cs = [change(0, 'a', 7n), change(1, 'a', 7), change(2, 'b', 3n), change(3, 'b', null), change(4, 'c', null), change(5, 'c', null)];
    assert.deepEqual(latestPerKey(cs, true).map((c) => c.index), [1, 2, 5]);
  });

  test('order is ignored when hasOrder is false', () => {
    const cs = [change(0, 'a', 10n), change(1, 'a', 5n)];
    assert.deepEqual(latestPerKey(cs, false).map((c) => c.index), [1]);
  });

  test('winners come back sorted by input position even from a shuffled list', () => {
    const cs = [change(3, 'a', null), change(0, 'b', null), change(2, 'c', null), change(1, 'a', null)];
    assert.deepEqual(latestPerKey(cs, false).map((c) => c.index), [0, 2, 3]);
  });

  test('mixed kinds order numbers before strings; timestamps compare as instants', () => {
    const cs = [change(0, 'a', 'z'), change(1, 'a', 10n ** 30n), change(2, 'b', 1.5), change(3, 'b', 1n)];
    assert.deepEqual(latestPerKey(cs, true).map((c) => c.index), [0, 2]);
    const t = (s: string): OrderValue => (parseOrderValue(s) as { value: OrderValue }).value;
    const ts = [change(0, 'a', t('2024-01-01T10:00:00+02:00')), change(1, 'a', t('2024-01-01T09:00:00Z'))];
    assert.deepEqual(latestPerKey(ts, true).map((c) => c.index), [1]);
  });

  test('property: agrees with a brute-force model (seeded)', () => {
    const order: fc.Arbitrary<OrderValue | null> = fc.oneof(
      fc.constant(null), fc.bigInt({ min: -3n, max: 3n }), fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -2.5), fc.constantFrom('a', 'b', '\u{1F600}', '\uFFFF'),
    );
    const input = fc.array(fc.record({ key: fc.constantFrom('k1', 'k2', 'k3', 'k4'), order, del: fc.boolean() }), { maxLength: 40 });
    fc.assert(fc.property(input, fc.boolean(), (specs, hasOrder) => {
      const cs = specs.map((s, i) => change(i, s.key, s.order, s.del ? 'delete' : 'upsert'));
      const got = latestPerKey(cs, hasOrder).map((c) => c.index);
      // model: for each key, the change no other change of the key beats
      const expected = cs.filter((c) => cs.every((o) => o.key !== c.key || o === c || !(
        hasOrder ? compareOrderValues(o.order, c.order) > 0 || (compareOrderValues(o.order, c.order) === 0 && o.index > c.index) : o.index > c.index
      ))).map((c) => c.index);
      assert.deepEqual(got, expected);
      assert.equal(new Set(got.map((i) => cs[i]!.key)).size, got.length);
    }), { seed: 99, numRuns: 500 });
  });
});

describe('order values', () => {
  const value = (v: unknown): unknown => { const r = parseOrderValue(v); return 'value' in r ? r.value : `problem: ${r.problem}`; };

  test('integers (numbers, bigints, digit strings) become bigints', () => {
    assert.equal(value(5), 5n);
    assert.equal(value(5n), 5n);
    assert.equal(value('12345678901234567890'), 12345678901234567890n);
    assert.equal(value('-7'), -7n);
    assert.equal(value(1e21), 10n ** 21n);
    assert.ok(compareOrderValues(value('10') as OrderValue, value('9') as OrderValue) > 0);
  });

  test('fractions stay numbers and compare exactly with bigints', () => {
    assert.equal(value(1.5), 1.5);
    assert.equal(compareOrderValues(1.5, 1n), 1);
    assert.equal(compareOrderValues(2n ** 60n + 1n, 2 ** 60), 1); // no rounding through Number
    assert.equal(compareOrderValues(2n, 2), 0);
  });

  test('ISO timestamps become epoch microseconds (no zone means UTC)', () => {
    assert.equal(value('1970-01-01T00:00:01Z'), 1_000_000n);
    assert.equal(value('1970-01-01 00:00:01'), 1_000_000n);
    assert.equal(value('1970-01-01T01:00:01+01:00'), 1_000_000n);
    assert.match(String(value('1970-02-30T00:00:00Z')), /^problem: looks like a timestamp/);
  });

  test('other strings compare by code point', () => {
    assert.equal(value('00000027:00000758:0003'), '00000027:00000758:0003');
    assert.equal(compareOrderValues('\u{1F600}', '\uFFFF'), 1); // JS < says the opposite
    assert.equal(compareOrderValues('a', 5n), 1);
    assert.equal(compareOrderValues(null, 'a'), -1);
    assert.equal(compareOrderValues(null, null), 0);
  });

  test('booleans, objects, null and non-finite numbers are refused', () => {
    for (const v of [true, {}, [], null, Number.NaN, Number.POSITIVE_INFINITY]) assert.match(String(value(v)), /^problem: /);
  });
});
