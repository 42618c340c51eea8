// Dictionary choice samples every leaf, timestamps included, whatever instant they hold: a
// timestamp beyond 2^53 milliseconds (legal in Iceberg's int64 microseconds) once made the
// sampler throw through Arrow's get() and failed the whole append.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highCardinalityColumns } from '../../../src/format/dictionary-choice.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { recordsToArrow } from '../../../src/writer/record-converter.ts';

const schema = schemaFromJson({ type: 'struct', fields: [
  { name: 'ts', required: false, type: 'timestamp' },
  { name: 'low', required: false, type: 'timestamptz' },
] }, { assignIds: true });

describe('highCardinalityColumns', () => {
  test('timestamps far beyond 2^53 ms are sampled from their microseconds', () => {
    const records = Array.from({ length: 600 }, (_, i) => ({
      ts: 9007199254740993n + BigInt(i), // epoch milliseconds: ~year 287,000, still an int64 of µs
      low: i % 2 === 0 ? null : '2026-01-01T00:00:00Z',
    }));
    const batch = recordsToArrow(schema, records);
    assert.deepStrictEqual(highCardinalityColumns(batch.table), ['ts']);
  });
});
