// Flink-compatible upsert (`write.upsert.enabled=true`): floe writes equality deletes without
// reading the table. This test is the proof behind the README's table of which readers read
// them: each reader either returns exactly the model's rows, or refuses the table with an
// error — a reader that silently returned deleted rows would fail here. After compaction
// (which applies the equality deletes and drops them) every reader returns the model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { EntryStatus, FileContent } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, EQUALITY_DELETES_SUPPORT, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'name', required: false, type: 'string' },
    { name: 'n', required: false, type: 'int' },
  ],
}, { assignIds: true }), ['id']);
const ID = { namespace: ['eq'], name: 'users' };


describe('equality-delete upsert (write.upsert.enabled)', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  const model = new Map<number, { id: bigint; name: string | null; n: number | null }>();
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['eq']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('bucket(4,id)', SCHEMA), properties: { 'write.upsert.enabled': 'true' } });
    const batches: { op: string; id: number; name?: string; n?: number }[][] = [
      Array.from({ length: 40 }, (_, i) => ({ op: 'c', id: i, name: `v0-${i}`, n: i })),
      [...Array.from({ length: 15 }, (_, i) => ({ op: 'u', id: i * 2, name: `v1-${i * 2}`, n: 100 + i })), { op: 'd', id: 39 }, { op: 'd', id: 1 }],
      [{ op: 'u', id: 4, name: 'v2-4' }, { op: 'c', id: 50, name: 'new' }, { op: 'd', id: 2 }, { op: 'd', id: 999 }],
    ];
    for (const b of batches) {
      const r = await mergeRecords(wh.catalog, ID, b, { opField: 'op' });
      assert.equal(r.mode, 'equality-deletes');
      for (const c of b) {
        if (c.op === 'd') model.delete(c.id);
        else model.set(c.id, { id: BigInt(c.id), name: c.name ?? null, n: c.n ?? null });
      }
    }
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  const expected = (): Record<string, unknown>[] => canonicalRows(SCHEMA, [...model.values()] as unknown as Record<string, unknown>[]);

  test('the table holds equality-delete files and no reader returns a deleted or replaced row', async () => {
    const t = await wh.catalog.loadTable(ID);
    let eq = 0;
    for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
      for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted && e.dataFile.content === FileContent.EqualityDeletes) eq++;
    }
    assert.ok(eq >= 4, `${eq} equality-delete files`);
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'eq.users' }).catch((e: Error) => e);
      if (EQUALITY_DELETES_SUPPORT[reader] === 'reads') {
        assert.ok(!(res instanceof Error), `${reader} should read equality deletes: ${res instanceof Error ? res.message : ''}`);
        assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), expected(), reader);
      } else {
        assert.ok(res instanceof Error, `${reader} was expected to refuse equality deletes, but returned ${res instanceof Error ? '' : res.rows.length} rows`);
      }
    }
  });

  test('after compaction every reader returns the model and no delete file is live', async () => {
    await compactTable(wh.catalog, ID, { minInputFiles: 1 });
    const t = await wh.catalog.loadTable(ID);
    for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
      for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) assert.equal(e.dataFile.content, FileContent.Data, e.dataFile.filePath);
    }
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'eq.users' });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), expected(), reader);
    }
  });
});
