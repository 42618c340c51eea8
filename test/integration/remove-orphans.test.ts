// Orphan removal on a real table: every file of every snapshot (on a branch, a tag or no ref
// at all) and every logged metadata file survives even when old; stray files older than the
// margin under data/ and metadata/ go; a young stray and anything outside those folders stay;
// a dry run lists exactly the orphans and deletes nothing; the table reads back unchanged.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { expireSnapshots } from '../../compaction/expire-snapshots.ts';
import { comparableLocation, planOrphanRemoval, removeOrphanFiles } from '../../compaction/remove-orphans.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { TableMetadata } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { readTableRows } from '../support/read-table.ts';
import { insertTableAt } from '../support/legacy-nested-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const ID = { namespace: ['x'], name: 't' };
const DAY = 86_400_000;

/** Every file the metadata's snapshots reach, plus its metadata files, as local paths. */
async function referencedPaths(wh: TestWarehouse, m: TableMetadata, metadataLocation: string): Promise<string[]> {
  const out = [uriToPath(metadataLocation), ...m.metadataLog.map((e) => uriToPath(e.metadataFile))];
  for (const s of m.snapshots) {
    out.push(uriToPath(s.manifestList));
    for (const mf of await snapshotManifests(wh.catalog.io, s)) {
      out.push(uriToPath(mf.manifestPath));
      for (const e of await manifestEntries(wh.catalog.io, mf)) if (e.status !== EntryStatus.Deleted) out.push(uriToPath(e.dataFile.filePath));
    }
  }
  return out;
}

