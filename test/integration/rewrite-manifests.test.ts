// Manifest rewrite on real tables: 30 one-manifest appends become one manifest per spec
// (rolled at the target size when set), every live file keeps its snapshot id and both
// sequence numbers, delete manifests are carried over untouched, an append that lands during
// the rewrite survives, and pyiceberg, DuckDB and Spark read the same rows before and after.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { rewriteManifests } from '../../compaction/rewrite-manifests.ts';
import { comparePartitions } from '../../src/transaction/rewrite-manifests.ts';
import { writeManifestList } from '../../src/format/manifest-list-writer.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { EntryStatus, FileContent, ManifestContent, type ManifestEntry, type ManifestFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead, type Snapshot } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { newSnapshotId } from '../../src/transaction/snapshot-id.ts';
import { manifestEntries, snapshotManifests, writeTableManifest } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { readTableRows } from '../support/read-table.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
  ],
}, { assignIds: true });
const ID = { namespace: ['x'], name: 't' };
const NO_MERGE = { 'commit.manifest-merge.enabled': 'false' };
const REGIONS = ['us', 'eu', 'ap'];

/** Batch b: two rows per region, ids unique across batches. */
const batch = (b: number): { id: number; region: string }[] =>
  REGIONS.flatMap((region, r) => [0, 1].map((k) => ({ id: b * 100 + r * 10 + k, region })));

async function headManifests(catalog: Catalog, id: TableIdentifier, branch = 'main'): Promise<{ head: Snapshot; manifests: ManifestFile[] }> {
  const head = branchHead((await catalog.loadTable(id)).metadata, branch)!;
  return { head, manifests: await snapshotManifests(catalog.io, head) };
}

async function liveEntries(catalog: Catalog, manifests: readonly ManifestFile[]): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for (const m of manifests) for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e);
  return out;
}

/** file → "snapshot/data sequence/file sequence": what a rewrite must not change. */
async function fileIdentities(catalog: Catalog, id: TableIdentifier): Promise<Map<string, string>> {
  const entries = await liveEntries(catalog, (await headManifests(catalog, id)).manifests);
  return new Map(entries.map((e) => [e.dataFile.filePath, `${e.snapshotId}/${e.sequenceNumber}/${e.fileSequenceNumber}`]));
}

const sortedIds = (rows: readonly Record<string, unknown>[]): number[] => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

