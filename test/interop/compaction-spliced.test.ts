// A spliced compaction output (40 small files cut into slices, encoded on this thread and a
// worker at once, the row groups spliced into one file under one footer) is read back value for
// value by pyiceberg, DuckDB, Spark and Trino; and DuckDB's filtered read, which prunes by the
// output's metrics, keeps the right rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { readParquetFooter } from '../../src/format/parquet-footer.ts';
import type { DataFile } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import { liveDataFiles } from '../support/live-data-files.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'name', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(12, 2)' },
    { name: 'ts', required: false, type: 'timestamptz' },
    { name: 'score', required: false, type: 'double' },
    { name: 'tags', required: false, type: { type: 'list', 'element-required': false, element: 'string' } },
  ],
}, { assignIds: true });
const ID = { namespace: ['c'], name: 'spliced' };

const cents = (i: number): bigint => BigInt(Math.floor(i / 3) - 500) * 100n + BigInt(Math.sign(Math.floor(i / 3) - 500 || 1) * (i % 100));
const ms = (i: number): number => Date.UTC(2026, 2, 1) + i * 61_000;
const row = (i: number): Record<string, unknown> => ({
  id: String(i), name: i % 7 === 0 ? null : `name-${i}-${'é'.repeat(i % 5)}`,
  amount: i % 11 === 0 ? null : (Number(cents(i)) / 100).toFixed(2),
  ts: i % 13 === 0 ? null : new Date(ms(i)).toISOString(),
  score: i % 9 === 0 ? null : i / 8,
  tags: i % 6 === 0 ? null : [`t${i % 4}`, i % 5 === 0 ? null : `u${i % 3}`],
});
const icebergRow = (r: Record<string, unknown>): Record<string, unknown> => {
  const i = Number(r.id);
  return { ...r, id: BigInt(i), amount: r.amount === null ? null : cents(i), ts: r.ts === null ? null : BigInt(ms(i)) * 1000n };
};

const liveFiles = (wh: TestWarehouse): Promise<DataFile[]> => liveDataFiles(wh.catalog, ID);

describe('spliced compaction: every reader returns the values written', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let slices = 0;
  const written: Record<string, unknown>[] = [];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['c']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.parquet.compression-codec': 'zstd' } });
    for (let b = 0; b < 40; b++) {
      const rows = Array.from({ length: 400 }, (_, i) => row(b * 400 + i));
      written.push(...rows);
      await appendRecords(wh.catalog, ID, rows);
    }
    report = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 64 * 1024 * 1024, minInputFiles: 2, concurrency: 2, rowGroupSizeBytes: 128 * 1024,
      onEvent: (e) => { if (e.type === 'group-rewritten') slices += e.splicedSlices; },
    });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('40 files became one file whose row groups came from several slices', async () => {
    assert.equal(report.rewrittenFiles, 40);
    assert.equal(report.addedFiles, 1);
    assert.ok(slices >= 2, `${slices} slices`);
    const [out] = await liveFiles(wh);
    const footer = await readParquetFooter(await wh.catalog.io.openBlob(out!.filePath), out!.filePath);
    assert.ok(footer.rowGroups.length >= slices, `${footer.rowGroups.length} row groups`);
    assert.equal(out!.recordCount, 16_000n);
  });

  for (const reader of ALL_READERS) {
    test(`${reader} returns every value written`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'c.spliced' });
      const actual = normalizeRows(SCHEMA, res.rows);
      const want = canonicalRows(SCHEMA, written.map(icebergRow));
      assert.equal(actual.length, want.length);
      assert.deepStrictEqual(actual, want);
    });
  }

  test('DuckDB filters the spliced file by its metrics and keeps the right rows', async () => {
    const t = await wh.catalog.loadTable(ID);
    const rows = await readers.sql('duckdb', `SELECT count(*)::VARCHAR AS n, count(name)::VARCHAR AS names FROM iceberg_scan('${t.metadataLocation}') WHERE id BETWEEN 3000 AND 11999`);
    const want = written.filter((r) => Number(r.id) >= 3000 && Number(r.id) <= 11_999);
    assert.equal(rows[0]!.n, String(want.length));
    assert.equal(rows[0]!.names, String(want.filter((r) => r.name !== null).length));
  });
});
