// Which readers read a table with floe's equality-delete files (written by
// src/writer/equality-delete-writer.ts, committed as a row delta): each reader either returns
// exactly the surviving rows, or its behaviour is recorded here (the README's table of
// "which readers read equality deletes" comes from this test). Then floe compacts the table:
// the deletes are applied, the delete files dropped, and every reader returns the same rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { EntryStatus, FileContent, type DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead, currentSchema, specById } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { RowDelta } from '../../src/transaction/row-delta.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { writeEqualityDeletes } from '../../src/writer/equality-delete-writer.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, type ReaderName, EQUALITY_DELETES_SUPPORT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'v', required: false, type: 'string' },
  ],
}, { assignIds: true });
const ID = { namespace: ['d'], name: 'eq' };
const REGIONS = ['eu', 'us', 'ap'];
const row = (id: number): Record<string, unknown> => ({ id: BigInt(id), region: REGIONS[id % 3], v: id % 5 === 0 ? null : `v${id}` });
const N = 600;
/** Deleted by equality on id: every seventh row. */
const deleted = (id: number): boolean => id % 7 === 0;

async function liveDeleteFiles(wh: TestWarehouse): Promise<number> {
  const t = await wh.catalog.loadTable(ID);
  let n = 0;
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted && e.dataFile.content !== FileContent.Data) n++;
  }
  return n;
}

describe('readers and floe\'s equality-delete files', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  const beforeCompaction = new Map<ReaderName, Record<string, unknown>[] | Error>();

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['d']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA) });
    for (let b = 0; b < 3; b++) {
      await appendRecords(wh.catalog, ID, Array.from({ length: N / 3 }, (_, i) => {
        const r = row(b * (N / 3) + i);
        return { ...r, id: String(r.id) };
      }));
    }
    const t = await wh.catalog.loadTable(ID);
    const target = { io: wh.catalog.io, location: t.metadata.location, schema: currentSchema(t.metadata), spec: specById(t.metadata, 0), properties: t.metadata.properties };
    const files: DataFile[] = [];
    for (const region of REGIONS) {
      const keys = Array.from({ length: N }, (_, i) => i).filter((i) => deleted(i) && REGIONS[i % 3] === region).map((i) => ({ id: String(i) }));
      files.push(await writeEqualityDeletes(target, [region], [1], keys));
    }
    await commitWithRetry(wh.catalog, ID, new RowDelta(wh.catalog.io, { plan: async () => ({ addedDeleteFiles: files }) }));
    for (const reader of ALL_READERS) {
      beforeCompaction.set(reader, await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'd.eq' })
        .then((r) => normalizeRows(SCHEMA, r.rows), (e: unknown) => e as Error));
    }
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  const expected = (): Record<string, unknown>[] => canonicalRows(SCHEMA, Array.from({ length: N }, (_, i) => row(i)).filter((r) => !deleted(Number(r.id))));

  // A change of a reader's behaviour means the README's reader table must change too.
  const SUPPORT = EQUALITY_DELETES_SUPPORT;

  for (const reader of ALL_READERS) {
    test(`${reader} ${SUPPORT[reader]} a table with equality deletes`, () => {
      const got = beforeCompaction.get(reader)!;
      if (SUPPORT[reader] === 'refuses') {
        assert.ok(got instanceof Error, `${reader} read ${Array.isArray(got) ? got.length : 0} rows: it reads equality deletes now`);
        assert.match(got.message, /equality delete/i);
      } else {
        assert.ok(!(got instanceof Error), `${reader}: ${got instanceof Error ? got.message : ''}`);
        assert.deepStrictEqual(got, expected());
      }
    });
  }

  test('after compaction: deletes applied, delete files dropped, every reader agrees', async () => {
    const report = await compactTable(wh.catalog, ID, { rewriteAll: true });
    assert.equal(report.removedDeleteFiles, 3);
    assert.equal(await liveDeleteFiles(wh), 0);
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'd.eq' });
      assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), expected(), reader);
    }
  });
});
