// Records → Arrow: values land exactly (longs beyond 2^53, decimals, instants with offsets),
// and every misfit is refused with record index, field path, value and expected type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordValidationError } from '../../../src/errors.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { recordsToArrow } from '../../../src/writer/record-converter.ts';
import { parseDate, parseDecimal, parseTime, parseTimestamp } from '../../../src/writer/value-parsers.ts';

const schema = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'n', required: false, type: 'int' },
    { name: 'amount', required: false, type: 'decimal(5,2)' },
    { name: 'ts', required: false, type: 'timestamptz' },
    { name: 'local', required: false, type: 'timestamp' },
    { name: 'f', required: false, type: 'float' },
    { name: 'tags', required: false, type: { type: 'list', 'element-required': true, element: 'string' } },
    { name: 'pt', required: false, type: { type: 'struct', fields: [{ name: 'x', required: true, type: 'double' }] } },
  ],
}, { assignIds: true });

function refused(records: unknown[], index: number, field: string, detail: RegExp): void {
  assert.throws(() => recordsToArrow(schema, records), (err: unknown) => {
    assert.ok(err instanceof RecordValidationError, String(err));
    assert.equal(err.recordIndex, index);
    assert.equal(err.fieldPath, field);
    assert.match(err.message, detail);
    assert.equal(err.message.split('\n').length, 1);
    return true;
  });
}

describe('recordsToArrow', () => {
  test('values arrive exactly', () => {
    const batch = recordsToArrow(schema, [
      { id: '9007199254740993', n: 7, amount: '-123.40', ts: '2026-01-01T01:30:00.000001+01:30', local: '1969-12-31T23:59:59.999999', f: 0.1, tags: ['a', 'ü'], pt: { x: -0 } },
      { id: 9007199254740993n, amount: '5', tags: [] },
    ]);
    const t = batch.table;
    assert.equal(t.getChild('id')!.get(0), 9007199254740993n);
    assert.equal(t.getChild('id')!.get(1), 9007199254740993n);
    assert.equal(t.getChild('n')!.get(1), null);
    const tsData = t.getChild('ts')!.data[0]!.values as BigInt64Array;
    assert.equal(tsData[0], 1767225600000001n);
    assert.equal(parseTimestamp('2026-01-01T01:30:00.000001+01:30', true), 1767225600000001n);
    assert.equal(parseTimestamp('1969-12-31T23:59:59.999999', false), -1n);
    assert.equal(Math.fround(0.1), t.getChild('f')!.get(0));
    assert.deepStrictEqual([...t.getChild('tags')!.get(0)!], ['a', 'ü']);
    assert.ok(Object.is(t.getChild('pt')!.get(0)!.x, -0));
    const ids = batch.metrics.get(schema.findFieldByName('id')!.id)!;
    assert.equal(ids.valueCount, 2);
    assert.equal(ids.min, 9007199254740993n);
    const amount = batch.metrics.get(schema.findFieldByName('amount')!.id)!;
    assert.equal(amount.min, -12340n);
    assert.equal(amount.max, 500n);
  });

  test('misfits are refused with record, field and reason', () => {
    refused([{ id: 1 }, { id: 2, extra: 1 }], 1, 'extra', /unknown column/);
    refused([{ id: 1 }, { n: 1 }], 1, 'id', /required value is missing/);
    // biome-ignore lint/correctness/noPrecisionLoss: a JS number beyond 2^53 is the input under test
    refused([{ id: 9007199254740993 }], 0, 'id', /beyond 2\^53/);
    refused([{ id: '9223372036854775808' }], 0, 'id', /does not fit in 64 bits/);
    refused([{ id: 1, n: 2147483648 }], 0, 'n', /expected int/);
    refused([{ id: 1, n: '12' }, { id: 2, n: 1.5 }], 1, 'n', /expected int/);
    refused([{ id: 1, amount: '1234.5' }], 0, 'amount', /does not fit decimal\(5,2\)/);
    refused([{ id: 1, amount: '1.234' }], 0, 'amount', /more than 2 fraction digits/);
    refused([{ id: 1, ts: '2026-02-30T00:00:00Z' }], 0, 'ts', /invalid timestamp/);
    refused([{ id: 1, local: '2026-01-01T00:00:00Z' }], 0, 'local', /zoned value/);
    refused([{ id: 1, f: 1e39 }], 0, 'f', /out of float/);
    refused([{ id: 1, tags: ['a', null] }], 0, 'tags.element', /required value is missing/);
    refused([{ id: 1 }, { id: 2, tags: 'a' }], 1, 'tags', /expected list/);
    refused([{ id: 1, pt: {} }], 0, 'pt.x', /required value is missing/);
    refused([{ id: 1, pt: { x: 1, y: 2 } }], 0, 'pt.y', /unknown field/);
    refused([{ id: 1 }, 'not an object'], 1, '(record)', /expected an object/);
  });

  test('the timestamp fast path agrees with the general parser', () => {
    for (const t of ['1970-01-01T00:00:00', '1969-12-31T23:59:59.5', '2026-11-21T12:34:56.123456', '2000-02-29T23:59:59.000001', '1900-01-01T00:00:00.1', '2199-12-31 23:59:59.99']) {
      assert.equal(parseTimestamp(`${t}Z`, true), parseTimestamp(`${t}+00:00`, true), t);
      assert.equal(parseTimestamp(t, false), parseTimestamp(`${t}+00:00`, true), t);
    }
    assert.throws(() => parseTimestamp('2026-11-21T12:34:56Z', false), /zoned value/);
    assert.throws(() => parseTimestamp('2025-02-29T00:00:00Z', true), /invalid timestamp/);
  });

  test('parsers keep precision or refuse', () => {
    assert.equal(parseDecimal('-0.50', 4, 2), -50n);
    assert.equal(parseDecimal('7.100', 4, 2), 710n);
    assert.equal(parseDate('1900-03-01'), -25508);
    assert.equal(parseTime('23:59:59.999999'), 86_399_999_999n);
    assert.throws(() => parseTime('12:00:00.0000001'), /sub-microsecond/);
    assert.equal(parseTimestamp('2026-11-21T12:00:00.123456000', false) % 1_000_000n, 123456n);
    assert.throws(() => parseTimestamp('2026-11-21T12:00:00.123456789', false), /sub-microsecond/);
  });
});
