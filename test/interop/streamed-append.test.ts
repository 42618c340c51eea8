// Files of the streaming append path (RollingDataFileWriter: chunks → rolling Parquet files
// written row group by row group, metrics merged across chunks) read by pyiceberg and DuckDB:
// every type, several rolled files, values equal to what was written; a filtered read returns
// exactly the matching rows (per-file bounds merged across chunks must not prune a match).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecordStream, type RecordChunk } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_TYPES_SCHEMA_JSON, generateRows } from '../support/datagen.ts';
import { ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson(ALL_TYPES_SCHEMA_JSON, { assignIds: true });
const ID = { namespace: ['interop'], name: 'streamed' };
const ROWS = generateRows(SCHEMA, 3000, 77, 0);

describe('streamed append read by pyiceberg and DuckDB', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let files = 0;
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['interop']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.target-file-size-bytes': '40000' } });
    async function* chunks(): AsyncGenerator<RecordChunk> {
      // Uneven chunks, ids out of order across chunks, so merged bounds are really merged.
      const order = [...ROWS.slice(1500), ...ROWS.slice(0, 1500)];
      for (let i = 0; i < order.length;) {
        const n = 100 + (i % 7) * 90;
        yield { records: order.slice(i, i + n).map((r) => r.input), inputBytes: n * 400 };
        i += n;
      }
    }
    const r = await appendRecordStream(wh.catalog, ID, chunks());
    files = r!.dataFiles;
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('several files were rolled', () => { assert.ok(files >= 3, `${files} files`); });

  for (const reader of ['pyiceberg', 'duckdb'] as ReaderName[]) {
    test(`${reader} reads every value`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.streamed' });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), canonicalRows(SCHEMA, ROWS.map((r) => r.values)));
    });
    test(`${reader}: a filtered read returns exactly the matching rows`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.streamed', filter: { column: 'id', op: '>=', value: '2990' } });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), canonicalRows(SCHEMA, ROWS.filter((r) => Number(r.values.id) >= 2990).map((r) => r.values)));
    });
  }
});
