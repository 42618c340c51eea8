// The validator and the converter take the same records: every record here is either passed by
// findRecordProblem and converted by recordsToArrow, or refused by both at the same field. And
// the value rules of the "trust" issue: numbers in temporal columns, float/double range,
// offsets, lone surrogates, whitespace.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordValidationError } from '../../../src/errors.ts';
import { parseJsonExact } from '../../../src/spec/json.ts';
import { parsePartitionExpression, partitionType } from '../../../src/spec/partition-spec.ts';
import { groupByPartition } from '../../../src/writer/data-file-writer.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { recordsToArrow } from '../../../src/writer/record-converter.ts';
import { findRecordProblem } from '../../../src/writer/record-validator.ts';

const schema = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'n', required: false, type: 'int' },
    { name: 'ts', required: false, type: 'timestamp' },
    { name: 'tz', required: false, type: 'timestamptz' },
    { name: 'd', required: false, type: 'date' },
    { name: 't', required: false, type: 'time' },
    { name: 'f', required: false, type: 'float' },
    { name: 'x', required: false, type: 'double' },
    { name: 'amount', required: false, type: 'decimal(9,2)' },
    { name: 's', required: false, type: 'string' },
    { name: 'u', required: false, type: 'uuid' },
    { name: 'mp', required: false, type: { type: 'map', 'key-id': 100, key: 'string', 'value-id': 101, 'value-required': false, value: 'int' } },
    { name: 'im', required: false, type: { type: 'map', 'key-id': 102, key: 'int', 'value-id': 103, 'value-required': false, value: 'string' } },
  ],
}, { assignIds: true });

/** Parses one NDJSON line and runs both paths; returns the refused field, or undefined. */
function outcome(line: string): { field: string; reason: string } | undefined {
  const rec = parseJsonExact(line);
  const problem = findRecordProblem(schema, rec);
  let converterError: RecordValidationError | undefined;
  try {
    recordsToArrow(schema, [rec]);
  } catch (err) {
    if (!(err instanceof RecordValidationError)) throw err;
    converterError = err;
  }
  assert.equal(problem === undefined, converterError === undefined,
    `${line}: validator says ${JSON.stringify(problem)}, converter says ${converterError?.message}`);
  if (problem && converterError) {
    assert.equal(problem.field, converterError.fieldPath, line);
    assert.equal(problem.reason.split('\n').length, 1);
  }
  return problem;
}

function refused(line: string, field: string, reason: RegExp): void {
  const p = outcome(line);
  assert.ok(p, `${line} was accepted`);
  assert.equal(p.field, field, line);
  assert.match(p.reason, reason, line);
}

function accepted(line: string): void {
  const p = outcome(line);
  assert.equal(p, undefined, `${line}: ${JSON.stringify(p)}`);
}

const ts = (line: string): bigint => {
  const b = recordsToArrow(schema, [parseJsonExact(line)]);
  return (b.table.getChild('ts')!.data[0]!.values as BigInt64Array)[0]!; // the stored microseconds
};

