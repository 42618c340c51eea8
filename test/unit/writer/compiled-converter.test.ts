// The compiled records → Arrow loop against the reference converter: on random records of every
// type (valid, and mutated into misfits), recordsToArrow must give byte-identical Arrow IPC, the
// same metrics and byte estimate, or the very same error (class, message, record, field) as
// recordsToArrowReference — and on valid records the compiled loop must really be the path taken.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { RecordValidationError } from '../../../src/errors.ts';
import { schemaFromJson, type Schema } from '../../../src/spec/schema.ts';
import { compiledConversion } from '../../../src/writer/compiled-converter.ts';
import { parseTimestamp, timestampMicrosFast } from '../../../src/writer/value-parsers.ts';
import { Converter, recordsToArrow, recordsToArrowReference, type ConvertedBatch } from '../../../src/writer/record-converter.ts';
import { ALL_TYPES_SCHEMA_JSON, EVENTS_SCHEMA_JSON, generateRows } from '../../support/datagen.ts';

const ALL = schemaFromJson(ALL_TYPES_SCHEMA_JSON, { assignIds: true });
const EVENTS = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });
/** Field names that objects inherit, required fast-path columns, and a name needing quotes. */
const ODD = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'constructor', required: false, type: 'string' },
    { name: 'toString', required: false, type: 'long' },
    { name: 'a"b\\c\u2028', required: true, type: 'int' },
    { name: 'flag', required: true, type: 'boolean' },
    { name: 'f', required: true, type: 'float' },
    { name: 'tz', required: true, type: 'timestamptz' },
  ],
}, { assignIds: true });

type Outcome =
  | { ok: true; ipc: Uint8Array; metrics: unknown; bytes: number }
  | { ok: false; name: string; message: string; recordIndex?: number; fieldPath?: string };

function outcome(run: () => ConvertedBatch): Outcome {
  try {
    const b = run();
    return { ok: true, ipc: arrow.tableToIPC(b.table, 'stream'), metrics: [...b.metrics], bytes: b.arrowBytes };
  } catch (err) {
    if (err instanceof RecordValidationError) return { ok: false, name: err.name, message: err.message, recordIndex: err.recordIndex, fieldPath: err.fieldPath };
    return { ok: false, name: (err as Error).name, message: (err as Error).message };
  }
}

function sameAsReference(schema: Schema, records: readonly unknown[], owners?: ArrayLike<number>): Outcome {
  const fast = outcome(() => recordsToArrow(schema, records, owners));
  const ref = outcome(() => recordsToArrowReference(schema, records, owners));
  if (fast.ok && ref.ok) {
    assert.ok(Buffer.from(fast.ipc).equals(Buffer.from(ref.ipc)), 'Arrow IPC bytes differ');
    assert.deepStrictEqual(fast.metrics, ref.metrics);
    assert.equal(fast.bytes, ref.bytes);
  } else {
    assert.deepStrictEqual(fast, ref);
  }
  return ref;
}

/** True when the compiled loop converts `records` itself (no fallback to the reference). */
function compiledTakes(schema: Schema, records: readonly unknown[]): boolean {
  try {
    compiledConversion(schema)!(records, new Converter(schema), Int32Array.from(records, (_, i) => i));
    return true;
  } catch {
    return false;
  }
}

/** A class instance: `id` from a prototype getter (not enumerable), the rest own properties. */
class WithGetter { get id(): number { return 7; } }
function withGetter(rec: Record<string, unknown>, extraOwn: boolean): object {
  const r = new WithGetter() as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(rec)) if (k !== 'id') r[k] = v;
  if (extraOwn) r.own = 1;
  return r;
}

