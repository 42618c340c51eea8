// Files encoded on encoder worker threads (batch by batch, metrics folded across batches) read
// by pyiceberg and DuckDB: every type, several row groups, values equal to what was written; a
// filtered read returns exactly the matching rows (bounds folded across batches must not prune
// a match: the ids run out of order across batches).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { currentSchema, defaultSpec } from '../../src/spec/table-metadata.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../src/transaction/fast-append.ts';
import { ParquetEncoderPool } from '../../src/workers/parquet-encoder-pool.ts';
import { DataFileWriter } from '../../src/writer/data-file-writer.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_TYPES_SCHEMA_JSON, generateRows } from '../support/datagen.ts';
import { ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson(ALL_TYPES_SCHEMA_JSON, { assignIds: true });
const ID = { namespace: ['interop'], name: 'worker_encoded' };
const ROWS = generateRows(SCHEMA, 12_000, 91, 0);

describe('appends encoded on worker threads read by pyiceberg and DuckDB', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let pool: ParquetEncoderPool;
  let rowGroups = 0;
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    pool = new ParquetEncoderPool({ size: 2 });
    await wh.catalog.createNamespace(['interop']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.parquet.row-group-size-bytes': '300000' } });
    const t = await wh.catalog.loadTable(ID);
    const writer = new DataFileWriter({
      schema: currentSchema(t.metadata), spec: defaultSpec(t.metadata), properties: t.metadata.properties, location: t.metadata.location, io: wh.catalog.io,
    }, { encoderPool: pool, encodeMinRows: 1_000, workerBatchRows: 4_096 });
    const order = [...ROWS.slice(7_000), ...ROWS.slice(0, 7_000)];
    const files = await writer.write(order.map((r) => r.input));
    rowGroups = files.reduce((n, f) => n + (f.splitOffsets?.length ?? 0), 0);
    await commitWithRetry(wh.catalog, ID, new FastAppend(wh.catalog.io, files), {});
  });
  after(async () => {
    await pool?.close();
    await readers?.close();
    await wh?.cleanup();
  });

  test('the workers encoded several row groups', () => {
    assert.ok(pool.started >= 1);
    assert.ok(rowGroups >= 2, `${rowGroups} row groups`);
  });

  for (const reader of ['pyiceberg', 'duckdb'] as ReaderName[]) {
    test(`${reader} reads every value`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.worker_encoded' });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), canonicalRows(SCHEMA, ROWS.map((r) => r.values)));
    });
    test(`${reader}: a filtered read returns exactly the matching rows`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.worker_encoded', filter: { column: 'id', op: '>=', value: '11990' } });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), canonicalRows(SCHEMA, ROWS.filter((r) => Number(r.values.id) >= 11_990).map((r) => r.values)));
    });
  }
});
