// Raw records → keyed upserts and deletes: the plain format with and without an op field,
// Debezium envelopes (bare and Kafka Connect { schema, payload }), tombstones, order values and
// every way a record is rejected (never thrown).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../../src/errors.ts';
import { decodeChanges, type DecodeChangesOptions } from '../../../src/merge/change-decoder.ts';
import { latestPerKey } from '../../../src/merge/latest-changes.ts';
import { keyEncoder } from '../../../src/merge/row-key.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { NestedField } from '../../../src/spec/types.ts';

const f = (id: number, name: string, type: NestedField['type'], required = true): NestedField => ({ id, name, required, type });

const schema = new Schema(0, [
  f(1, 'id', { kind: 'long' }),
  f(2, 'name', { kind: 'string' }, false),
  f(3, 'updated', { kind: 'timestamptz' }, false),
  f(4, 'op', { kind: 'string' }, false),
], [1]);

const nestedKey = new Schema(0, [
  f(1, 'org', { kind: 'struct', fields: [f(2, 'id', { kind: 'int' })] }),
  f(3, 'id', { kind: 'long' }),
  f(4, 'v', { kind: 'string' }, false),
], [2, 3]);

const key = (...values: (bigint | number | string)[]): string => keyEncoder(values.length === 1 ? schema : nestedKey).encode(values);

function plain(records: unknown[], extra: Partial<DecodeChangesOptions> = {}) {
  return decodeChanges(records, { schema, format: 'plain', ...extra });
}
function debezium(records: unknown[], extra: Partial<DecodeChangesOptions> = {}) {
  return decodeChanges(records, { schema, format: 'debezium', ...extra });
}