describe('remove orphan files', () => {
  let wh: TestWarehouse;
  let location: string;
  let tableDir: string;
  const stray = { oldData: '', oldMeta: '', youngData: '', outside: '' };

  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['x']);
    location = (await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.manifest-merge.enabled': 'false' } })).metadata.location;
    tableDir = uriToPath(location);
    for (let i = 0; i < 6; i++) await appendRecords(wh.catalog, ID, [{ id: i }, { id: 100 + i }]);
    await appendRecords(wh.catalog, ID, [{ id: 500 }], { branch: 'audit' });
    await wh.catalog.commitTable(ID, [], [{ action: 'set-snapshot-ref', refName: 'v1', type: 'tag', snapshotId: (await wh.catalog.loadTable(ID)).metadata.snapshots[1]!.snapshotId }]);
    // Expiry deletes the files it frees itself; what stays unreferenced must be stray.
    const expired = await expireSnapshots(wh.catalog, ID, { nowMs: Date.now() + 10 * DAY, olderThanMs: 9 * DAY, retainLast: 2 });
    assert.ok(expired.expiredSnapshots > 0);
    // A branch that is dropped leaves its snapshot in the metadata but on no ref.
    await appendRecords(wh.catalog, ID, [{ id: 900 }], { branch: 'staging' });
    await wh.catalog.commitTable(ID, [], [{ action: 'remove-snapshot-ref', refName: 'staging' }]);

    // Everything the table has is made old: only reachability may keep a live file now.
    const old = new Date(Date.now() - 10 * DAY);
    for (const f of await wh.catalog.io.list(`${location}/`)) await utimes(uriToPath(f.uri), old, old);
    stray.oldData = `${tableDir}/data/00000-0-crashed-writer.parquet`;
    stray.oldMeta = `${tableDir}/metadata/snap-123-1-crashed-writer.avro`;
    stray.youngData = `${tableDir}/data/00000-0-writing-now.parquet`;
    stray.outside = `${tableDir}/notes.txt`;
    for (const p of Object.values(stray)) await writeFile(p, 'not iceberg');
    for (const p of [stray.oldData, stray.oldMeta, stray.outside]) await utimes(p, old, old);
  });
  afterEach(async () => { await wh.cleanup(); });

  test('dry run lists exactly the old orphans and deletes nothing', async () => {
    const before = (await wh.catalog.io.list(`file://${wh.dir}/`)).map((f) => f.uri).sort();
    const r = await removeOrphanFiles(wh.catalog, ID, { nowMs: Date.now(), olderThanMs: 3 * DAY, dryRun: true });
    assert.equal(r.dryRun, true);
    assert.deepStrictEqual(r.orphans.map((f) => uriToPath(f.uri)).sort(), [stray.oldData, stray.oldMeta].sort());
    assert.equal(r.tooYoung, 1, 'the file being written now');
    assert.equal(r.deletedFiles, 0);
    assert.deepStrictEqual((await wh.catalog.io.list(`file://${wh.dir}/`)).map((f) => f.uri).sort(), before);
  });

  test('deletes only old orphans; every referenced file and the young stray survive; rows unchanged', async () => {
    const rowsBefore = (await readTableRows(wh.catalog, ID)).map((x) => Number(x.id)).sort((a, b) => a - b);
    const auditBefore = (await readTableRows(wh.catalog, ID, 'audit')).map((x) => Number(x.id)).sort((a, b) => a - b);
    const t = await wh.catalog.loadTable(ID);
    assert.ok(t.metadata.snapshots.some((s) => !Object.values(t.metadata.refs).some((r) => r.snapshotId === s.snapshotId)), 'a snapshot on no ref remains');
    const referenced = await referencedPaths(wh, t.metadata, t.metadataLocation);
    assert.ok(referenced.length > 20);

    const r = await removeOrphanFiles(wh.catalog, ID, { nowMs: Date.now() });
    assert.equal(r.dryRun, false);
    assert.deepStrictEqual(r.orphans.map((f) => uriToPath(f.uri)).sort(), [stray.oldData, stray.oldMeta].sort());
    assert.equal(r.deletedFiles, 2);
    assert.equal(r.deletedBytes, 2 * 'not iceberg'.length);
    assert.deepStrictEqual(r.failed, []);
    assert.ok(!existsSync(stray.oldData) && !existsSync(stray.oldMeta));
    assert.ok(existsSync(stray.youngData), 'younger than the margin: maybe an in-flight write');
    assert.ok(existsSync(stray.outside), 'not under data/ or metadata/');
    assert.ok(existsSync(wh.catalogDb), 'the catalog database is never touched');
    for (const p of referenced) assert.ok(existsSync(p), p);

    assert.deepStrictEqual((await readTableRows(wh.catalog, ID)).map((x) => Number(x.id)).sort((a, b) => a - b), rowsBefore);
    assert.deepStrictEqual((await readTableRows(wh.catalog, ID, 'audit')).map((x) => Number(x.id)).sort((a, b) => a - b), auditBefore);
    assert.equal(rowsBefore.length, 12);

    // Nothing left to do: a second run finds no orphan.
    const again = await removeOrphanFiles(wh.catalog, ID, { nowMs: Date.now() });
    assert.equal(again.orphans.length, 0);
  });

  test('plan: file:/, file:/// and bare paths name the same file; only data/ and metadata/ are candidates', () => {
    assert.equal(comparableLocation('file:/w/t/data/a.parquet'), '/w/t/data/a.parquet');
    assert.equal(comparableLocation('file:///w/t/data/a.parquet'), '/w/t/data/a.parquet');
    assert.equal(comparableLocation('/w/t/data/a.parquet'), '/w/t/data/a.parquet');
    const f = (uri: string) => ({ uri, size: 1, modifiedMs: 0 });
    const live = new Set([comparableLocation('file:/w/t/data/live.parquet')]);
    const plan = planOrphanRemoval(
      [f('file:///w/t/data/live.parquet'), f('file:///w/t/data/dead.parquet'), f('file:///w/t/other/x'), f('file:///w/t/metadata/m.avro'), f('file:///w/t2/data/y.parquet')],
      live, 'file:///w/t', { nowMs: 10 * DAY, olderThanMs: 3 * DAY },
    );
    assert.deepStrictEqual(plan.orphans.map((x) => x.uri), ['file:///w/t/data/dead.parquet', 'file:///w/t/metadata/m.avro']);
  });
});

