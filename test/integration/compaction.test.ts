// The compactor on real files: small files become target-sized ones with identical rows,
// the outputs keep the starting sequence number, dry run changes nothing, a concurrent append
// survives the re-based commit, and a rewrite whose input vanished is refused and leaves no file.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { RewriteValidationError } from '../../src/transaction/replace-data-files.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'v', required: false, type: 'double' },
    { name: 'note', required: false, type: 'string' },
    { name: 'tags', required: false, type: { type: 'list', 'element-required': false, element: 'string' } },
  ],
}, { assignIds: true });
const ID = { namespace: ['c'], name: 't' };
const REGIONS = ['eu', 'us', 'ap'];

function batch(first: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const id = first + i;
    return {
      id, region: REGIONS[id % 3], ts: new Date(Date.UTC(2026, 10, 1) + id * 1000).toISOString(),
      v: id % 7 === 0 ? null : id / 3, note: `note-${id}-${'x'.repeat(id % 50)}`, tags: id % 5 === 0 ? null : [`t${id % 4}`, null],
    };
  });
}

async function liveFiles(catalog: Catalog): Promise<{ path: string; seq: bigint; size: bigint; status: number; snapshotId: bigint | null }[]> {
  const t = await catalog.loadTable(ID);
  const out = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status !== EntryStatus.Deleted) out.push({ path: e.dataFile.filePath, seq: e.sequenceNumber!, size: e.dataFile.fileSizeInBytes, status: e.status, snapshotId: e.snapshotId });
    }
  }
  return out;
}

const byId = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows
  .map((r): Record<string, unknown> => ({ ...r, tags: r.tags == null ? null : [...(r.tags as Iterable<unknown>)] }))
  .sort((a, b) => Number(a.id) - Number(b.id));