describe('plain format', () => {
  test('without an op field every record is an upsert of itself', () => {
    const recs = [{ id: 1, name: 'a' }, { id: '2', name: 'b' }, { id: 1n, name: 'c' }];
    const r = plain(recs);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.orderPath, null);
    assert.deepEqual(r.changes.map((c) => [c.op, c.key, c.keyValues, c.index, c.order]), [
      ['upsert', key(1n), [1n], 0, null], ['upsert', key(2n), [2n], 1, null], ['upsert', key(1n), [1n], 2, null],
    ]);
    assert.equal(r.changes[0]!.row, recs[0]); // written as given, not copied
  });

  test('every op spelling, in any case', () => {
    const upserts = ['c', 'r', 'u', 'C', 'R', 'U', 'insert', 'update', 'upsert', 'INSERT', 'Update', 'UpSert', 'I', 'i'];
    const deletes = ['d', 'D', 'delete', 'DELETE', 'Delete'];
    const recs = [...upserts, ...deletes].map((op, i) => ({ id: i, _op: op }));
    const r = plain(recs, { opField: '_op' });
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.changes.map((c) => c.op), [...upserts.map(() => 'upsert'), ...deletes.map(() => 'delete')]);
  });

  test('the op field is dropped from the written row unless it is a table column', () => {
    const dropped = plain([{ id: 1, name: 'a', _op: 'u' }], { opField: '_op' });
    assert.deepEqual(dropped.changes[0]!.row, { id: 1, name: 'a' });
    const kept = plain([{ id: 1, name: 'a', op: 'u' }], { opField: 'op' });
    assert.deepEqual(kept.changes[0]!.row, { id: 1, name: 'a', op: 'u' });
  });

  test('a delete has no row and is keyed from the record', () => {
    const r = plain([{ id: '5', _op: 'D' }], { opField: '_op' });
    assert.deepEqual(r.changes.map((c) => [c.op, c.key, c.row]), [['delete', key(5n), null]]);
  });

  test('unknown, missing and non-string ops are rejected naming the field and value', () => {
    const r = plain([{ id: 1, _op: 'merge' }, { id: 2 }, { id: 3, _op: 1 }, { id: 4, _op: null }, { id: 5, _op: 'u' }], { opField: '_op' });
    assert.deepEqual(r.changes.map((c) => c.index), [4]);
    assert.deepEqual(r.rejected.map((x) => x.index), [0, 1, 2, 3]);
    assert.match(r.rejected[0]!.reason, /^op field '_op' has unknown op "merge" \(expected .*insert.*\)$/);
    assert.match(r.rejected[1]!.reason, /^op field '_op' is missing/);
    assert.match(r.rejected[2]!.reason, /^op field '_op' has unknown op 1 /);
    for (const x of r.rejected) assert.ok(!x.reason.includes('\n'));
  });

  test('non-object records and null or bad keys are rejected, never thrown', () => {
    const r = plain([null, [1], 'x', 7, { name: 'no key' }, { id: null }, { id: 'seven' }, { id: 1.5 }, { id: 1 }]);
    assert.deepEqual(r.changes.map((c) => c.index), [8]);
    const reasons = r.rejected.map((x) => `${x.index}: ${x.reason}`);
    assert.match(reasons[0]!, /^0: expected a record \(JSON object\), got null/);
    assert.match(reasons[1]!, /^1: expected a record \(JSON object\), got array/);
    assert.match(reasons[2]!, /^2: .*got string "x"/);
    assert.match(reasons[3]!, /^3: .*got number 7/);
    assert.match(reasons[4]!, /^4: key field 'id' is missing \(null\)$/);
    assert.match(reasons[5]!, /^5: key field 'id' is missing/);
    assert.match(reasons[6]!, /^6: key field 'id': expected long/);
    assert.match(reasons[7]!, /^7: key field 'id': expected long/);
  });

  test('a delete whose key is missing is rejected', () => {
    const r = plain([{ _op: 'd', name: 'x' }], { opField: '_op' });
    assert.deepEqual(r.changes, []);
    assert.match(r.rejected[0]!.reason, /^delete: key field 'id' is missing/);
  });

  test('composite and nested keys', () => {
    const r = decodeChanges([{ org: { id: '3' }, id: 9, v: 'x' }, { org: {}, id: 9 }, { id: 9 }], { schema: nestedKey, format: 'plain' });
    assert.deepEqual(r.changes.map((c) => [c.key, c.keyValues]), [[key(3, 9n), [3, 9n]]]);
    assert.match(r.rejected[0]!.reason, /key field 'org.id' is missing/);
    assert.match(r.rejected[1]!.reason, /key field 'org.id' is missing/);
  });

  test('orderBy reads a dotted path into the record; a missing or unusable order is rejected', () => {
    const recs = [
      { id: 1, seq: { n: 5 } }, { id: 1, seq: { n: '12' } }, { id: 1, seq: {} }, { id: 1 }, { id: 1, seq: { n: true } }, { id: 1, seq: { n: 'abc' } },
    ];
    const r = plain(recs, { orderBy: 'seq.n' });
    assert.equal(r.orderPath, 'seq.n');
    assert.deepEqual(r.changes.map((c) => [c.index, c.order]), [[0, 5n], [1, 12n], [5, 'abc']]);
    assert.deepEqual(r.rejected.map((x) => x.index), [2, 3, 4]);
    assert.match(r.rejected[0]!.reason, /^order field 'seq.n' is missing/);
    assert.match(r.rejected[2]!.reason, /^order field 'seq.n': expected a number.*got boolean true/);
    // 'seq' is no table column: it is not written
    assert.deepEqual(r.changes[0]!.row, { id: 1 });
  });

  test('ISO timestamp order values become microseconds; a column order field stays in the row', () => {
    const r = plain([{ id: 1, updated: '2024-01-01T00:00:00.5+01:00' }, { id: 1, updated: '2023-12-31 23:00:00.4Z' }, { id: 1, updated: '2024-13-01T00:00:00Z' }], { orderBy: 'updated' });
    assert.deepEqual(r.changes.map((c) => c.order), [1704063600500000n, 1704063600400000n]);
    assert.deepEqual(r.changes[0]!.row, { id: 1, updated: '2024-01-01T00:00:00.5+01:00' });
    assert.match(r.rejected[0]!.reason, /^order field 'updated': looks like a timestamp but is not one/);
  });

  test('bad options throw a ValidationError', () => {
    assert.throws(() => plain([], { orderBy: '' }), ValidationError);
    assert.throws(() => plain([], { orderBy: 'a..b' }), ValidationError);
    assert.throws(() => plain([], { opField: '' }), ValidationError);
    assert.throws(() => debezium([], { opField: 'op' }), ValidationError);
    assert.throws(() => decodeChanges([{ id: 1 }], { schema: new Schema(0, schema.fields, []), format: 'plain' }), /no identifier fields/);
  });
});

