// Row groups written by Spark (parquet-mr: page indexes, its own created_by and footer layout)
// copied by compaction into new files under a footer floe rebuilt from Spark's: pyiceberg,
// DuckDB, Spark and Trino return every value. Spark writes with small row groups so that each
// file has several; every row group is at least the copy threshold given, so nothing is
// re-encoded (floe splices its own encoded row groups only under its own footers).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { readParquetFooter } from '../../src/format/parquet-footer.ts';
import { parquetFooterLayout, readFooterBytes } from '../../src/format/parquet-row-group-copy.ts';
import type { DataFile } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import { liveDataFiles } from '../support/live-data-files.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: false, type: 'long' },
    { name: 'name', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(12, 2)' },
    { name: 'ts', required: false, type: 'timestamptz' },
  ],
}, { assignIds: true });
const ID = { namespace: ['s'], name: 'sparkfiles' };
const ROWS_PER_INSERT = 60_000;
const INSERTS = 3;

const liveFiles = (wh: TestWarehouse): Promise<DataFile[]> => liveDataFiles(wh.catalog, ID);

describe('compaction copies row groups Spark wrote: every reader returns every value', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let inputRowGroups = 0;
  let createdBy = '';

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['s']);
    await wh.catalog.createTable(ID, {
      schema: SCHEMA,
      properties: { 'write.parquet.compression-codec': 'zstd', 'write.parquet.row-group-size-bytes': String(64 * 1024), 'write.parquet.page-size-bytes': String(16 * 1024) },
    });
    const spark = { catalog_db: wh.catalogDb, warehouse: wh.dir, catalog_name: 'floe' };
    for (let k = 0; k < INSERTS; k++) {
      const lo = k * ROWS_PER_INSERT;
      await readers.sql('spark', `INSERT INTO floe.s.sparkfiles SELECT /*+ COALESCE(1) */
        id, CASE WHEN id % 7 = 0 THEN NULL ELSE concat('name-', id) END,
        CASE WHEN id % 11 = 0 THEN NULL ELSE CAST(id / 100.0 AS DECIMAL(12, 2)) END,
        CASE WHEN id % 13 = 0 THEN NULL ELSE timestamp_micros(id * 1000000 + 7) END
        FROM range(${lo}, ${lo + ROWS_PER_INSERT})`, spark);
    }
    const files = await liveFiles(wh);
    for (const f of files) {
      const layout = parquetFooterLayout(await readFooterBytes(await wh.catalog.io.openBlob(f.filePath), f.filePath), f.filePath);
      inputRowGroups += layout.rowGroups.length;
      createdBy = layout.createdBy;
    }
    report = await compactTable(wh.catalog, ID, { targetFileSizeBytes: 64 * 1024 * 1024, minInputFiles: 2, copyMinRowGroupBytes: 1 });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('Spark wrote files of several row groups; all were copied into one file under a footer floe wrote', async () => {
    assert.match(createdBy, /parquet-mr/);
    assert.ok(inputRowGroups > 2 * INSERTS, `${inputRowGroups} row groups in Spark's files`);
    assert.equal(report.addedFiles, 1);
    assert.equal(report.copiedRowGroups, inputRowGroups);
    const [out] = await liveFiles(wh);
    const footer = await readParquetFooter(await wh.catalog.io.openBlob(out!.filePath), out!.filePath);
    assert.equal(footer.rowGroups.length, inputRowGroups);
    assert.equal(footer.numRows, BigInt(INSERTS * ROWS_PER_INSERT));
    assert.equal(out!.recordCount, footer.numRows);
  });

  const expected = (): Record<string, unknown>[] => canonicalRows(SCHEMA, Array.from({ length: INSERTS * ROWS_PER_INSERT }, (_, i) => ({
    id: BigInt(i), name: i % 7 === 0 ? null : `name-${i}`, amount: i % 11 === 0 ? null : BigInt(i),
    ts: i % 13 === 0 ? null : BigInt(i) * 1_000_000n + 7n,
  })));

  for (const reader of ALL_READERS) {
    test(`${reader} returns every value of the copied row groups`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 's.sparkfiles' });
      const actual = normalizeRows(SCHEMA, res.rows);
      const want = expected();
      assert.equal(actual.length, want.length);
      assert.deepStrictEqual(actual, want);
    });
  }
});
