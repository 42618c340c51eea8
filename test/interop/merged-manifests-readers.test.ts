// A stream of small appends with manifest merging on the commit path (min-count-to-merge 4, so
// merges of merges happen within 13 commits), every manifest and list written through the
// cached Avro codecs and merged from bytes kept in memory, every metadata file built in a
// reused buffer: pyiceberg and DuckDB read every row with its values, at the head and as of an
// older commit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'batch', required: true, type: 'int' },
  { name: 'note', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['interop'], name: 'merged' };
const COMMITS = 13;
const batch = (b: number) => Array.from({ length: 3 }, (_, i) => ({ id: b * 10 + i, batch: b, note: i === 1 ? null : `b${b}-r${i}` }));
const sortById = (rows: Record<string, unknown>[]) => rows.map((r) => ({ id: Number(r.id), batch: Number(r.batch), note: r.note ?? null })).sort((a, b) => a.id - b.id);

describe('merged manifests read by pyiceberg and DuckDB', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let olderMetadata = '';
  let olderSnapshot = 0n;
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['interop']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.manifest.min-count-to-merge': '4' } });
    for (let b = 0; b < COMMITS; b++) {
      const r = await appendRecords(wh.catalog, ID, batch(b));
      if (b === 7) { olderMetadata = r.table.metadataLocation; olderSnapshot = r.snapshot.snapshotId; }
    }
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('merges happened: the head has fewer manifests than commits', async () => {
    const t = await wh.catalog.loadTable(ID);
    const manifests = await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'));
    assert.ok(manifests.length < 5, `${manifests.length} manifests for ${COMMITS} commits`);
  });

  for (const reader of ['pyiceberg', 'duckdb'] as ReaderName[]) {
    test(`${reader} reads every row of every commit`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.merged' });
      assert.deepStrictEqual(sortById(res.rows), sortById(Array.from({ length: COMMITS }, (_, b) => batch(b)).flat()));
    });
    // DuckDB opens the older metadata file itself (written before later commits reused its
    // buffer); pyiceberg reads through the catalog, so it time-travels to that snapshot.
    test(`${reader} reads the table as of commit 8`, async () => {
      const at = reader === 'duckdb' ? { metadataLocation: olderMetadata } : { snapshotId: olderSnapshot };
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.merged', ...at });
      assert.deepStrictEqual(sortById(res.rows), sortById(Array.from({ length: 8 }, (_, b) => batch(b)).flat()));
    });
  }
});