describe('validator and converter agree', () => {
  test('maps that are not [key, value] pairs are refused by both (they failed whole ingest batches)', () => {
    refused('{"id":1,"mp":[1,2]}', 'mp', /array of \[key, value\] pairs/);
    refused('{"id":1,"mp":["a"]}', 'mp', /array of \[key, value\] pairs/);
    refused('{"id":1,"mp":[["k",1,2]]}', 'mp', /array of \[key, value\] pairs/);
    refused('{"id":1,"mp":"k"}', 'mp', /expected map/);
    refused('{"id":1,"mp":[["a",1],["a",2]]}', 'mp', /duplicate key "a"/);
    refused('{"id":1,"im":[[1,"a"],["1","b"]]}', 'im', /duplicate key/);
    refused('{"id":1,"im":{"x":"a"}}', 'im.key', /expected int/);
    refused('{"id":1,"mp":[[null,1]]}', 'mp.key', /required value is missing/);
    accepted('{"id":1,"mp":[["a",1],["b",null]],"im":{"1":"a","2":"b"}}');
  });

  test('integers a timestamp cannot hold are refused by both', () => {
    refused('{"id":1,"ts":123456789012345678901234567890}', 'ts', /beyond the 64-bit microsecond range/);
    refused('{"id":1,"ts":9223372036854775807}', 'ts', /beyond the 64-bit microsecond range/);
    refused('{"id":1,"ts":9223372036854775808}', 'ts', /beyond the 64-bit microsecond range/);
    refused('{"id":1,"tz":-9223372036854775809}', 'tz', /beyond the 64-bit microsecond range/);
    refused('{"id":1,"ts":1.5}', 'ts', /not an integer/);
    refused('{"id":1,"ts":"+999999-12-31T00:00:00"}', 'ts', /beyond the 64-bit microsecond range/);
  });

  test('numbers in temporal columns: one rule at any size (epoch millis, days, millis of the day)', () => {
    assert.equal(ts('{"id":1,"ts":1700000000000}'), 1_700_000_000_000_000n);
    assert.equal(ts('{"id":1,"ts":9007199254740993}'), 9_007_199_254_740_993_000n); // exact beyond 2^53
    assert.equal(ts('{"id":1,"ts":-1}'), -1000n);
    assert.equal(ts('{"id":1,"ts":9223372036854775}'), 9_223_372_036_854_775_000n); // the largest that fits
    refused('{"id":1,"ts":9223372036854776}', 'ts', /beyond the 64-bit microsecond range/);
    accepted('{"id":1,"d":19000,"t":0}');
    refused('{"id":1,"d":2147483648}', 'd', /32-bit day count/);
    refused('{"id":1,"t":86400000}', 't', /not within a day/);
    refused('{"id":1,"t":-1}', 't', /not within a day/);
  });

  test('double overflow is refused, Java\'s Float.MAX_VALUE text is a float', () => {
    assert.throws(() => parseJsonExact('{"id":1,"x":1e309}'), /beyond the range of a double/);
    accepted('{"id":1,"f":3.4028235e38,"x":1.7976931348623157e308}');
    const b = recordsToArrow(schema, [parseJsonExact('{"id":1,"f":3.4028235e38}')]);
    assert.equal(b.table.getChild('f')!.get(0), 3.4028234663852886e38);
    refused('{"id":1,"f":3.4028236e38}', 'f', /out of float range/);
    refused('{"id":1,"f":-1e39}', 'f', /out of float range/);
    accepted('{"id":1,"f":"NaN","x":"-Infinity"}');
  });

  test('offsets beyond ±18:00 are refused', () => {
    accepted('{"id":1,"tz":"2026-01-01T00:00:00+18:00"}');
    accepted('{"id":1,"tz":"2026-01-01T00:00:00-18:00"}');
    refused('{"id":1,"tz":"2026-01-01T00:00:00+25:00"}', 'tz', /offsets go up to ±18:00/);
    refused('{"id":1,"tz":"2026-01-01T00:00:00+18:01"}', 'tz', /offsets go up to ±18:00/);
    refused('{"id":1,"tz":"2026-01-01T00:00:00+05:60"}', 'tz', /offsets go up to ±18:00/);
  });

  test('lone surrogates are refused, not stored as U+FFFD', () => {
    refused('{"id":1,"s":"a\\ud800b"}', 's', /lone surrogate/);
    refused('{"id":1,"s":"\\udc00"}', 's', /lone surrogate/);
    refused('{"id":1,"mp":{"\\ud83d":1}}', 'mp.key', /lone surrogate/);
    accepted('{"id":1,"s":"\\ud83d\\ude00 ü \\u0000"}');
  });

  test('one whitespace rule: text is taken as written for every type', () => {
    refused('{"id":1,"amount":" 1.00"}', 'amount', /expected decimal/);
    refused('{"id":1,"amount":"1.00 "}', 'amount', /expected decimal/);
    refused('{"id":" 12 "}', 'id', /expected long/);
    refused('{"id":1,"n":" 12"}', 'n', /expected int/);
    refused('{"id":1,"ts":" 2026-01-01T00:00:00"}', 'ts', /expected timestamp/);
    refused('{"id":1,"d":"2026-01-01 "}', 'd', /expected date/);
    refused('{"id":1,"u":" f79c3e09-677c-4bbd-a479-3f349cb785e7"}', 'u', /expected uuid/);
    accepted('{"id":"12","n":"12","amount":"1.00","s":" spaces are a string\'s own "}');
  });

  test('an absent field named like an Object.prototype member reads as null', () => {
    const s2 = schemaFromJson({ type: 'struct', fields: [{ name: 'constructor', required: false, type: 'string' }] }, { assignIds: true });
    assert.equal(findRecordProblem(s2, {}), undefined);
    assert.equal(recordsToArrow(s2, [{}]).table.getChild('constructor')!.get(0), null);
  });

  test('messages name the value, truncated when huge, and the expected type, on one line', () => {
    const p = outcome(`{"id":1,"ts":${'9'.repeat(5000)}}`)!;
    assert.ok(p.reason.length < 200, p.reason);
    assert.match(p.reason, /^expected timestamp \(milliseconds since the epoch\), got number 9{30}\.\.\.\(5000 digits\)/);
    const q = outcome(`{"id":1,"s":7}`)!;
    assert.equal(q.reason, 'expected string, got number 7');
  });

  test('a partition value the table cannot hold is the record\'s problem, found by the writer\'s own function', () => {
    const fields = partitionType(parsePartitionExpression('hour(tz), bucket(2,id)', schema), schema);
    const far = { id: 1, tz: '+250000-01-01T00:00:00Z' }; // fits int64 µs; ~2.2e9 hours does not fit the int partition value
    assert.equal(findRecordProblem(schema, far), undefined);
    const p = findRecordProblem(schema, far, fields);
    assert.equal(p?.field, 'tz');
    assert.match(p?.reason ?? '', /partition field 'tz_hour' \(hour\) gets 2\d{9}, which does not fit its type int/);
    assert.throws(() => groupByPartition([far], fields, schema), /does not fit its type int/);
    assert.equal(findRecordProblem(schema, { id: 1, tz: '2026-01-01T00:00:00Z' }, fields), undefined);
    assert.equal(findRecordProblem(schema, { id: 1, tz: '-250000-01-01T00:00:00Z' }, fields)?.field, 'tz');
  });
});
