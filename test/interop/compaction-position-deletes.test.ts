// Position deletes written by another engine are applied by the rewrite: Spark deletes every
// tenth row with merge-on-read (position-delete files), floe compacts, and pyiceberg, DuckDB,
// Spark and Trino all return exactly the surviving rows — none of the deleted rows comes back.
// Then the case Iceberg users meet most ("found new delete for replaced data file"): Spark
// deletes rows while floe is rewriting their files; floe's commit is refused (the rewrite would
// resurrect them), its new files are removed, and the next run compacts with the deletes applied.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { RewriteValidationError } from '../../src/transaction/replace-data-files.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
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
  let refused: unknown;
  let second: CompactReport;

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

    for (let b = 30; b < 36; b++) {
      await appendRecords(wh.catalog, ID, Array.from({ length: 300 }, (_, i) => {
        const r = row(b * 300 + i);
        return { ...r, id: String(r.id) };
      }));
    }
    // Spark writes data files too: the next rewrite merges files of both writers.
    for (let k = 0; k < 3; k++) {
      const values = Array.from({ length: 6 }, (_, i) => {
        const r = row(20_000 + k * 10 + i);
        return `(${String(r.id)}, '${String(r.region)}', ${r.amount === null ? 'NULL' : `CAST(${String(r.amount)} AS DOUBLE)`})`;
      });
      await readers.sql('spark', `INSERT INTO floe.d.orders VALUES ${values.join(', ')}`, spark);
    }
    let deleted = false;
    refused = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 256 * 1024,
      commitHooks: { beforeSwap: async () => {
        if (deleted) return;
        deleted = true;
        await readers.sql('spark', 'DELETE FROM floe.d.orders WHERE id >= 9000 AND id < 20000 AND id % 10 = 5', spark);
      } },
    }).then(() => undefined, (err: unknown) => err);
    second = await compactTable(wh.catalog, ID, { targetFileSizeBytes: 256 * 1024 });
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

  test('a delete committed during the rewrite refuses its commit; the next run applies it', async () => {
    assert.ok(refused instanceof RewriteValidationError, String(refused));
    assert.match((refused as Error).message, /found new position delete .* for a replaced data file/);
    assert.ok(second.rewrittenFiles >= 18 + 3, `${second.rewrittenFiles} files rewritten on the second run (floe's and Spark's)`);
    assert.equal(second.failedGroups, 0);
    // Nothing of the refused run is left behind: every data file on disk is referenced.
    const t = await wh.catalog.loadTable(ID);
    const referenced = new Set<string>();
    for (const s of t.metadata.snapshots) {
      for (const m of await snapshotManifests(wh.catalog.io, s)) for (const e of await manifestEntries(wh.catalog.io, m)) referenced.add(uriToPath(e.dataFile.filePath));
    }
    // (Spark's Hadoop file system leaves hidden .crc checksums beside its files.)
    const onDisk = (await wh.catalog.io.list(`${t.metadata.location}/data/`)).map((f) => uriToPath(f.uri)).filter((u) => !u.split('/').at(-1)!.startsWith('.'));
    assert.deepStrictEqual(onDisk.filter((p) => !referenced.has(p)), []);
  });

  const sparkRows = [0, 1, 2].flatMap((k) => Array.from({ length: 6 }, (_, i) => row(20_000 + k * 10 + i)));
  const expected = (): Record<string, unknown>[] => canonicalRows(SCHEMA, [...Array.from({ length: 10_800 }, (_, i) => row(i)), ...sparkRows]
    .filter((r) => Number(r.id) % 10 !== 3 || Number(r.id) >= 9000)
    .filter((r) => Number(r.id) < 9000 || Number(r.id) >= 20_000 || Number(r.id) % 10 !== 5));

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