describe('remove orphan files next to other tables', () => {
  test('a table an older catalog put inside this one\'s data/ folder keeps every file', async () => {
    const wh = await testWarehouse();
    try {
      await wh.catalog.createNamespace(['a']);
      const outer = { namespace: ['a'], name: 'b' };
      const location = (await wh.catalog.createTable(outer, { schema: SCHEMA })).metadata.location;
      await appendRecords(wh.catalog, outer, [{ id: 1 }]);
      const inner = { namespace: ['a', 'b', 'data'], name: 'x' };
      await insertTableAt(wh.catalog, wh.catalogDb, inner, `${location}/data/x`, SCHEMA);
      await appendRecords(wh.catalog, inner, [{ id: 2 }, { id: 3 }]);
      await writeFile(`${uriToPath(location)}/data/x/data/stray-of-inner.parquet`, 'not iceberg');
      const innerFiles = (await wh.catalog.io.list(`${location}/data/x/`)).map((f) => f.uri).sort();
      const stray = `${uriToPath(location)}/data/stray.parquet`;
      await writeFile(stray, 'not iceberg');

      const r = await removeOrphanFiles(wh.catalog, outer, { nowMs: Date.now() + DAY, olderThanMs: 0 });
      assert.deepStrictEqual(r.orphans.map((f) => uriToPath(f.uri)), [stray]);
      assert.deepStrictEqual((await wh.catalog.io.list(`${location}/data/x/`)).map((f) => f.uri).sort(), innerFiles);
      assert.deepStrictEqual((await readTableRows(wh.catalog, inner)).map((x) => Number(x.id)).sort(), [2, 3]);

      // The inner table's own run still finds its own stray, and leaves the outer table's files.
      const outerFiles = (await wh.catalog.io.list(`${location}/`)).map((f) => f.uri).filter((u) => !u.includes('/data/x/')).sort();
      const own = await removeOrphanFiles(wh.catalog, inner, { nowMs: Date.now() + DAY, olderThanMs: 0 });
      assert.deepStrictEqual(own.orphans.map((f) => uriToPath(f.uri)), [`${uriToPath(location)}/data/x/data/stray-of-inner.parquet`]);
      assert.deepStrictEqual((await wh.catalog.io.list(`${location}/`)).map((f) => f.uri).filter((u) => !u.includes('/data/x/')).sort(), outerFiles);
      assert.deepStrictEqual((await readTableRows(wh.catalog, outer)).map((x) => Number(x.id)), [1]);
    } finally {
      await wh.cleanup();
    }
  });

  test('an unreadable manifest fails the run before anything is deleted, naming the file', async () => {
    const wh = await testWarehouse();
    try {
      await wh.catalog.createNamespace(['x']);
      const location = (await wh.catalog.createTable(ID, { schema: SCHEMA })).metadata.location;
      await appendRecords(wh.catalog, ID, [{ id: 1 }]);
      const t = await wh.catalog.loadTable(ID);
      const manifest = (await snapshotManifests(wh.catalog.io, t.metadata.snapshots[0]))[0]!.manifestPath;
      await writeFile(uriToPath(manifest), 'Obj\x01garbage');
      const stray = `${uriToPath(location)}/data/stray.parquet`;
      await writeFile(stray, 'not iceberg');
      await assert.rejects(removeOrphanFiles(wh.catalog, ID, { nowMs: Date.now() + DAY, olderThanMs: 0 }),
        (err: Error) => err.message.includes(manifest) && /invalid metadata file/.test(err.message));
      assert.ok(existsSync(stray));
    } finally {
      await wh.cleanup();
    }
  });

  test('a table whose location is a symbolic link into this one\'s data/ folder keeps its files', async () => {
    const wh = await testWarehouse();
    try {
      await wh.catalog.createNamespace(['a']);
      const outer = { namespace: ['a'], name: 'b' };
      const location = (await wh.catalog.createTable(outer, { schema: SCHEMA })).metadata.location;
      await appendRecords(wh.catalog, outer, [{ id: 1 }]);
      await mkdir(`${uriToPath(location)}/data/x`);
      await symlink(`${uriToPath(location)}/data/x`, `${wh.dir}/link`);
      const inner = { namespace: ['a'], name: 'linked' };
      await insertTableAt(wh.catalog, wh.catalogDb, inner, `file://${wh.dir}/link`, SCHEMA);
      await appendRecords(wh.catalog, inner, [{ id: 2 }]);
      const innerFiles = (await wh.catalog.io.list(`${location}/data/x/`)).map((f) => f.uri).sort();
      assert.ok(innerFiles.length >= 4, innerFiles.join(' '));
      const r = await removeOrphanFiles(wh.catalog, outer, { nowMs: Date.now() + DAY, olderThanMs: 0 });
      assert.deepStrictEqual(r.orphans, []);
      assert.deepStrictEqual((await wh.catalog.io.list(`${location}/data/x/`)).map((f) => f.uri).sort(), innerFiles);
      assert.deepStrictEqual((await readTableRows(wh.catalog, inner)).map((x) => Number(x.id)), [2]);
    } finally {
      await wh.cleanup();
    }
  });
});
