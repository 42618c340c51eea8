// Row groups copied byte for byte by compaction are read back exactly by pyiceberg, DuckDB,
// Spark and Trino: a table partitioned by region, with nulls, strings, decimals and timestamps,
// whose files have several row groups; compaction copies the large ones and re-encodes the small
// ones (each file's last row group, the one-row-group files) into the same output files. Every
// reader returns every value written; the output files' footers show both kinds of row group.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { readParquetFooter } from '../../src/format/parquet-footer.ts';
import { parquetFooterLayout, readFooterBytes } from '../../src/format/parquet-row-group-copy.ts';
import type { DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
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
    { name: 'region', required: true, type: 'string' },
    { name: 'name', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(12, 2)' },
    { name: 'ts', required: false, type: 'timestamptz' },
    { name: 'score', required: false, type: 'double' },
  ],
}, { assignIds: true });
const ID = { namespace: ['c'], name: 'copied' };
const REGIONS = ['eu', 'us', 'ap'];
// Row groups of arrow-rs's floor, 1,024 rows: a 2,500-row file has two full ones and one of 452.
const PROPERTIES = { 'write.parquet.row-group-size-bytes': '1024' };

const cents = (i: number): bigint => BigInt(Math.floor(i / 3) - 500) * 100n + BigInt(Math.sign(Math.floor(i / 3) - 500 || 1) * (i % 100));
const ms = (i: number): number => Date.UTC(2026, 2, 1) + i * 61_000;
/** Row `i` as written (JSON-like) and as Iceberg values (what canonicalRows takes). */
const row = (i: number, region: string): Record<string, unknown> => ({
  id: String(i), region, name: i % 7 === 0 ? null : `name-${i}-${'é'.repeat(i % 5)}`,
  amount: i % 11 === 0 ? null : (Number(cents(i)) / 100).toFixed(2),
  ts: i % 13 === 0 ? null : new Date(ms(i)).toISOString(),
  score: i % 9 === 0 ? null : i / 8,
});
const icebergRow = (r: Record<string, unknown>): Record<string, unknown> => {
  const i = Number(r.id);
  return { ...r, id: BigInt(i), amount: r.amount === null ? null : cents(i), ts: r.ts === null ? null : BigInt(ms(i)) * 1000n };
};

const liveFiles = (wh: TestWarehouse): Promise<DataFile[]> => liveDataFiles(wh.catalog, ID);

describe('compaction with row-group copies: every reader returns the values written', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let copied = 0;
  let threshold = 0;
  let inputRowGroups = 0;
  const written: Record<string, unknown>[] = [];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['c']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: PROPERTIES });
    let next = 0;
    for (const [k, n] of [2500, 300, 2500, 2048, 300, 2500].entries()) {
      const region = REGIONS[k % 3]!;
      for (const r of REGIONS) {
        const rows = Array.from({ length: r === region ? n : 40 }, () => row(next++, r));
        written.push(...rows);
        await appendRecords(wh.catalog, ID, rows);
      }
    }
    // The copy threshold sits between the full (1,024-row) row groups and the others.
    const full: number[] = [];
    const partial: number[] = [];
    for (const f of await liveFiles(wh)) {
      const layout = parquetFooterLayout(await readFooterBytes(await wh.catalog.io.openBlob(f.filePath), f.filePath), f.filePath);
      inputRowGroups += layout.rowGroups.length;
      for (const g of layout.rowGroups) (g.numRows === 1024n ? full : partial).push(Number(g.compressedBytes));
    }
    threshold = Math.min(...full);
    assert.ok(Math.max(...partial) < threshold, `partial row groups (${Math.max(...partial)} B) are smaller than full ones (${threshold} B)`);
    report = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 64 * 1024 * 1024, minInputFiles: 2, copyMinRowGroupBytes: threshold,
      onEvent: (e) => { if (e.type === 'group-rewritten') copied += e.copiedRowGroups; },
    });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('full row groups were copied, the others re-encoded into the same files', async () => {
    assert.equal(report.addedFiles, 3, 'one file per region');
    // eu: 2,500 + 2,048 rows, ap: 2 × 2,500 rows (two full groups each); us has only small files.
    assert.equal(copied, 8, 'the 1,024-row groups of the 2,500- and 2,048-row files');
    const outputs = await liveFiles(wh);
    assert.equal(outputs.length, 3);
    let mixed = 0;
    for (const f of outputs) {
      const footer = await readParquetFooter(await wh.catalog.io.openBlob(f.filePath), f.filePath);
      const sizes = footer.rowGroups.map((g) => g.numRows);
      if (sizes.includes(1024n) && sizes.some((n) => n !== 1024n)) mixed++;
      assert.equal(f.recordCount, footer.numRows);
    }
    assert.ok(mixed >= 2, `${mixed} output files mix copied and re-encoded row groups`);
    assert.ok(inputRowGroups > copied);
  });

  for (const reader of ALL_READERS) {
    test(`${reader} returns every value written`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'c.copied' });
      const actual = normalizeRows(SCHEMA, res.rows);
      const want = canonicalRows(SCHEMA, written.map(icebergRow));
      assert.equal(actual.length, want.length);
      assert.deepStrictEqual(actual, want);
    });
  }

  test('DuckDB filters on the copied files with their metrics (pruning by bounds keeps the right rows)', async () => {
    const t = await wh.catalog.loadTable(ID);
    const rows = await readers.sql('duckdb', `SELECT count(*)::VARCHAR AS n, sum(amount)::VARCHAR AS s FROM iceberg_scan('${t.metadataLocation}') WHERE id BETWEEN 1000 AND 5999 AND region = 'us'`);
    const want = written.filter((r) => Number(r.id) >= 1000 && Number(r.id) <= 5999 && r.region === 'us');
    assert.equal(rows[0]!.n, String(want.length));
  });
});