/** Values that misfit some column, or fit in an unusual form. */
const ODD_VALUES: unknown[] = [
  null, undefined, 0, -0, 1.5, -1, 2147483648, -2147483649, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, Number.NaN, Infinity, -Infinity,
  3.5e38, 1e300, 12n, 2n ** 63n, -(2n ** 63n) - 1n, '12', ' 12', '-9223372036854775808', '9223372036854775808', '1.0', '',
  'NaN', 'Infinity', 'é', 'a\ud800b', '\udc00', '😀', 'x'.repeat(70), true, false, 'true', [], [1], {}, { x: 1 },
  new Date(0), new Date(Number.NaN), new Uint8Array(3), new Map(), '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123456',
  '2026-01-01T00:00:00+01:00', '2026-02-30T00:00:00Z', '2026-01-01 00:00:00z', '2026-01-01T00:00:00.1234567Z',
  '+12026-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', 1_700_000_000_000, -62_135_596_800_000, 9e15,
];

/** A record with one change: a field set to an odd value, a key added or removed, or another shape. */
function mutate(rec: Record<string, unknown>, schema: Schema, kind: number, field: number, value: number): unknown {
  const name = schema.fields[field % schema.fields.length]!.name;
  if (typeof rec !== 'object' || rec === null) return rec; // already mutated into a non-record
  switch (kind) {
    case 0: return { ...rec, [name]: ODD_VALUES[value % ODD_VALUES.length] };
    case 1: { const r = { ...rec }; delete r[name]; return r; }
    case 2: return { ...rec, extra: 1 };
    case 3: return Object.assign(Object.create(null) as object, rec);
    case 4: return withGetter(rec, value % 2 === 0);
    case 5: return [null, 'text', 5, [], new Map(), new Date(0), new Uint8Array(1)][value % 7];
    case 6: { const r = { ...rec }; Object.defineProperty(r, name, { value: rec[name], enumerable: false }); return r; }
    default: return { ...rec, [name]: undefined };
  }
}

const mutation = fc.record({ row: fc.nat(), kind: fc.nat(7), field: fc.nat(), value: fc.nat() });

