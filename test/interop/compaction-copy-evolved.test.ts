// Row-group copies across schema evolution: files written before and after a change that
// promotes int→long, float→double and decimal(9,2)→decimal(12,2) (also inside a struct), renames
// a column and adds one, with list and map columns, are compacted copying every row group. Each
// output holds one physical schema (the old files' row groups are never put under the new
// files' footer, or the reverse), and pyiceberg, DuckDB, Spark and Trino return every value in
// the current schema; DuckDB's filter on a promoted column keeps the right rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { parseParquetFooter } from '../../src/format/parquet-footer.ts';
import { parquetFooterLayout, readFooterBytes } from '../../src/format/parquet-row-group-copy.ts';
import type { DataFile } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitUpdateWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import { liveDataFiles } from '../support/live-data-files.ts';

const nested = (a: string): Record<string, unknown>[] => [
  { id: 6, name: 's', required: false, type: { type: 'struct', fields: [{ id: 7, name: 'a', required: false, type: a }, { id: 8, name: 'b', required: false, type: 'string' }] } },
  { id: 9, name: 'l', required: false, type: { type: 'list', 'element-id': 10, 'element-required': false, element: 'long' } },
  { id: 11, name: 'm', required: false, type: { type: 'map', 'key-id': 12, 'value-id': 13, key: 'string', value: 'double', 'value-required': false } },
];
const V0 = schemaFromJson({ type: 'struct', fields: [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'n', required: false, type: 'int' },
  { id: 3, name: 'f', required: false, type: 'float' },
  { id: 4, name: 'name', required: false, type: 'string' },
  { id: 5, name: 'd', required: false, type: 'decimal(9, 2)' },
  ...nested('int'),
] });
const V1 = schemaFromJson({ type: 'struct', fields: [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'n', required: false, type: 'long' },
  { id: 3, name: 'f', required: false, type: 'double' },
  { id: 4, name: 'label', required: false, type: 'string' },
  { id: 5, name: 'd', required: false, type: 'decimal(12, 2)' },
  ...nested('long'),
  { id: 14, name: 'extra', required: false, type: 'string' },
] }, { schemaId: 1 });
const ID = { namespace: ['e'], name: 'evolved' };
// Row groups of arrow-rs's floor, 1,024 rows: every file has several.
const PROPERTIES = { 'write.parquet.row-group-size-bytes': '1024' };
const FILES = [3000, 2500];

/** Row `i` as written (before or after the change) and as Iceberg values of the current schema. */
const written = (i: number, evolved: boolean): Record<string, unknown> => ({
  id: i, n: i % 5 === 0 ? null : i * 3, f: i % 6 === 0 ? null : i / 4,
  [evolved ? 'label' : 'name']: i % 7 === 0 ? null : `nm-${i}`,
  d: i % 8 === 0 ? null : (i / 100).toFixed(2),
  s: i % 9 === 0 ? null : { a: i % 4 === 0 ? null : i, b: `b${i}` },
  l: i % 10 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => i * 10 + k),
  m: i % 11 === 0 ? null : { [`k${i}`]: i / 2 },
  ...(evolved ? { extra: i % 3 === 0 ? null : `x${i}` } : {}),
});
const iceberg = (i: number, evolved: boolean): Record<string, unknown> => ({
  id: BigInt(i), n: i % 5 === 0 ? null : BigInt(i * 3), f: i % 6 === 0 ? null : i / 4, label: i % 7 === 0 ? null : `nm-${i}`,
  d: i % 8 === 0 ? null : BigInt(i),
  s: i % 9 === 0 ? null : { a: i % 4 === 0 ? null : BigInt(i), b: `b${i}` },
  l: i % 10 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => BigInt(i * 10 + k)),
  m: i % 11 === 0 ? null : [[`k${i}`, i / 2]],
  extra: evolved && i % 3 !== 0 ? `x${i}` : null,
});

const liveFiles = (wh: TestWarehouse): Promise<DataFile[]> => liveDataFiles(wh.catalog, ID);

describe('row-group copies across schema evolution: every reader returns every value', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let inputRowGroups = 0;
  let inputSchemas = 0;
  const want: Record<string, unknown>[] = [];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['e']);
    await wh.catalog.createTable(ID, { schema: V0, properties: PROPERTIES });
    let next = 0;
    const append = async (evolved: boolean): Promise<void> => {
      for (const n of FILES) {
        const ids = Array.from({ length: n }, () => next++);
        await appendRecords(wh.catalog, ID, ids.map((i) => written(i, evolved)));
        want.push(...ids.map((i) => iceberg(i, evolved)));
      }
    };
    await append(false);
    await commitUpdateWithRetry(wh.catalog, ID, {
      description: 'evolve',
      prepare: async () => ({
        attemptFiles: [],
        requirements: [{ type: 'assert-current-schema-id', currentSchemaId: 0 }],
        updates: [{ action: 'add-schema', schema: V1, lastColumnId: 14 }, { action: 'set-current-schema', schemaId: 1 }],
      }),
    });
    await append(true);
    const keys = new Set<string>();
    for (const f of await liveFiles(wh)) {
      const bytes = await readFooterBytes(await wh.catalog.io.openBlob(f.filePath), f.filePath);
      inputRowGroups += parquetFooterLayout(bytes, f.filePath).rowGroups.length;
      keys.add(parseParquetFooter(bytes, f.filePath).schemaKey);
    }
    inputSchemas = keys.size;
    report = await compactTable(wh.catalog, ID, { targetFileSizeBytes: 64 * 1024 * 1024, minInputFiles: 2, copyMinRowGroupBytes: 1 });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('every row group was copied, into one output per physical schema', async () => {
    assert.equal(inputSchemas, 2, 'files before and after the change differ in physical schema');
    assert.equal(report.copiedRowGroups, inputRowGroups);
    const outputs = await liveFiles(wh);
    assert.equal(outputs.length, 2);
    const names = await Promise.all(outputs.map(async (f) => {
      const footer = parseParquetFooter(await readFooterBytes(await wh.catalog.io.openBlob(f.filePath), f.filePath), f.filePath);
      assert.equal(f.recordCount, footer.numRows);
      return footer.leaves.map((l) => l.path.join('.')).join(',');
    }));
    assert.ok(names.some((n) => n.includes('name') && !n.includes('extra')), names.join(' | '));
    assert.ok(names.some((n) => n.includes('label') && n.includes('extra')), names.join(' | '));
  });

  for (const reader of ALL_READERS) {
    test(`${reader} returns every value in the current schema`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'e.evolved' });
      const actual = normalizeRows(V1, res.rows);
      assert.equal(actual.length, want.length);
      assert.deepStrictEqual(actual, canonicalRows(V1, want));
    });
  }

  test('DuckDB filters on the promoted column with the copied files\' bounds', async () => {
    const t = await wh.catalog.loadTable(ID);
    const rows = await readers.sql('duckdb', `SELECT count(*)::VARCHAR AS c, sum(n)::VARCHAR AS s FROM iceberg_scan('${t.metadataLocation}') WHERE n BETWEEN 9000 AND 24000`);
    const hits = want.filter((r) => r.n !== null && (r.n as bigint) >= 9000n && (r.n as bigint) <= 24000n);
    assert.deepStrictEqual(rows[0], { c: String(hits.length), s: String(hits.reduce((s, r) => s + (r.n as bigint), 0n)) });
  });
});