describe('rewrite manifests: 30 appends, then read by floe and by real readers', () => {
  let wh: TestWarehouse;
  const written: { id: number; region: string }[] = [];
  let beforeHead: Snapshot;
  let beforeManifests: ManifestFile[];
  let beforeFiles: Map<string, string>;
  let beforeRows: number[];
  let lastSequenceBefore: bigint;
  let result: Awaited<ReturnType<typeof rewriteManifests>>;

  before(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['x']);
    // Merging off: every append leaves its own manifest (the micro-batch case without merging).
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: NO_MERGE });
    for (let b = 0; b < 30; b++) {
      written.push(...batch(b));
      await appendRecords(wh.catalog, ID, batch(b));
    }
    ({ head: beforeHead, manifests: beforeManifests } = await headManifests(wh.catalog, ID));
    beforeFiles = await fileIdentities(wh.catalog, ID);
    beforeRows = sortedIds(await readTableRows(wh.catalog, ID));
    lastSequenceBefore = (await wh.catalog.loadTable(ID)).metadata.lastSequenceNumber;
    result = await rewriteManifests(wh.catalog, ID);
  });
  after(async () => { await wh?.cleanup(); });

  test('30 manifests become one; the replace snapshot says so and keeps the totals', async () => {
    assert.equal(beforeManifests.length, 30);
    assert.equal(beforeFiles.size, 90);
    const { head, manifests } = await headManifests(wh.catalog, ID);
    assert.equal(manifests.length, 1);
    assert.equal(result.snapshotId, head.snapshotId);
    assert.deepStrictEqual(
      { created: result.manifestsCreated, kept: result.manifestsKept, replaced: result.manifestsReplaced, entries: result.entriesProcessed },
      { created: 1, kept: 0, replaced: 30, entries: 90 },
    );
    assert.equal(head.parentSnapshotId, beforeHead.snapshotId);
    assert.equal(head.sequenceNumber, lastSequenceBefore + 1n);
    assert.equal(head.summary.operation, 'replace');
    assert.equal(head.summary['manifests-created'], '1');
    assert.equal(head.summary['manifests-kept'], '0');
    assert.equal(head.summary['manifests-replaced'], '30');
    assert.equal(head.summary['entries-processed'], '90');
    for (const k of ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes', 'total-equality-deletes']) {
      assert.equal(head.summary[k], beforeHead.summary[k], k);
    }
    assert.equal(head.summary['added-data-files'], undefined);
  });

  test('same live files with the same snapshot ids and sequence numbers, as EXISTING entries sorted by partition', async () => {
    assert.deepStrictEqual(await fileIdentities(wh.catalog, ID), beforeFiles);
    const { manifests } = await headManifests(wh.catalog, ID);
    const entries = await manifestEntries(wh.catalog.io, manifests[0]!);
    assert.ok(entries.every((e) => e.status === EntryStatus.Existing));
    for (let i = 1; i < entries.length; i++) assert.ok(comparePartitions(entries[i - 1]!.dataFile.partition, entries[i]!.dataFile.partition) <= 0);
    assert.equal(manifests[0]!.minSequenceNumber, 1n, 'the oldest entry still has sequence number 1');
    assert.equal(manifests[0]!.existingFilesCount, 90);
    // The data files themselves are untouched, and the replaced manifests stay for the old snapshots.
    for (const f of beforeFiles.keys()) assert.ok(existsSync(uriToPath(f)));
    for (const m of beforeManifests) assert.ok(existsSync(uriToPath(m.manifestPath)));
  });

  test('floe reads the same rows before and after', async () => {
    assert.deepStrictEqual(sortedIds(await readTableRows(wh.catalog, ID)), beforeRows);
    assert.deepStrictEqual(beforeRows, sortedIds(written));
  });

  describe('real readers', { skip: readersUnavailable() }, () => {
    let readers: ReaderServer;
    before(() => { readers = new ReaderServer(); });
    after(async () => { await readers?.close(); });

    for (const reader of ALL_READERS) {
      test(`${reader} reads the rewritten table and the snapshot before it with the same rows`, async () => {
        const expected = canonicalRows(SCHEMA, written);
        const base = { reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'x.t' };
        const now = await readers.read(base);
        assert.deepStrictEqual(normalizeRows(SCHEMA, now.rows), expected);
        const then = await readers.read({ ...base, snapshotId: beforeHead.snapshotId });
        assert.deepStrictEqual(normalizeRows(SCHEMA, then.rows), expected);
      });
    }
  });
});

