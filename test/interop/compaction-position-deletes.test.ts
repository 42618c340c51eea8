// Position deletes written by another engine are applied by the rewrite: Spark deletes every
// tenth row with merge-on-read (position-delete files), floe compacts, and pyiceberg, DuckDB
// and Spark all return exactly the surviving rows — none of the deleted rows comes back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { EntryStatus, FileContent } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'amount', required: false, type: 'double' },
  ],
}, { assignIds: true });
const ID = { namespace: ['d'], name: 'orders' };
const row = (id: number): Record<string, unknown> => ({ id: BigInt(id), region: ['eu', 'us', 'ap'][id % 3], amount: id % 7 === 0 ? null : id * 1.5 });

async function liveFiles(wh: TestWarehouse): Promise<{ data: number; deletes: number }> {
  const t = await wh.catalog.loadTable(ID);
  const out = { data: 0, deletes: 0 };
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      if (e.dataFile.content === FileContent.Data) out.data++; else out.deletes++;
    }
  }
  return out;
}

describe('compaction applies position deletes written by Spark', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let rowsDeleted = 0;
  let before_: { data: number; deletes: number };

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['d']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA) });
    for (let b = 0; b < 30; b++) {
      await appendRecords(wh.catalog, ID, Array.from({ length: 300 }, (_, i) => {
        const r = row(b * 300 + i);
        return { ...r, id: String(r.id) };
      }));
    }
    const spark = { catalog_db: wh.catalogDb, warehouse: wh.dir, catalog_name: 'floe' };
    await readers.sql('spark', "ALTER TABLE floe.d.orders SET TBLPROPERTIES ('write.delete.mode'='merge-on-read')", spark);
    await readers.sql('spark', 'DELETE FROM floe.d.orders WHERE id % 10 = 3', spark);
    before_ = await liveFiles(wh);
    report = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 256 * 1024,
      onEvent: (e) => { if (e.type === 'group-rewritten') rowsDeleted += e.rowsDeleted; },
    });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('Spark wrote position deletes; the rewrite dropped exactly the deleted rows', () => {
    assert.ok(before_.deletes > 0, 'Spark committed position-delete files');
    assert.equal(report.rewrittenFiles, before_.data);
    assert.equal(rowsDeleted, 900, 'every tenth of 9,000 rows');
  });

  const expected = (): Record<string, unknown>[] => canonicalRows(SCHEMA, Array.from({ length: 9000 }, (_, i) => row(i)).filter((r) => Number(r.id) % 10 !== 3));

  for (const reader of ALL_READERS) {
    test(`${reader} reads the surviving rows exactly`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'd.orders' });
      const actual = normalizeRows(SCHEMA, res.rows);
      const want = expected();
      assert.equal(actual.length, want.length);
      assert.deepStrictEqual(actual, want);
    });
  }
});
