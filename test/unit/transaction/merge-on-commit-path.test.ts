// A manifest merge on the commit path (commit.manifest.min-count-to-merge) is served from the
// manifests this process just wrote, not re-read file by file from storage — the cost that made
// every 100th commit of a stream of small appends the p99. The merged manifest must still hold
// exactly what reading the files would give (statuses, explicit sequence numbers, every file
// once), and readers other than the merge must still see a manifest missing on disk.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { InvalidMetadataError, NotFoundError } from '../../../src/errors.ts';
import { EntryStatus, type ManifestEntry } from '../../../src/spec/data-file.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../../src/transaction/table-manifests.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['t'], name: 'merge' };
const rows = (from: number) => [{ id: from, v: `r${from}` }, { id: from + 1, v: `r${from + 1}` }];

let wh: TestWarehouse;
beforeEach(async () => {
  wh = await testWarehouse();
  await wh.catalog.createNamespace(['t']);
  await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.manifest.min-count-to-merge': '5' } });
});
afterEach(async () => { await wh.cleanup(); });

/** Counts io.read calls of manifests (not manifest lists, not metadata files) while `fn` runs. */
async function manifestReadsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
  const io = wh.catalog.io;
  const read = io.read.bind(io);
  const reads: string[] = [];
  io.read = async (uri) => {
    if (uri.endsWith('.avro') && !/\/snap-[^/]*$/.test(uri)) reads.push(uri);
    return read(uri);
  };
  try {
    return { result: await fn(), reads };
  } finally {
    io.read = read;
  }
}

const key = (e: ManifestEntry): string => `${e.dataFile.filePath}|${e.status}|${e.snapshotId}|${e.sequenceNumber}|${e.fileSequenceNumber}|${e.dataFile.recordCount}`;

test('the merging commit reads none of the manifests it merges from storage, and the merged manifest holds what the files hold', async () => {
  for (let i = 0; i < 4; i++) await appendRecords(wh.catalog, ID, rows(i * 10));
  const before = branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!;
  const beforeManifests = await snapshotManifests(wh.catalog.io, before);
  assert.equal(beforeManifests.length, 4, 'one manifest per commit before the merge');
  // What reading the files gives, as a merge carries them: live entries become EXISTING.
  const expected: string[] = [];
  for (const m of beforeManifests) {
    for (const e of await manifestEntries(wh.catalog.io, m)) expected.push(key({ ...e, status: EntryStatus.Existing }));
  }

  const { result, reads } = await manifestReadsDuring(() => appendRecords(wh.catalog, ID, rows(40)));
  assert.deepEqual(reads, [], 'a merge of manifests this process wrote reads none of them back');

  const head = result.snapshot;
  const merged = await snapshotManifests(wh.catalog.io, head);
  assert.equal(merged.length, 1, 'the five manifests are merged into one');
  assert.equal(merged[0]!.addedSnapshotId, head.snapshotId);
  const entries = await manifestEntries(wh.catalog.io, merged[0]!); // read from disk
  const added = entries.filter((e) => e.status === EntryStatus.Added);
  assert.equal(added.length, 1);
  assert.equal(added[0]!.snapshotId, head.snapshotId);
  assert.equal(added[0]!.sequenceNumber, head.sequenceNumber, 'the new file inherits the commit\'s sequence number');
  assert.deepEqual(entries.filter((e) => e.status !== EntryStatus.Added).map(key).sort(), expected.sort());
  // Every EXISTING entry keeps the sequence number of the commit that added it (1..4).
  assert.deepEqual(entries.filter((e) => e.status === EntryStatus.Existing).map((e) => e.sequenceNumber).sort(), [1n, 2n, 3n, 4n]);
  assert.equal(head.summary['total-records'], '10');
});

test('a manifest deleted on disk is still missing for readers other than the merge', async () => {
  await appendRecords(wh.catalog, ID, rows(0));
  const head = branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!;
  const [m] = await snapshotManifests(wh.catalog.io, head);
  await wh.catalog.io.delete(m!.manifestPath);
  await assert.rejects(manifestEntries(wh.catalog.io, m!), (err: unknown) => {
    assert.ok(err instanceof NotFoundError || err instanceof InvalidMetadataError, String(err));
    assert.match(String((err as Error).message), new RegExp(m!.manifestPath.slice(m!.manifestPath.lastIndexOf('/') + 1)));
    return true;
  });
});