describe('compaction', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['c']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: { 'commit.manifest-merge.enabled': 'false' } });
    for (let b = 0; b < 40; b++) await appendRecords(wh.catalog, ID, batch(b * 300, 300));
  });
  afterEach(async () => { await wh.cleanup(); });

  test('small files become target-sized files with the same rows; outputs keep the starting sequence number', async () => {
    const before = byId(await readTableRows(wh.catalog, ID));
    const filesBefore = await liveFiles(wh.catalog);
    assert.equal(filesBefore.length, 120);
    const start = branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!;
    const target = 48 * 1024;

    const dry = await compactTable(wh.catalog, ID, { targetFileSizeBytes: target, dryRun: true });
    assert.equal(dry.plan.groups.length, 3, 'one group per partition');
    assert.equal(dry.plan.totalInputFiles, 120);
    assert.equal(dry.commits, 0);
    assert.deepStrictEqual((await liveFiles(wh.catalog)).map((f) => f.path).sort(), filesBefore.map((f) => f.path).sort(), 'dry run changes nothing');

    const events: string[] = [];
    const r = await compactTable(wh.catalog, ID, { targetFileSizeBytes: target, onEvent: (e) => events.push(e.type) });
    assert.equal(r.rewrittenFiles, 120);
    assert.equal(r.commits, 1);
    assert.ok(events.includes('planned') && events.includes('group-rewritten') && events.includes('committed'));
    const after = await liveFiles(wh.catalog);
    assert.equal(after.length, r.addedFiles);
    assert.ok(after.length < 20, `${after.length} files after compaction`);
    const inputBytes = filesBefore.reduce((s, f) => s + f.size, 0n);
    for (const f of after) {
      assert.equal(f.seq, start.sequenceNumber, 'data sequence number of the starting snapshot');
      assert.equal(f.status, EntryStatus.Added);
    }
    // Every partition's output is spread evenly: no file far above target, at most one small remainder.
    assert.ok(after.every((f) => Number(f.size) < target * 1.8), 'no output above max-file-size');
    assert.ok(after.reduce((s, f) => s + f.size, 0n) < inputBytes, 'fewer bytes than the small files');
    const head = branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!;
    assert.equal(head.summary.operation, 'replace');
    assert.equal(head.summary['deleted-data-files'], '120');
    assert.equal(head.summary['total-records'], '12000');
    assert.deepStrictEqual(byId(await readTableRows(wh.catalog, ID)), before);

    const again = await compactTable(wh.catalog, ID, { targetFileSizeBytes: target });
    assert.equal(again.plan.groups.length, 0, 'nothing left to compact');
  });

  test('an append that lands during the commit survives the re-based retry', async () => {
    let appended = false;
    const r = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 48 * 1024,
      commitHooks: { beforeSwap: async (attempt) => {
        if (attempt === 1 && !appended) { appended = true; await appendRecords(wh.catalog, ID, batch(1_000_000, 10)); }
      } },
    });
    assert.equal(r.conflicts, 1);
    assert.equal(r.commits, 1);
    const rows = await readTableRows(wh.catalog, ID);
    assert.equal(rows.length, 12_010);
    assert.equal(new Set(rows.map((x) => String(x.id))).size, 12_010, 'no row lost or doubled');
  });

  test('a rewrite whose input files were removed meanwhile is refused and leaves no file behind', async () => {
    const listData = async (): Promise<string[]> => (await wh.catalog.io.list(`file://${wh.dir}/c/t/data/`)).map((f) => f.uri).sort();
    let raced = false;
    await assert.rejects(compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 48 * 1024,
      commitHooks: { beforeSwap: async () => {
        // Another compactor finishes first and removes the same input files.
        if (!raced) { raced = true; await compactTable(wh.catalog, ID, { targetFileSizeBytes: 48 * 1024 }); }
      } },
    }), RewriteValidationError);
    const live = (await liveFiles(wh.catalog)).map((f) => f.path);
    const onDisk = await listData();
    // The winner's outputs are live; the loser's outputs are gone; old inputs remain on disk
    // (still referenced by older snapshots) and no other file exists.
    for (const p of live) assert.ok(onDisk.includes(p));
    const t = await wh.catalog.loadTable(ID);
    const reachable = new Set<string>();
    for (const s of t.metadata.snapshots) {
      for (const m of await snapshotManifests(wh.catalog.io, s)) for (const e of await manifestEntries(wh.catalog.io, m)) reachable.add(e.dataFile.filePath);
    }
    assert.deepStrictEqual(onDisk.filter((p) => !reachable.has(p)), [], 'no orphan data file');
    assert.equal((await readTableRows(wh.catalog, ID)).length, 12_000);
  });

  test('--branch compacts that branch only; main is untouched', async () => {
    const mainBefore = branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!.snapshotId;
    // The branch is created from main (like CREATE BRANCH), then written to.
    await wh.catalog.commitTable(ID, [], [{ action: 'set-snapshot-ref', refName: 'audit', type: 'branch', snapshotId: mainBefore }]);
    for (let b = 0; b < 6; b++) await appendRecords(wh.catalog, ID, batch(100_000 + b * 30, 30), { branch: 'audit' });
    const r = await compactTable(wh.catalog, ID, { targetFileSizeBytes: 48 * 1024, branch: 'audit' });
    assert.equal(r.commits, 1);
    const t = await wh.catalog.loadTable(ID);
    assert.equal(branchHead(t.metadata, 'main')!.snapshotId, mainBefore);
    assert.equal(branchHead(t.metadata, 'audit')!.summary.operation, 'replace');
    const audit = await readTableRows(wh.catalog, ID, 'audit');
    assert.equal(audit.length, 12_000 + 180);
    assert.equal(new Set(audit.map((x) => String(x.id))).size, 12_180);
  });

  test('--concurrency 2 rewrites groups on worker threads with the same result', async () => {
    const before = byId(await readTableRows(wh.catalog, ID));
    const events: number[] = [];
    const r = await compactTable(wh.catalog, ID, { targetFileSizeBytes: 48 * 1024, concurrency: 2, onEvent: (e) => { if (e.type === 'input-bytes') events.push(e.bytes); } });
    assert.equal(r.rewrittenFiles, 120);
    assert.equal(r.failedGroups, 0);
    assert.equal(events.length, 120, 'progress from the workers');
    assert.deepStrictEqual(byId(await readTableRows(wh.catalog, ID)), before);
    const files = await liveFiles(wh.catalog);
    assert.equal(files.length, r.addedFiles);
  });
});
