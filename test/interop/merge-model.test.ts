// Model-based MERGE test: seeded random sequences of upserts and deletes (fast-check) land batch
// by batch through floe's mergeRecords, and after every commit pyiceberg, DuckDB, Spark and
// Trino each return exactly the model's rows — values, not counts. Both strategies run:
// merge-on-read (position deletes) without an ordering field, copy-on-write with `updated` as
// the ordering column (an older change never overwrites a newer row). The table is partitioned
// by a non-key column, so an update may move its row to another partition, and the first table
// starts with rows Spark inserted (other writers' files are found and replaced too); then the table is
// compacted and every reader must still return the model, with no delete file left live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { compactTable } from '../../compaction/compact-table.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { EntryStatus, FileContent } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'region', required: true, type: 'string' },
    { id: 3, name: 'amount', required: false, type: 'double' },
    { id: 4, name: 'name', required: false, type: 'string' },
    { id: 5, name: 'updated', required: true, type: 'long' },
  ],
}, { assignIds: true });

interface Row { id: bigint; region: string; amount: number | null; name: string | null; updated: bigint }
interface ChangeIn { op: 'u' | 'd'; row: Row }

const KEYS = 40;
const changeArb = fc.record({
  op: fc.constantFrom<'u' | 'd'>('u', 'u', 'u', 'd'),
  row: fc.record({
    id: fc.bigInt({ min: 0n, max: BigInt(KEYS - 1) }),
    region: fc.constantFrom('eu', 'us', 'ap', 'o\'dd region/ü'),
    amount: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { nil: null }),
    name: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
    updated: fc.bigInt({ min: 0n, max: 30n }),
  }),
});
const batchesArb = fc.array(fc.array(changeArb, { minLength: 1, maxLength: 30 }), { minLength: 6, maxLength: 6 });

/** The model: the same rules the merge documents. */
function applyBatch(model: Map<bigint, Row>, batch: readonly ChangeIn[], ordered: boolean): void {
  const winners = new Map<bigint, ChangeIn>();
  for (const c of batch) {
    const prev = winners.get(c.row.id);
    if (!prev || !ordered || c.row.updated >= prev.row.updated) winners.set(c.row.id, c);
  }
  for (const [id, c] of winners) {
    const existing = model.get(id);
    if (ordered && existing && existing.updated > c.row.updated) continue;
    if (c.op === 'd') model.delete(id); else model.set(id, c.row);
  }
}

const toRecord = (c: ChangeIn): Record<string, unknown> => ({ op: c.op, ...c.row, id: c.row.id.toString(), updated: c.row.updated.toString() });

async function liveDeleteFiles(wh: TestWarehouse, table: { namespace: string[]; name: string }): Promise<number> {
  const t = await wh.catalog.loadTable(table);
  let n = 0;
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted && e.dataFile.content !== FileContent.Data) n++;
  }
  return n;
}

const CASES = [
  { name: 'merge-on-read, last change wins', mode: 'merge-on-read' as const, ordered: false, seed: 9001 },
  { name: 'copy-on-write, ordered by the updated column', mode: 'copy-on-write' as const, ordered: true, seed: 4242 },
];

describe('MERGE against a model, read back by every reader', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['m']);
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const id = { namespace: ['m'], name: c.mode === 'merge-on-read' ? 'mor' : 'cow' };
      const tableName = `m.${id.name}`;
      await wh.catalog.createTable(id, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: { 'write.merge.mode': c.mode, 'write.delete.mode': c.mode } });
      const [batches] = fc.sample(batchesArb, { seed: c.seed, numRuns: 1 });
      const model = new Map<bigint, Row>();
      if (c.mode === 'merge-on-read') {
        // Rows Spark wrote (its own Parquet files): the merge must find and replace them too.
        const seed = Array.from({ length: 20 }, (_, i) => ({ id: BigInt(i * 2), region: ['eu', 'us'][i % 2]!, amount: i * 1.25, name: `spark-${i}`, updated: 0n }));
        await readers.sql('spark', `INSERT INTO floe.m.mor VALUES ${seed.map((r) => `(${r.id}, '${r.region}', CAST(${r.amount} AS DOUBLE), '${r.name}', ${r.updated})`).join(', ')}`,
          { catalog_db: wh.catalogDb, warehouse: wh.dir, catalog_name: 'floe' });
        for (const r of seed) model.set(r.id, r);
      }
      const check = async (label: string): Promise<void> => {
        const expected = canonicalRows(SCHEMA, [...model.values()] as unknown as Record<string, unknown>[]);
        for (const reader of ALL_READERS) {
          const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: tableName });
          assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), expected, `${reader} after ${label}`);
        }
      };
      let commits = 0;
      for (const [i, batch] of batches!.entries()) {
        applyBatch(model, batch, c.ordered);
        const r = await mergeRecords(wh.catalog, id, batch.map(toRecord), { opField: 'op', ...(c.ordered ? { orderBy: 'updated' } : {}) });
        if (!r.snapshot) continue;
        commits++;
        assert.ok(['append', 'overwrite', 'delete'].includes(r.snapshot.summary.operation!), r.snapshot.summary.operation);
        await check(`batch ${i}`);
      }
      assert.ok(commits >= 4, `${commits} commits`);
      if (c.mode === 'merge-on-read') assert.ok(await liveDeleteFiles(wh, id) > 0, 'merge-on-read wrote position deletes');
      else assert.equal(await liveDeleteFiles(wh, id), 0, 'copy-on-write writes no delete files');
      // Compaction applies the deletes: same rows for every reader, no live delete file left.
      await compactTable(wh.catalog, id, { minInputFiles: 1 });
      assert.equal(await liveDeleteFiles(wh, id), 0, 'compaction applied and dropped every delete file');
      await check('compaction');
    });
  }
});
