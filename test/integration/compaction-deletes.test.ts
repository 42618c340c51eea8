// Compaction after merges, without readers (the interop tests ask real engines): the rewrite
// applies position and equality deletes, its commit drops the delete files no remaining data
// file needs, a delete committed after the start is never dropped, and rewrite-position-deletes
// merges each partition's position-delete files, dropping dangling entries. The rows are read
// with floe's own live-row scan (deletes applied, as the merge reads them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { startCompaction } from '../../compaction/compaction-service.ts';
import { rewritePositionDeletes } from '../../compaction/rewrite-position-deletes.ts';
import { scanLiveRows } from '../../src/merge/live-rows.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { loadRowLevelBase } from '../../src/merge/row-level-base.ts';
import { EntryStatus, FileContent, type DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead, currentSchema, specById } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { RewriteValidationError } from '../../src/transaction/replace-data-files.ts';
import { RowDelta } from '../../src/transaction/row-delta.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { writeEqualityDeletes } from '../../src/writer/equality-delete-writer.ts';
import { writePositionDeletes } from '../../src/writer/position-delete-writer.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const run = promisify(execFile);
const FLOE = path.join(REPO_ROOT, 'bin/floe.js');
const SCHEMA = schemaWithKey(schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'v', required: false, type: 'string' },
  ],
}, { assignIds: true }), ['id']);
const ID = { namespace: ['d'], name: 't' };
const REGIONS = ['eu', 'us', 'ap'];
const rec = (id: number, v = `v${id}`): Record<string, unknown> => ({ id, region: REGIONS[id % 3], v });

type Row = { id: bigint; region: unknown; v: unknown };
async function rows(wh: TestWarehouse, id = ID): Promise<Row[]> {
  const t = await wh.catalog.loadTable(id);
  const base = await loadRowLevelBase(wh.catalog.io, t.metadata, branchHead(t.metadata, 'main'));
  const out: Row[] = [];
  for (const live of base.data) {
    await scanLiveRows(base, live, [1, 2, 3], (_pos, col, r) => { out.push({ id: col(1)(r) as bigint, region: col(2)(r), v: col(3)(r) }); });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

interface LiveEntry { file: DataFile; sequenceNumber: bigint }
async function live(wh: TestWarehouse, id = ID): Promise<{ data: LiveEntry[]; positionDeletes: LiveEntry[]; equalityDeletes: LiveEntry[] }> {
  const t = await wh.catalog.loadTable(id);
  const out = { data: [] as LiveEntry[], positionDeletes: [] as LiveEntry[], equalityDeletes: [] as LiveEntry[] };
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const entry = { file: e.dataFile, sequenceNumber: e.sequenceNumber ?? 0n };
      if (e.dataFile.content === FileContent.Data) out.data.push(entry);
      else if (e.dataFile.content === FileContent.PositionDeletes) out.positionDeletes.push(entry);
      else out.equalityDeletes.push(entry);
    }
  }
  return out;
}

async function headSummary(wh: TestWarehouse): Promise<Record<string, string>> {
  const t = await wh.catalog.loadTable(ID);
  return { ...branchHead(t.metadata, 'main')!.summary };
}