const source = (lsn?: number | bigint | string) => ({ version: '2.7.0', connector: 'postgresql', db: 'shop', table: 'items', ...(lsn === undefined ? {} : { lsn }) });
const ev = (op: string, before: unknown, after: unknown, ts_ms?: number, lsn?: number | bigint | string) => ({
  before, after, source: source(lsn), op, ...(ts_ms === undefined ? {} : { ts_ms }), transaction: null,
});
const wrapped = (payload: unknown) => ({ schema: { type: 'struct', fields: [], optional: false, name: 'shop.items.Envelope' }, payload });

describe('debezium format', () => {
  test('c, r, u upsert their after row; d deletes by its before row', () => {
    const recs = [
      ev('r', null, { id: 1, name: 'snap' }, 100, 10),
      ev('c', null, { id: 2, name: 'new' }, 101, 11),
      ev('u', { id: 2, name: 'new' }, { id: 2, name: 'upd' }, 102, 12),
      ev('d', { id: 1, name: 'snap' }, null, 103, 13),
    ];
    const r = debezium(recs);
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.changes.map((c) => [c.op, c.key, c.row, c.order, c.index]), [
      ['upsert', key(1n), { id: 1, name: 'snap' }, 10n, 0],
      ['upsert', key(2n), { id: 2, name: 'new' }, 11n, 1],
      ['upsert', key(2n), { id: 2, name: 'upd' }, 12n, 2],
      ['delete', key(1n), null, 13n, 3],
    ]);
    assert.equal(r.orderPath, 'source.lsn');
  });

  test('the Kafka Connect { schema, payload } wrapping decodes the same as the bare envelope', () => {
    const bare = [ev('c', null, { id: 1 }, 5, 50n), ev('d', { id: 1 }, null, 6, 51n)];
    const a = debezium(bare);
    const b = debezium(bare.map(wrapped));
    assert.deepEqual(b, a);
    assert.equal(b.changes.length, 2);
  });

  test('tombstones (null records, null payloads) are ignored, not rejected', () => {
    const r = debezium([null, ev('c', null, { id: 1 }, 5), undefined, wrapped(null), { schema: null, payload: null }]);
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.changes.map((c) => c.index), [1]);
  });

  test('truncate is rejected as unsupported; unknown or missing ops are rejected', () => {
    const r = debezium([
      ev('t', null, null, 5, 1), ev('m', null, null, 5, 2), { before: null, after: { id: 1 } }, ev('C', null, { id: 1 }, 5, 3), ev('c', null, { id: 1 }, 5, 4),
    ]);
    assert.deepEqual(r.changes.map((c) => c.index), [4]);
    assert.deepEqual(r.rejected.map((x) => x.index), [0, 1, 2, 3]);
    assert.match(r.rejected[0]!.reason, /op 't' \(truncate\) is not supported/);
    assert.match(r.rejected[1]!.reason, /unknown op "m"/);
    assert.match(r.rejected[2]!.reason, /no 'op' field/);
    assert.match(r.rejected[3]!.reason, /unknown op "C"/);
  });

  test('events without the row they need, or with no key in it, are rejected', () => {
    const r = debezium([
      ev('c', null, null, 1, 1), ev('u', { id: 1 }, 'x', 1, 2), ev('d', null, null, 1, 3), ev('d', { name: 'no key' }, null, 1, 4),
      ev('u', null, { name: 'no key' }, 1, 5), 'not json object', [ev('c', null, { id: 1 }, 1, 6)], wrapped(5),
    ]);
    assert.deepEqual(r.changes, []);
    const reasons = r.rejected.map((x) => x.reason);
    assert.equal(reasons.length, 8);
    assert.match(reasons[0]!, /op 'c' has no 'after' row \(got null\)/);
    assert.match(reasons[1]!, /op 'u' has no 'after' row \(got string\)/);
    assert.match(reasons[2]!, /delete has no 'before' row/);
    assert.match(reasons[3]!, /^Debezium delete: 'before' key field 'id' is missing/);
    assert.match(reasons[4]!, /^'after' key field 'id' is missing/);
    assert.match(reasons[5]!, /expected a Debezium change event \(JSON object\), got string/);
    assert.match(reasons[6]!, /got array/);
    assert.match(reasons[7]!, /'payload' to be a Debezium change event/);
    assert.deepEqual(r.rejected.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('default order: source.lsn when every event has one, else ts_ms, else none', () => {
    const withLsn = debezium([ev('c', null, { id: 1 }, 900, 20), ev('u', null, { id: 1 }, 100, 21)]);
    assert.equal(withLsn.orderPath, 'source.lsn');
    assert.deepEqual(withLsn.changes.map((c) => c.order), [20n, 21n]);
    // one event lacks an lsn: ts_ms for all, never an lsn compared with a timestamp
    const mixed = debezium([ev('c', null, { id: 1 }, 900, 20), ev('u', null, { id: 1 }, 100)]);
    assert.equal(mixed.orderPath, 'ts_ms');
    assert.deepEqual(mixed.changes.map((c) => c.order), [900n, 100n]);
    const none = debezium([ev('c', null, { id: 1 }, 900), ev('u', null, { id: 1 })]);
    assert.equal(none.orderPath, null);
    assert.deepEqual(none.changes.map((c) => c.order), [null, null]);
    // rejected events do not take part in the choice
    const rej = debezium([ev('c', null, { id: 1 }, 900, 20), ev('x', null, { id: 1 }, 100)]);
    assert.equal(rej.orderPath, 'source.lsn');
    assert.equal(debezium([]).orderPath, null);
  });

  test('orderBy names a path into the envelope; a missing one is rejected', () => {
    const r = debezium([
      ev('c', null, { id: 1, updated: '2024-01-01T00:00:00Z' }, 900, 20), ev('d', { id: 1 }, null, 901, 21),
    ], { orderBy: 'after.updated' });
    assert.equal(r.orderPath, 'after.updated');
    assert.deepEqual(r.changes.map((c) => c.order), [1704067200000000n]);
    assert.match(r.rejected[0]!.reason, /^order field 'after.updated' is missing/);
    const ts = debezium([ev('c', null, { id: 1 }, 900, 20)], { orderBy: 'ts_ms' });
    assert.deepEqual(ts.changes.map((c) => c.order), [900n]);
  });

  test('a Debezium after row is written as given, with all its fields', () => {
    const after = { id: 3, name: 'x', op: 'kept: a table column' };
    const r = debezium([ev('c', null, after, 1, 1)]);
    assert.equal(r.changes[0]!.row, after);
  });
});

describe('decoding end to end', () => {
  test('a Debezium stream (insert, update, delete, re-insert) leaves the last state per key', () => {
    const stream = [
      ev('c', null, { id: 1, name: 'a' }, 1, 100), ev('c', null, { id: 2, name: 'b' }, 1, 101), null,
      ev('u', { id: 1 }, { id: 1, name: 'a2' }, 2, 102), ev('d', { id: 2 }, null, 3, 103), null,
      ev('c', null, { id: 2, name: 'b again' }, 4, 104), ev('d', { id: 1 }, null, 5, 105),
    ].map((e) => (e === null ? null : wrapped(e)));
    // delivered out of order (a redelivered older event at the end): lsn decides, not position
    stream.push(wrapped(ev('u', { id: 2 }, { id: 2, name: 'stale' }, 2, 103n)));
    const r = debezium(stream);
    const latest = latestPerKey(r.changes, r.orderPath !== null);
    assert.deepEqual(latest.map((c) => [c.keyValues, c.op, c.row]), [[[2n], 'upsert', { id: 2, name: 'b again' }], [[1n], 'delete', null]]);
  });

  test('plain with op and order fields: both leave the row, the order decides', () => {
    const r = plain([{ id: 1, name: 'new', _op: 'u', _seq: 2 }, { id: 1, name: 'old', _op: 'I', _seq: 1 }, { id: 2, _op: 'd', _seq: 1 }], { opField: '_op', orderBy: '_seq' });
    const latest = latestPerKey(r.changes, r.orderPath !== null);
    assert.deepEqual(latest.map((c) => [c.index, c.row]), [[0, { id: 1, name: 'new' }], [2, null]]);
  });

  test('property: arbitrary input never throws and every record is a change, a rejection or a tombstone (seeded)', () => {
    const row = fc.record({ id: fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.integer(), fc.string(), fc.constant(null), fc.double()), name: fc.string() }, { requiredKeys: [] });
    const op = fc.oneof(fc.constantFrom('c', 'r', 'u', 'd', 't', 'm', 'D', 'insert', 'x'), fc.anything());
    const event = fc.record({
      op, before: fc.oneof(row, fc.constant(null), fc.anything()), after: fc.oneof(row, fc.constant(null), fc.anything()),
      ts_ms: fc.oneof(fc.integer(), fc.string(), fc.anything()), source: fc.oneof(fc.record({ lsn: fc.oneof(fc.bigInt(), fc.integer(), fc.anything()) }), fc.anything()),
    }, { requiredKeys: [] });
    const record = fc.oneof(event, event.map(wrapped), fc.record({ schema: fc.anything(), payload: fc.anything() }), fc.constant(null), fc.anything(), row,
      fc.tuple(row, op).map(([r, o]) => ({ ...r, _op: o, _seq: r.name })));
    fc.assert(fc.property(fc.array(record, { maxLength: 25 }), fc.boolean(), fc.constantFrom(undefined, 'ts_ms', '_seq', 'source.lsn'), (recs, isDebezium, orderBy) => {
      const r = isDebezium ? debezium(recs, orderBy ? { orderBy } : {}) : plain(recs, { opField: '_op', ...(orderBy ? { orderBy } : {}) });
      const seen = [...r.changes.map((c) => c.index), ...r.rejected.map((x) => x.index)].sort((a, b) => a - b);
      assert.equal(new Set(seen).size, seen.length);
      for (const x of r.rejected) assert.ok(x.reason.length > 0 && !x.reason.includes('\n'), x.reason);
      for (const c of r.changes) {
        assert.equal(c.keyValues.length, 1);
        assert.equal(typeof c.keyValues[0], 'bigint');
        assert.equal((c.row === null), c.op === 'delete');
      }
      // only debezium skips records (tombstones), and only null ones
      const skipped = recs.map((_, i) => i).filter((i) => !seen.includes(i));
      if (!isDebezium) assert.deepEqual(skipped, []);
      for (const i of skipped) {
        const x = recs[i] as { payload?: unknown } | null | undefined;
        assert.ok(x === null || x === undefined || x.payload === null || x.payload === undefined, `record ${i} vanished`);
      }
      latestPerKey(r.changes, r.orderPath !== null);
    }), { seed: 31337, numRuns: 300 });
  });
});
