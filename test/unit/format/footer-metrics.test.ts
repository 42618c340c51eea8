// Metrics read back from a Parquet footer must equal the metrics floe computes while encoding
// the same rows (the compactor writes files it never sees row by row), for every primitive
// type, nulls, nested structs and lists; and the footer reader must agree on sizes and splits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFileMetrics } from '../../../src/format/file-metrics.ts';
import { footerMetrics } from '../../../src/format/footer-metrics.ts';
import { parquetFooterOf } from '../../../src/format/parquet-footer.ts';
import { writeParquetFile } from '../../../src/format/parquet-writer.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { recordsToArrow } from '../../../src/writer/record-converter.ts';
import { ALL_TYPES_SCHEMA_JSON, generateRows } from '../../support/datagen.ts';

const hex = (m: ReadonlyMap<number, Uint8Array>): Record<number, string> =>
  Object.fromEntries([...m].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
const str = (m: ReadonlyMap<number, bigint>): Record<number, string> => Object.fromEntries([...m].map(([k, v]) => [k, String(v)]));
/** Leaves inside lists and maps: Parquet counts a slot for every empty or null list/map too
 * (Java's footer metrics, which Java-written files carry), the encoder counts elements only. */
const REPEATED_LEAVES = new Set(['lst.element', 'mp.key', 'mp.value']);

for (const props of [{} as Record<string, string>, { 'write.metadata.metrics.default': 'full' }, { 'write.metadata.metrics.default': 'counts' }]) {
  test(`footer metrics equal encoder metrics (${JSON.stringify(props)})`, async () => {
    const schema = schemaFromJson(ALL_TYPES_SCHEMA_JSON, { assignIds: true });
    const rows = generateRows(schema, 3000, 7).map((r) => r.input);
    const batch = recordsToArrow(schema, rows);
    // Small row groups: bounds must be combined across several of them.
    const pq = await writeParquetFile(batch.table, { codec: 'zstd', rowGroupSizeBytes: 64 * 1024, arrowBytesPerRow: batch.arrowBytes / batch.numRows });
    assert.ok(pq.rowGroups > 1, `several row groups (${pq.rowGroups})`);
    const expected = buildFileMetrics(schema, batch.metrics, pq.columnSizes, props);
    const footer = parquetFooterOf(pq.bytes, 'test');
    assert.equal(footer.numRows, 3000n);
    const actual = footerMetrics(schema, footer, props);
    assert.deepStrictEqual(str(actual.columnSizes), str(expected.columnSizes));
    const repeated = new Set([...REPEATED_LEAVES].map((n) => schema.findFieldByName(n)!.id));
    const flat = (m: ReadonlyMap<number, bigint>): Map<number, bigint> => new Map([...m].filter(([id]) => !repeated.has(id)));
    assert.equal(repeated.size, 3);
    assert.deepStrictEqual(str(flat(actual.valueCounts)), str(flat(expected.valueCounts)));
    assert.deepStrictEqual(str(flat(actual.nullValueCounts)), str(flat(expected.nullValueCounts)));
    for (const id of repeated) {
      if (!expected.valueCounts.has(id)) continue;
      const slots = actual.valueCounts.get(id)! - expected.valueCounts.get(id)!;
      assert.ok(slots >= 0n, `leaf ${id}: footer counts every element`);
      assert.equal(actual.nullValueCounts.get(id)! - expected.nullValueCounts.get(id)!, slots, `leaf ${id}: the extra slots are the empty/null lists`);
    }
    assert.deepStrictEqual(hex(actual.lowerBounds), hex(expected.lowerBounds));
    assert.deepStrictEqual(hex(actual.upperBounds), hex(expected.upperBounds));
    assert.equal(actual.nanValueCounts.size, 0, 'Parquet statistics do not count NaN');
  });
}