/** Commits one equality-delete file per region for the ids given (deleting on `id`). */
async function commitEqualityDeletes(wh: TestWarehouse, ids: readonly number[], id = ID): Promise<DataFile[]> {
  const t = await wh.catalog.loadTable(id);
  const target = { io: wh.catalog.io, location: t.metadata.location, schema: currentSchema(t.metadata), spec: specById(t.metadata, 0), properties: t.metadata.properties };
  const files: DataFile[] = [];
  for (const region of REGIONS) {
    const keys = ids.filter((i) => REGIONS[i % 3] === region).map((i) => ({ id: i }));
    if (keys.length > 0) files.push(await writeEqualityDeletes(target, [region], [1], keys));
  }
  await commitWithRetry(wh.catalog, id, new RowDelta(wh.catalog.io, { plan: async () => ({ addedDeleteFiles: files }) }));
  return files;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('compaction after merges', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['d']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: { 'commit.retry.min-wait-ms': '1' } });
    for (let b = 0; b < 3; b++) await appendRecords(wh.catalog, ID, range(b * 60, (b + 1) * 60).map((i) => rec(i)));
  });
  afterEach(async () => { await wh.cleanup(); });

  /** Merge-on-read merges that update and delete rows across every file and partition. */
  async function mergeMany(rounds: number): Promise<void> {
    for (let k = 0; k < rounds; k++) {
      await mergeRecords(wh.catalog, ID, range(0, 180).filter((i) => i % 9 === k).map((i) => rec(i, `m${k}`)), { mode: 'merge-on-read' });
      await mergeRecords(wh.catalog, ID, range(0, 180).filter((i) => i % 11 === k).map((i) => ({ id: i })), { mode: 'merge-on-read', deleteOnly: true });
    }
  }

  test('after merge-on-read merges: same rows, every delete file dropped in the replace commit, summary counts them', async () => {
    await mergeMany(3);
    const want = await rows(wh);
    const before = await live(wh);
    assert.ok(before.positionDeletes.length >= 6, `${before.positionDeletes.length} position-delete files`);
    const report = await compactTable(wh.catalog, ID, { rewriteAll: true });
    assert.deepStrictEqual(await rows(wh), want);
    const after = await live(wh);
    assert.equal(after.positionDeletes.length, 0);
    assert.equal(report.removedDeleteFiles, before.positionDeletes.length);
    const s = await headSummary(wh);
    assert.equal(s.operation, 'replace');
    assert.equal(s['removed-delete-files'], String(before.positionDeletes.length));
    assert.equal(s['removed-position-deletes'], String(before.positionDeletes.reduce((n, f) => n + f.file.recordCount, 0n)));
    assert.equal(s['total-delete-files'], '0');
    assert.equal(s['total-position-deletes'], '0');
  });

  test('equality deletes are applied by the rewrite (only to older rows) and their files dropped', async () => {
    await commitEqualityDeletes(wh, range(0, 180).filter((i) => i % 4 === 0));
    // Appended after the deletes: rows with deleted ids that must survive (newer sequence number).
    await appendRecords(wh.catalog, ID, [rec(4, 'again'), rec(8, 'again'), rec(500)]);
    const want = await rows(wh);
    assert.equal(want.length, 180 - 45 + 3);
    assert.deepStrictEqual(want.filter((r) => r.id === 4n || r.id === 8n).map((r) => r.v), ['again', 'again']);
    const report = await compactTable(wh.catalog, ID, { rewriteAll: true });
    assert.deepStrictEqual(await rows(wh), want);
    const after = await live(wh);
    assert.equal(after.equalityDeletes.length, 0);
    assert.equal(report.removedDeleteFiles, 3);
    const s = await headSummary(wh);
    assert.equal(s['removed-equality-deletes'], '45');
    assert.equal(s['total-equality-deletes'], '0');
  });

  test('with partial progress each commit drops the delete files of its own groups', async () => {
    await mergeMany(2);
    await commitEqualityDeletes(wh, [1, 2, 3]);
    const want = await rows(wh);
    const before = await live(wh);
    const committed: number[] = [];
    const report = await compactTable(wh.catalog, ID, {
      rewriteAll: true, partialProgress: true, partialProgressMaxCommits: 3,
      onEvent: (ev) => { if (ev.type === 'committed') committed.push(ev.removedDeleteFiles); },
    });
    assert.equal(report.commits, 3);
    assert.deepStrictEqual(await rows(wh), want);
    const after = await live(wh);
    assert.equal(after.positionDeletes.length + after.equalityDeletes.length, 0);
    assert.equal(committed.reduce((a, b) => a + b, 0), before.positionDeletes.length + before.equalityDeletes.length);
    assert.ok(committed.every((n) => n > 0), `every commit dropped its partition's deletes: ${committed.join(', ')}`);
  });

  test('an equality delete still needed by a file the run leaves alone stays', async () => {
    // 'ap' holds one small file: with min-input-files 2 it is not rewritten, and keeps its deletes.
    const T2 = { namespace: ['d'], name: 't2' };
    await wh.catalog.createTable(T2, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA) });
    for (let b = 0; b < 2; b++) await appendRecords(wh.catalog, T2, range(b * 60, (b + 1) * 60).filter((i) => i % 3 !== 2).map((i) => rec(i)));
    await appendRecords(wh.catalog, T2, range(0, 60).filter((i) => i % 3 === 2).map((i) => rec(i)));
    await commitEqualityDeletes(wh, [0, 1, 2, 3, 4, 5], T2);
    const want = await rows(wh, T2);
    const report = await compactTable(wh.catalog, T2, { minInputFiles: 2 });
    assert.equal(report.rewrittenFiles, 4, 'eu and us: two files each');
    assert.deepStrictEqual(await rows(wh, T2), want);
    const left = await live(wh, T2);
    assert.deepStrictEqual(left.equalityDeletes.map((e) => e.file.partition), [['ap']]);
    assert.equal(report.removedDeleteFiles, 2);
  });

  test('a position delete committed for a replaced file during the rewrite refuses the commit and is never dropped', async () => {
    await mergeMany(1);
    let concurrentSeq: bigint | undefined;
    const before = await live(wh);
    const err = await compactTable(wh.catalog, ID, {
      rewriteAll: true,
      commitHooks: { beforeSwap: async () => {
        if (concurrentSeq !== undefined) return;
        const m = await mergeRecords(wh.catalog, ID, [{ id: 3 }], { mode: 'merge-on-read', deleteOnly: true });
        concurrentSeq = m.snapshot!.sequenceNumber;
      } },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RewriteValidationError, String(err));
    const after = await live(wh);
    // Every delete file is still there, the concurrent one included.
    assert.deepStrictEqual(after.positionDeletes.filter((d) => d.sequenceNumber === concurrentSeq).length, 1);
    assert.equal(after.positionDeletes.length, before.positionDeletes.length + 1);
    assert.ok(!(await rows(wh)).some((r) => r.id === 3n));
  });

  test('an equality delete committed during the rewrite stays live and still applies to the rewritten rows', async () => {
    await mergeMany(1);
    let added: DataFile[] = [];
    const report = await compactTable(wh.catalog, ID, {
      rewriteAll: true,
      commitHooks: { beforeSwap: async () => { if (added.length === 0) added = await commitEqualityDeletes(wh, [30, 31, 32]); } },
    });
    assert.ok(report.commits === 1 && report.conflicts >= 1);
    const after = await live(wh);
    assert.equal(after.positionDeletes.length, 0);
    assert.deepStrictEqual(after.equalityDeletes.map((e) => e.file.filePath).sort(), added.map((f) => f.filePath).sort());
    assert.ok(!(await rows(wh)).some((r) => r.id >= 30n && r.id <= 32n));
  });

  test('rewrite-position-deletes took a delete file meanwhile: the compaction commits without dropping it', async () => {
    await mergeMany(2);
    const want = await rows(wh);
    let merged = false;
    const report = await compactTable(wh.catalog, ID, {
      rewriteAll: true,
      commitHooks: { beforeSwap: async () => {
        if (merged) return;
        merged = true;
        const r = await rewritePositionDeletes(wh.catalog, ID);
        assert.notEqual(r.snapshotId, null);
      } },
    });
    assert.equal(report.commits, 1);
    assert.deepStrictEqual(await rows(wh), want);
    // What the merge wrote now only names data files the compaction removed: dangling, and
    // the next rewrite-position-deletes drops it.
    const left = await live(wh);
    assert.ok(left.positionDeletes.length > 0);
    const r = await rewritePositionDeletes(wh.catalog, ID);
    assert.equal(r.addedDeleteFiles, 0);
    assert.ok(r.danglingDeletes > 0);
    assert.equal((await live(wh)).positionDeletes.length, 0);
    assert.deepStrictEqual(await rows(wh), want);
  });
});