describe('rewrite manifests: rolling, specs, delete manifests, concurrent appends', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['x']);
  });
  afterEach(async () => { await wh.cleanup(); });

  test('nothing to do with one manifest', async () => {
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: NO_MERGE });
    const none = await rewriteManifests(wh.catalog, ID);
    assert.equal(none.snapshotId, null);
    assert.match(none.reason ?? '', /no snapshot/);
    await appendRecords(wh.catalog, ID, batch(0));
    const one = await rewriteManifests(wh.catalog, ID);
    assert.equal(one.snapshotId, null);
    assert.match(one.reason ?? '', /1 manifest;/);
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, 1);
  });

  test('one manifest per partition spec after spec evolution', async () => {
    const created = await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: NO_MERGE });
    for (let b = 0; b < 4; b++) await appendRecords(wh.catalog, ID, batch(b));
    const spec1 = parsePartitionExpression('bucket(4,id)', SCHEMA, 1, created.metadata.lastPartitionId);
    await wh.catalog.commitTable(ID, [], [{ action: 'add-spec', spec: spec1 }, { action: 'set-default-spec', specId: 1 }]);
    for (let b = 4; b < 8; b++) await appendRecords(wh.catalog, ID, batch(b));
    const files = await fileIdentities(wh.catalog, ID);
    const rows = sortedIds(await readTableRows(wh.catalog, ID));

    const r = await rewriteManifests(wh.catalog, ID);
    const { manifests } = await headManifests(wh.catalog, ID);
    assert.deepStrictEqual(manifests.map((m) => m.partitionSpecId), [0, 1]);
    assert.equal(r.manifestsReplaced, 8);
    assert.deepStrictEqual(await fileIdentities(wh.catalog, ID), files);
    assert.deepStrictEqual(sortedIds(await readTableRows(wh.catalog, ID)), rows);
    assert.equal(rows.length, 48);
  });

  test('a manifest over commit.manifest.target-size-bytes is rolled, keeping the partition order', async () => {
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: NO_MERGE });
    await appendRecords(wh.catalog, ID, batch(0));
    const { manifests: [small] } = await headManifests(wh.catalog, ID);
    for (let b = 1; b < 10; b++) await appendRecords(wh.catalog, ID, batch(b));
    await rewriteManifests(wh.catalog, ID);
    const { manifests: [merged] } = await headManifests(wh.catalog, ID);
    // One more append makes two manifests again. Every manifest carries a header of a few KiB
    // (the Avro and Iceberg schemas), so the target lies between a 3-entry and a 30-entry one.
    await appendRecords(wh.catalog, ID, batch(10));
    const target = Math.ceil((Number(small!.manifestLength) + Number(merged!.manifestLength)) / 2);
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { 'commit.manifest.target-size-bytes': String(target) } }]);
    const files = await fileIdentities(wh.catalog, ID);
    const rows = sortedIds(await readTableRows(wh.catalog, ID));

    const r = await rewriteManifests(wh.catalog, ID);
    const { manifests } = await headManifests(wh.catalog, ID);
    // About three fit: small runs deflate worse than the whole group, so a few more are fine.
    assert.ok(manifests.length >= 2 && manifests.length <= 6, `${manifests.length} manifests`);
    assert.equal(r.manifestsCreated, manifests.length);
    assert.equal(r.entriesProcessed, 33);
    for (const m of manifests) assert.ok(m.manifestLength <= BigInt(target), `${m.manifestLength} > ${target}`);
    assert.deepStrictEqual(await fileIdentities(wh.catalog, ID), files);
    // Sorted across the roll too: each manifest's partitions follow the previous one's.
    const all = (await liveEntries(wh.catalog, manifests)).map((e) => e.dataFile.partition);
    for (let i = 1; i < all.length; i++) assert.ok(comparePartitions(all[i - 1]!, all[i]!) <= 0);
    assert.deepStrictEqual(sortedIds(await readTableRows(wh.catalog, ID)), rows);
    assert.equal(rows.length, 66);

    // A target no manifest can meet is refused, not turned into one manifest per file.
    await appendRecords(wh.catalog, ID, batch(11));
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { 'commit.manifest.target-size-bytes': '1000' } }]);
    const headBefore = (await headManifests(wh.catalog, ID)).head.snapshotId;
    await assert.rejects(rewriteManifests(wh.catalog, ID), /target-size-bytes=1000 is smaller than a manifest of one entry/);
    assert.equal((await headManifests(wh.catalog, ID)).head.snapshotId, headBefore);
  });

  test('delete manifests are carried over unchanged', async () => {
    const t0 = await wh.catalog.createTable(ID, { schema: SCHEMA, properties: NO_MERGE });
    for (let b = 0; b < 3; b++) await appendRecords(wh.catalog, ID, batch(b));
    // floe writes no delete files; a snapshot with a position-delete manifest is made by hand,
    // as another engine would commit it. Its delete file is never read here.
    const t = await wh.catalog.loadTable(ID);
    const { head, manifests } = await headManifests(wh.catalog, ID);
    const snapshotId = newSnapshotId();
    const loc = t0.metadata.location;
    const { manifests: [deletes] } = await writeTableManifest({
      io: wh.catalog.io, metadata: t.metadata, path: `${loc}/metadata/other-engine-deletes.avro`, specId: 0,
      content: ManifestContent.Deletes, addedSnapshotId: snapshotId,
      entries: [{
        status: EntryStatus.Added, snapshotId, sequenceNumber: null, fileSequenceNumber: null,
        dataFile: { content: FileContent.PositionDeletes, filePath: `${loc}/data/other-engine-pos-deletes.parquet`, fileFormat: 'parquet', specId: 0, partition: [], recordCount: 1n, fileSizeInBytes: 123n },
      }],
    });
    const sequenceNumber = t.metadata.lastSequenceNumber + 1n;
    const manifestList = `${loc}/metadata/snap-${snapshotId}-other-engine.avro`;
    await wh.catalog.io.writeNew(manifestList, writeManifestList({ manifests: [deletes!, ...manifests], snapshotId, parentSnapshotId: head.snapshotId, sequenceNumber }));
    await wh.catalog.commitTable(ID, [], [
      { action: 'add-snapshot', snapshot: { snapshotId, parentSnapshotId: head.snapshotId, sequenceNumber, timestampMs: Date.now(), manifestList, schemaId: 0,
        summary: { ...head.summary, operation: 'delete', 'total-delete-files': '1', 'total-position-deletes': '1', 'total-files-size': String(BigInt(head.summary['total-files-size']!) + 123n) } } },
      { action: 'set-snapshot-ref', refName: 'main', type: 'branch', snapshotId },
    ]);
    const carried = (await headManifests(wh.catalog, ID)).manifests.find((m) => m.content === ManifestContent.Deletes)!;
    const files = await fileIdentities(wh.catalog, ID);

    const r = await rewriteManifests(wh.catalog, ID);
    const after = await headManifests(wh.catalog, ID);
    assert.deepStrictEqual(after.manifests.filter((m) => m.content === ManifestContent.Deletes), [carried]);
    assert.equal(after.manifests.filter((m) => m.content === ManifestContent.Data).length, 1);
    assert.deepStrictEqual({ kept: r.manifestsKept, replaced: r.manifestsReplaced, entries: r.entriesProcessed }, { kept: 1, replaced: 3, entries: 3 });
    assert.deepStrictEqual(await fileIdentities(wh.catalog, ID), files);
    assert.equal(after.head.summary['total-delete-files'], '1');
    assert.equal(after.head.summary['total-position-deletes'], '1');
  });

  test('an append that lands between prepare and swap survives: the retry regroups the new head', async () => {
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: NO_MERGE });
    for (let b = 0; b < 5; b++) await appendRecords(wh.catalog, ID, batch(b));
    let concurrent: Snapshot | undefined;
    const seenAttempts: number[] = [];
    const r = await rewriteManifests(wh.catalog, ID, {
      hooks: {
        beforeSwap: async (attempt) => {
          seenAttempts.push(attempt);
          if (attempt === 1) concurrent = (await appendRecords(wh.catalog, ID, [{ id: 9999, region: 'late' }])).snapshot;
        },
      },
    });
    assert.deepStrictEqual(seenAttempts, [1, 2]);
    const { head, manifests } = await headManifests(wh.catalog, ID);
    assert.equal(head.snapshotId, r.snapshotId);
    assert.equal(head.parentSnapshotId, concurrent!.snapshotId, 'rebased on the concurrent append');
    assert.equal(manifests.length, 1);
    assert.equal(r.entriesProcessed, 6, 'five appended files and the concurrent one');
    assert.deepStrictEqual(sortedIds(await readTableRows(wh.catalog, ID)), sortedIds([...[0, 1, 2, 3, 4].flatMap(batch), { id: 9999 }]));
    assert.equal(head.summary['total-records'], '31');
    // Attempt 1's manifests and list were deleted; only attempt 2's files are left.
    const metadataFiles = (await wh.catalog.io.list(`${(await wh.catalog.loadTable(ID)).metadata.location}/metadata/`)).map((f) => f.uri);
    assert.ok(!metadataFiles.some((f) => /-a1-m\d+\.avro$/.test(f)), 'attempt 1 manifests cleaned up');
    assert.ok(metadataFiles.some((f) => /-a2-m\d+\.avro$/.test(f)));
  });
});
