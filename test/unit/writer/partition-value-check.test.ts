// Partition values that leave their field's type are refused at validation, with the record's
// index and field, both by the writer (groupByPartition) and by the record validator a stream
// uses to dead-letter (which runs groupByPartition on the record); truncate on int/long keeps Java's wrap.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordValidationError } from '../../../src/errors.ts';
import { parsePartitionExpression, partitionType } from '../../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { groupByPartition } from '../../../src/writer/data-file-writer.ts';
import { findRecordProblem } from '../../../src/writer/record-validator.ts';

const schema = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'amount', required: false, type: 'decimal(9,2)' },
  { name: 'ts', required: false, type: 'timestamp' },
  { name: 'n', required: false, type: 'int' },
  { name: 'big', required: false, type: 'long' },
] }, { assignIds: true });

function fieldsFor(expr: string) {
  return partitionType(parsePartitionExpression(expr, schema), schema);
}

function refusedByWriter(expr: string, records: unknown[], index: number, field: string, detail: RegExp): void {
  assert.throws(() => groupByPartition(records, fieldsFor(expr), schema), (err: unknown) => {
    assert.ok(err instanceof RecordValidationError, String(err));
    assert.equal(err.recordIndex, index);
    assert.equal(err.fieldPath, field);
    assert.match(err.message, detail);
    return true;
  });
}

describe('partition values must fit their field type', () => {
  test('truncate[100] of decimal(9,2) near the minimum is refused (ten digits)', () => {
    const records = [{ id: 1, amount: '5.00' }, { id: 2, amount: '-9999999.99' }];
    refusedByWriter('truncate(100,amount)', records, 1, 'amount', /-10000000\.00.*does not fit.*decimal\(9,2\)/);
    const fields = fieldsFor('truncate(100,amount)');
    assert.equal(findRecordProblem(schema, records[0], fields), undefined);
    const problem = findRecordProblem(schema, records[1], fields);
    assert.equal(problem?.field, 'amount');
    assert.match(problem?.reason ?? '', /-10000000\.00, .*decimal\(9,2\)/);
  });

  test('truncate[100] of decimal values that stay within nine digits is accepted', () => {
    const records = [{ id: 1, amount: '-9999999.00' }, { id: 2, amount: '9999999.99' }, { id: 3, amount: null }];
    const groups = groupByPartition(records, fieldsFor('truncate(100,amount)'), schema);
    assert.deepEqual(groups.map((g) => g.tuple[0]), [-999999900n, 999999900n, null]);
  });

  test('hour of a timestamp beyond the int range of hours is refused, day/year of it is not', () => {
    const far = { id: 1, ts: '+250000-01-01T00:00:00' };
    refusedByWriter('hour(ts)', [{ id: 0, ts: '2026-01-01T00:00:00' }, far], 1, 'ts', /does not fit.*int/);
    assert.equal(groupByPartition([far], fieldsFor('day(ts)'), schema).length, 1);
    assert.equal(groupByPartition([far], fieldsFor('year(ts)'), schema).length, 1);
    const problem = findRecordProblem(schema, far, fieldsFor('hour(ts)'));
    assert.match(problem?.reason ?? '', /ts_hour/);
  });

  test('truncate on int and long extremes wraps like Java and is accepted', () => {
    const groups = groupByPartition([{ id: 1, n: -2147483648, big: '-9223372036854775808' }], fieldsFor('truncate(10,n),truncate(10,big)'), schema);
    assert.deepEqual(groups[0]!.tuple, [2147483646, 9223372036854775806n]);
  });
});

test('identity partitions on a double keep -0.0 and 0.0 apart (one group each, as Java)', () => {
  const d = schemaFromJson({ type: 'struct', fields: [{ name: 'x', required: false, type: 'double' }] }, { assignIds: true });
  const fields = partitionType(parsePartitionExpression('x', d), d);
  const groups = groupByPartition([{ x: 0 }, { x: -0 }, { x: 0 }, { x: -0 }], fields, d);
  assert.equal(groups.length, 2);
  assert.deepEqual(groups.map((g) => g.rows), [[0, 2], [1, 3]]);
  assert.ok(Object.is(groups[1]!.tuple[0], -0));
  assert.ok(Object.is(groups[0]!.tuple[0], 0));
});