describe('rewrite-position-deletes', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['d']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA), properties: { 'commit.retry.min-wait-ms': '1' } });
    for (let b = 0; b < 3; b++) await appendRecords(wh.catalog, ID, range(b * 60, (b + 1) * 60).map((i) => rec(i)));
    for (let k = 0; k < 4; k++) {
      await mergeRecords(wh.catalog, ID, range(0, 180).filter((i) => i % 10 === k).map((i) => rec(i, `m${k}`)), { mode: 'merge-on-read' });
    }
  });
  afterEach(async () => { await wh.cleanup(); });

  test('merges each partition into one sorted file with the greatest data sequence number, dropping dangling entries', async () => {
    // A delete file naming a live file and one that no longer exists (dangling).
    const t = await wh.catalog.loadTable(ID);
    const eu = (await live(wh)).data.find((d) => d.file.partition[0] === 'eu')!;
    const ghost = `${t.metadata.location}/data/region=eu/gone.parquet`;
    const extra = await writePositionDeletes({ io: wh.catalog.io, location: t.metadata.location, schema: SCHEMA, spec: specById(t.metadata, 0), properties: {} },
      ['eu'], new Map([[eu.file.filePath, [0]], [ghost, [1, 2, 3]]]));
    await commitWithRetry(wh.catalog, ID, new RowDelta(wh.catalog.io, { plan: async () => ({ addedDeleteFiles: [extra] }) }));
    const want = await rows(wh);
    const before = await live(wh);
    const maxSeq = new Map<string, bigint>();
    for (const d of before.positionDeletes) {
      const k = String(d.file.partition[0]);
      if (d.sequenceNumber > (maxSeq.get(k) ?? 0n)) maxSeq.set(k, d.sequenceNumber);
    }
    assert.ok(before.positionDeletes.length >= 3 * 4);

    const r = await rewritePositionDeletes(wh.catalog, ID);
    assert.equal(r.partitions, 3);
    assert.equal(r.rewrittenDeleteFiles, before.positionDeletes.length);
    assert.equal(r.addedDeleteFiles, 3);
    assert.equal(r.danglingDeletes, 3);
    const after = await live(wh);
    assert.equal(after.positionDeletes.length, 3);
    for (const d of after.positionDeletes) assert.equal(d.sequenceNumber, maxSeq.get(String(d.file.partition[0])), `data sequence number of ${String(d.file.partition[0])}`);
    assert.deepStrictEqual(await rows(wh), want);
    const s = await headSummary(wh);
    assert.equal(s.operation, 'replace');
    assert.equal(s['removed-delete-files'], String(before.positionDeletes.length));
    assert.equal(s['added-delete-files'], '3');
    assert.equal(BigInt(s['removed-position-deletes']!) - BigInt(s['added-position-deletes']!), 3n);
    // Nothing left to do: one file per partition, none dangling.
    const again = await rewritePositionDeletes(wh.catalog, ID);
    assert.equal(again.snapshotId, null);
    assert.match(again.reason!, /nothing|no partition/);
  });

  test('refuses when a replaced delete file is no longer live (a compaction dropped it), and removes its new files', async () => {
    const want = await rows(wh);
    let compacted = false;
    const t = await wh.catalog.loadTable(ID);
    const deleteFilesOnDisk = async (): Promise<string[]> => (await wh.catalog.io.list(`${t.metadata.location}/data/`)).map((f) => f.uri).filter((u) => u.endsWith('-deletes.parquet'));
    const onDiskBefore = new Set(await deleteFilesOnDisk());
    const err = await rewritePositionDeletes(wh.catalog, ID, {
      hooks: { beforeSwap: async () => {
        if (compacted) return;
        compacted = true;
        await compactTable(wh.catalog, ID, { rewriteAll: true });
      } },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RewriteValidationError, String(err));
    assert.match((err as Error).message, /no longer live/);
    assert.equal((await live(wh)).positionDeletes.length, 0);
    assert.deepStrictEqual(await rows(wh), want);
    // No merged delete file of the refused commit is left on disk.
    assert.deepStrictEqual((await deleteFilesOnDisk()).filter((u) => !onDiskBefore.has(u)), []);
  });

  test('the compaction service runs it as a maintenance step when a partition has enough delete files', async () => {
    const want = await rows(wh);
    const logs: string[] = [];
    const logSink = { write: (chunk: string): boolean => { logs.push(String(chunk)); return true; } } as unknown as NodeJS.WritableStream;
    // Nothing is worth compacting here (no group of 1000 files, no file above the delete ratio): only the maintenance step acts.
    const service = await startCompaction(wh.catalog, { tables: [ID], minInputFiles: 1000, deleteRatioThreshold: 1.1, progress: false, rewritePositionDeletesMinFiles: 4 }, () => undefined, logSink);
    await service.done;
    const after = await live(wh);
    assert.equal(after.positionDeletes.length, 3);
    assert.deepStrictEqual(await rows(wh), want);
    assert.ok(logs.some((l) => /position deletes rewritten/.test(l) && /"rewrittenDeleteFiles":12/.test(l)), logs.join(''));
    // Below the threshold now (one file per partition): the next run leaves them.
    const again = await startCompaction(wh.catalog, { tables: [ID], minInputFiles: 1000, deleteRatioThreshold: 1.1, progress: false, rewritePositionDeletesMinFiles: 2 }, () => undefined, logSink);
    await again.done;
    assert.deepStrictEqual((await live(wh)).positionDeletes.map((d) => d.file.filePath).sort(), after.positionDeletes.map((d) => d.file.filePath).sort());
  });

  test('CLI: floe rewrite-position-deletes reports the rewrite', async () => {
    const env = { ...process.env, FLOE_WAREHOUSE: wh.dir, FLOE_CATALOG: `sqlite:${wh.catalogDb}` };
    const r = await run('node', [FLOE, 'rewrite-position-deletes', 'd.t'], { env });
    assert.match(r.stdout, /^rewrote 12 position-delete file\(s\) of 3 partition\(s\) into 3 \(\d+ deletes kept, 0 dangling dropped\) on branch main: snapshot \d+/);
    const again = await run('node', [FLOE, 'rewrite-position-deletes', 'd.t', '--branch', 'main'], { env });
    assert.match(again.stdout, /no partition/);
    await assert.rejects(run('node', [FLOE, 'rewrite-position-deletes', 'd.t', '--min-input-files', 'x'], { env }), /--min-input-files/);
  });
});
