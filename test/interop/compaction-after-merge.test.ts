// Compaction after many merge-on-read merges, checked by every reader: a keyed table takes
// upserts and deletes through floe's MERGE (position-delete files per partition and merge);
// pyiceberg, DuckDB, Spark and Trino return the model's rows before and after `compactTable`,
// and the compacted snapshot has no live delete file left. A second table keeps its deletes and
// gets `rewrite-position-deletes` instead: readers return the same rows, from one delete file
// per partition.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { rewritePositionDeletes, type RewritePositionDeletesResult } from '../../compaction/rewrite-position-deletes.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { EntryStatus, FileContent } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'v', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'double' },
  ],
}, { assignIds: true }), ['id']);
const REGIONS = ['eu', 'us', 'ap'];
const COMPACTED = { namespace: ['d'], name: 'compacted' };
const MERGED = { namespace: ['d'], name: 'merged' };
const ROUNDS = 8;

interface Model { rows: Map<number, Record<string, unknown>> }
const rec = (id: number, round: number): Record<string, unknown> => ({
  // Updates may move a row to another partition.
  id, region: REGIONS[(id + round) % 3], v: round === 0 ? `v${id}` : `r${round}-${id}`, amount: (id * 7 + round) % 5 === 0 ? null : id * 0.5 + round,
});

/** Appends 900 rows in three batches, then ROUNDS merge-on-read merges of upserts (with some
 * new keys) and deletes, applying the same changes to the model. */
async function build(wh: TestWarehouse, id: TableIdentifier): Promise<Model> {
  const model: Model = { rows: new Map() };
  await wh.catalog.createTable(id, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: { 'write.merge.mode': 'merge-on-read', 'write.delete.mode': 'merge-on-read' } });
  for (let b = 0; b < 3; b++) {
    const batch = Array.from({ length: 300 }, (_, i) => rec(b * 300 + i, 0));
    await appendRecords(wh.catalog, id, batch);
    for (const r of batch) model.rows.set(r.id as number, r);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const upserts = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 13 === round % 13 || i % 17 === round).map((i) => rec(i, round));
    await mergeRecords(wh.catalog, id, upserts);
    for (const r of upserts) model.rows.set(r.id as number, r);
    const deletes = [...model.rows.keys()].filter((k) => (k * 31 + round) % 23 === 0);
    await mergeRecords(wh.catalog, id, deletes.map((k) => ({ id: k })), { deleteOnly: true });
    for (const k of deletes) model.rows.delete(k);
  }
  return model;
}

async function deleteFiles(wh: TestWarehouse, id: TableIdentifier): Promise<{ files: number; partitions: Map<string, number> }> {
  const t = await wh.catalog.loadTable(id);
  const partitions = new Map<string, number>();
  let files = 0;
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) {
      if (e.status === EntryStatus.Deleted || e.dataFile.content === FileContent.Data) continue;
      files++;
      const k = String(e.dataFile.partition[0]);
      partitions.set(k, (partitions.get(k) ?? 0) + 1);
    }
  }
  return { files, partitions };
}

describe('compaction and rewrite-position-deletes after merge-on-read merges', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  const models = new Map<string, Model>();
  const reads = new Map<string, Record<string, unknown>[]>();
  let report: CompactReport;
  let rewrite: RewritePositionDeletesResult;
  const deletesBefore = new Map<string, { files: number; partitions: Map<string, number> }>();

  const readAll = async (id: TableIdentifier, phase: string): Promise<void> => {
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: `d.${id.name}` });
      reads.set(`${id.name}/${phase}/${reader}`, normalizeRows(SCHEMA, res.rows));
    }
  };

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['d']);
    for (const id of [COMPACTED, MERGED]) {
      models.set(id.name, await build(wh, id));
      deletesBefore.set(id.name, await deleteFiles(wh, id));
      await readAll(id, 'before');
    }
    report = await compactTable(wh.catalog, COMPACTED, { rewriteAll: true });
    await readAll(COMPACTED, 'after');
    rewrite = await rewritePositionDeletes(wh.catalog, MERGED);
    await readAll(MERGED, 'after');
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  const expected = (name: string): Record<string, unknown>[] => canonicalRows(SCHEMA, [...models.get(name)!.rows.values()].map((r) => ({ ...r, id: BigInt(r.id as number) })));

  test('the merges left many position-delete files in every partition', () => {
    for (const id of [COMPACTED, MERGED]) {
      const d = deletesBefore.get(id.name)!;
      assert.equal(d.partitions.size, 3);
      for (const [p, n] of d.partitions) assert.ok(n >= ROUNDS, `${id.name} ${p}: ${n} delete files`);
    }
  });

  test('compaction dropped every delete file in its replace commit', async () => {
    assert.equal(report.failedGroups, 0);
    assert.equal(report.removedDeleteFiles, deletesBefore.get(COMPACTED.name)!.files);
    assert.equal((await deleteFiles(wh, COMPACTED)).files, 0);
  });

  test('rewrite-position-deletes left one delete file per partition', async () => {
    assert.equal(rewrite.rewrittenDeleteFiles, deletesBefore.get(MERGED.name)!.files);
    const d = await deleteFiles(wh, MERGED);
    assert.deepStrictEqual([...d.partitions.values()], [1, 1, 1]);
  });

  for (const reader of ALL_READERS as readonly ReaderName[]) {
    for (const id of [COMPACTED, MERGED]) {
      test(`${reader} reads the model's rows of ${id.name} before and after`, () => {
        const want = expected(id.name);
        const beforeRows = reads.get(`${id.name}/before/${reader}`)!;
        assert.equal(beforeRows.length, want.length);
        assert.deepStrictEqual(beforeRows, want);
        assert.deepStrictEqual(reads.get(`${id.name}/after/${reader}`), want);
      });
    }
  }
});