describe('compiled records → Arrow conversion', () => {
  for (const [label, schema] of [['all types', ALL], ['events', EVENTS]] as const) {
    test(`${label}: valid random records convert as the reference does, through the compiled loop`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (count, seed) => {
        const rows = generateRows(schema, count, seed).map((r) => r.input);
        assert.ok(compiledTakes(schema, rows), 'compiled loop fell back on valid records');
        const r = sameAsReference(schema, rows);
        assert.ok(r.ok);
      }), { numRuns: 150 });
    });

    test(`${label}: mutated records give the reference's result or its exact error`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (count, seed, muts, withOwners) => {
        const rows: unknown[] = generateRows(schema, count, seed).map((r) => r.input);
        for (const m of muts) {
          const i = m.row % rows.length;
          rows[i] = mutate(rows[i] as Record<string, unknown>, schema, m.kind, m.field, m.value);
        }
        sameAsReference(schema, rows, withOwners ? Int32Array.from(rows, (_, i) => 1000 + 3 * i) : undefined);
      }), { numRuns: 400 });
    });
  }

  test('inherited, quoted and required field names', () => {
    const good = (i: number): Record<string, unknown> => ({
      constructor: i % 2 ? 'c' : null, toString: i, 'a"b\\c\u2028': i, flag: i % 3 === 0, f: i / 3, tz: '2026-01-01T00:00:00.5Z',
    });
    const rows = Array.from({ length: 20 }, (_, i) => good(i));
    assert.ok(compiledTakes(ODD, rows));
    assert.ok(sameAsReference(ODD, rows).ok);
    assert.ok(sameAsReference(ODD, [...rows, {}]).ok === false);
    // Absent inherited names read as null, not as Object.prototype's functions.
    const bare = rows.map((r) => { const { constructor: _c, toString: _t, ...rest } = r; return rest; });
    assert.ok(sameAsReference(ODD, bare).ok);
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), (muts) => {
      const rs: unknown[] = rows.map((r) => ({ ...r }));
      for (const m of muts) rs[m.row % rs.length] = mutate(rs[m.row % rs.length] as Record<string, unknown>, ODD, m.kind, m.field, m.value);
      sameAsReference(ODD, rs);
    }), { numRuns: 300 });
  });

  test('non-ASCII strings, lone surrogates and bounds past the BMP', () => {
    const s = (x: unknown, i: number) => ({ event_id: i, user_id: 1, ts: '2026-01-01T00:00:00Z', event_type: 'e', page: x });
    // '\uffff' < '😀' in UTF-16 units, but U+FFFF < U+1F600 holds in code points too; '\ue000' vs '\ud83d…' differs.
    for (const pages of [['abc', 'é', null, 'zz'], ['\ue000', '😀', 'a'], ['a', 'b\ud800', 'c'], ['😀', '\uffff']]) {
      const r = sameAsReference(EVENTS, pages.map(s));
      assert.equal(r.ok, !pages.some((p) => typeof p === 'string' && !(p as string & { isWellFormed(): boolean }).isWellFormed()));
    }
    const batch = recordsToArrow(EVENTS, ['\ue000', '😀', 'a'].map(s));
    const page = batch.metrics.get(EVENTS.findFieldByName('page')!.id)!;
    assert.equal(page.min, 'a');
    assert.equal(page.max, '😀'); // U+1F600 sorts after U+E000 by code point (UTF-8 bytes)
  });

  test('string columns joined whole (up to 8 Mi characters) and value by value (beyond) give the reference\'s bytes, offsets and bounds', () => {
    const s = (x: unknown, i: number) => ({ event_id: i, user_id: 1, ts: '2026-01-01T00:00:00Z', event_type: 'e', page: x });
    const big = 'y'.repeat(3 * 1024 * 1024);
    for (const pages of [
      ['b', null, 'a', '', 'c'], // joined: nulls join as ''
      [big, null, `${big}x`, 'a', big.slice(1)], // 9 Mi characters: value by value
      [big, `${big}é`, null, big], // non-ASCII past the join limit
      ['a', 'é', null], // non-ASCII within it
    ]) {
      const r = sameAsReference(EVENTS, pages.map(s));
      assert.equal(r.ok, true);
      const batch = recordsToArrow(EVENTS, pages.map(s));
      const col = batch.table.getChild('page')!;
      assert.deepEqual(col.toArray().map((v: string | null) => v), pages);
    }
  });

  test('the timestamp fast path keeps no stale date: a malformed date after a valid one is refused', () => {
    assert.equal(parseTimestamp('2025-11-05T00:00:00Z', true), 1762300800000000n);
    // '2026-11-X5' once read as the number of 2025-11-05 would have hit the cached day.
    for (const bad of ['2026-11-X5T00:00:00Z', '2025-11-0:T00:00:00Z', '2025-1:-05T00:00:00Z', '2025-02-29T00:00:00Z', '2025-11-31T00:00:00Z']) {
      assert.throws(() => parseTimestamp(bad, true), /expected timestamp/);
      assert.equal(timestampMicrosFast(bad, true), undefined);
    }
    assert.equal(parseTimestamp('2024-02-29T00:00:00Z', true), 1709164800000000n);
  });

  test('schemas with equal fields share one compiled loop; different fields do not', () => {
    const again = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });
    assert.notEqual(again, EVENTS);
    assert.equal(compiledConversion(again), compiledConversion(EVENTS));
    const renamed = schemaFromJson({ ...EVENTS_SCHEMA_JSON, fields: EVENTS_SCHEMA_JSON.fields.map((f, i) => (i === 0 ? { ...f, name: 'id' } : f)) }, { assignIds: true });
    assert.notEqual(compiledConversion(renamed), compiledConversion(EVENTS));
    const rows = generateRows(EVENTS, 5, 3).map((r) => r.input);
    assert.ok(sameAsReference(again, rows).ok);
    assert.equal(sameAsReference(renamed, rows).ok, false); // event_id is unknown there
  });

  test('a record the reference refuses is refused with the same one-line error', () => {
    const rows = generateRows(EVENTS, 10, 1).map((r) => r.input);
    rows[4] = { ...rows[4], user_id: 1.5 };
    rows[7] = { ...rows[7], ts: 'yesterday' };
    const r = sameAsReference(EVENTS, rows);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /^record 4: field 'user_id': expected long/);
  });

  test('getters, throwing getters and odd records: the reference\'s outcome', () => {
    const rows: unknown[] = generateRows(EVENTS, 40, 3).map((r) => r.input);
    let calls = 0;
    rows[2] = Object.defineProperty({ ...(rows[2] as object) }, 'page', { get: () => { calls++; return '/counted'; }, enumerable: true });
    sameAsReference(EVENTS, rows);
    assert.ok(calls >= 1, 'the getter was read');
    const throwing = [...rows];
    throwing[5] = Object.defineProperty({ ...(rows[5] as object) }, 'page', { get: () => { throw new TypeError('getter refused'); }, enumerable: true });
    const r = sameAsReference(EVENTS, throwing);
    assert.deepEqual(r, { ok: false, name: 'TypeError', message: 'getter refused' });
    const odd = [...rows];
    odd[1] = null; odd[3] = 'x'; odd[6] = [1, 2];
    assert.equal(sameAsReference(EVENTS, odd).ok, false);
  });

  test('records spanning several calls of the generated loop: counts, bounds and offsets carried across', () => {
    // The loop converts 2,048 records per call; bounds, null counts and string offsets of one
    // column cross those boundaries, and a misfit in a later call is refused as the reference does.
    const rows: Record<string, unknown>[] = generateRows(EVENTS, 5000, 11).map((r) => r.input as Record<string, unknown>);
    rows[0] = { ...rows[0], page: null, value: -0 };
    rows[2047] = { ...rows[2047], user_id: -(2 ** 40), event_type: '\u00e9t\u00e9' };
    rows[2048] = { ...rows[2048], user_id: 2 ** 52, page: 'z'.repeat(3000) };
    rows[4999] = { ...rows[4999], value: 0, count: -5 };
    assert.ok(compiledTakes(EVENTS, rows));
    assert.ok(sameAsReference(EVENTS, rows).ok);
    // A getter, a throwing getter and a Proxy past the first calls: the reference's outcome.
    const odd: unknown[] = [...rows];
    odd[2100] = Object.defineProperty({ ...rows[2100] }, 'page', { get: () => '/late-getter', enumerable: true });
    odd[4200] = new Proxy({ ...rows[4200] }, {});
    assert.ok(sameAsReference(EVENTS, odd).ok);
    odd[3000] = Object.defineProperty({ ...rows[3000] }, 'count', { get: () => { throw new TypeError('count refused'); }, enumerable: true });
    assert.deepEqual(sameAsReference(EVENTS, odd), { ok: false, name: 'TypeError', message: 'count refused' });
    const bad = [...rows];
    bad[4500] = { ...bad[4500], count: 'many' };
    const r = sameAsReference(EVENTS, bad);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /^record 4500: field 'count'/);
  });

  test('records whose hidden class V8 deprecated while they were built convert as the reference does', () => {
    // A field first written as a small integer, later as a double, then as a string: the maps of
    // the records built before each change are deprecated (they migrate when a load site reads them).
    const build = (fractionalFrom: number): Record<string, unknown>[] => Array.from({ length: 6000 }, (_, i) => ({
      event_id: i, user_id: i < fractionalFrom ? i : i + 0.5, ts: '2026-01-01T00:00:00Z', event_type: 'e', page: i < 5000 ? null : `/p${i}`,
      value: i < 4000 ? i : i / 3, count: i, flag: i % 2 === 0,
    }));
    assert.ok(sameAsReference(EVENTS, build(Infinity)).ok);
    const rows = build(3000);
    // user_id 3000.5 is no long: refused at the first such record, as the reference does.
    const r = sameAsReference(EVENTS, rows);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /^record 3000: field 'user_id'/);
  });
});
