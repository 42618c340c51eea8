// Snapshot expiry on a real table: branches keep their newest ancestors, tags keep theirs,
// every file a remaining snapshot needs still exists, unreachable files are deleted, and
// --dry-run changes nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { expireSnapshots, planSnapshotExpiry } from '../../compaction/expire-snapshots.ts';
import { InvalidMetadataError } from '../../src/errors.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import type { Snapshot } from '../../src/spec/table-metadata.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const ID = { namespace: ['x'], name: 't' };
const DAY = 86_400_000;

describe('expire snapshots', () => {
  let wh: TestWarehouse;
  const mainIds: bigint[] = [];
  const auditIds: bigint[] = [];
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['x']);
    // Merging off: every append keeps its own manifest, so expiry has files to free.
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.manifest-merge.enabled': 'false' } });
    mainIds.length = 0;
    for (let i = 0; i < 10; i++) mainIds.push((await appendRecords(wh.catalog, ID, [{ id: i }])).snapshot.snapshotId);
    await wh.catalog.commitTable(ID, [], [{ action: 'set-snapshot-ref', refName: 'v1', type: 'tag', snapshotId: mainIds[1]! }]);
    auditIds.length = 0;
    for (const id of [100, 101]) auditIds.push((await appendRecords(wh.catalog, ID, [{ id }], { branch: 'audit' })).snapshot.snapshotId);
  });
  afterEach(async () => { await wh.cleanup(); });

  test('plan: last N of every branch, tagged snapshots, nothing young', async () => {
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const later = Date.now() + 10 * DAY;
    const plan = planSnapshotExpiry(m, { nowMs: later, olderThanMs: DAY, retainLast: 3 });
    // main keeps its newest 3, the tag keeps main's 2nd, audit (2 snapshots) keeps both.
    const kept = new Set([...mainIds.slice(-3), mainIds[1]!, ...auditIds]);
    assert.deepStrictEqual(new Set(plan.retained), kept);
    assert.deepStrictEqual(new Set(plan.expire), new Set(m.snapshots.map((s) => s.snapshotId).filter((id) => !kept.has(id))));
    assert.equal(plan.expire.length, 6);
    assert.deepStrictEqual(planSnapshotExpiry(m, { nowMs: later, olderThanMs: DAY, retainLast: 1 }).retained.length, 3, 'heads of main and audit, and the tag');
    assert.deepStrictEqual(planSnapshotExpiry(m, { nowMs: Date.now(), olderThanMs: DAY, retainLast: 1 }).expire, [], 'nothing is old yet');
  });

  test('expiry keeps what remaining snapshots need and deletes the rest; dry run changes nothing', async () => {
    const later = Date.now() + 10 * DAY;
    const before = (await wh.catalog.io.list(`file://${wh.dir}/x/t/`)).map((f) => f.uri).sort();
    const dry = await expireSnapshots(wh.catalog, ID, { nowMs: later, olderThanMs: DAY, retainLast: 3, dryRun: true });
    assert.equal(dry.expiredSnapshots, 6);
    assert.deepStrictEqual((await wh.catalog.io.list(`file://${wh.dir}/x/t/`)).map((f) => f.uri).sort(), before);

    const r = await expireSnapshots(wh.catalog, ID, { nowMs: later, olderThanMs: DAY, retainLast: 3 });
    assert.equal(r.expiredSnapshots, 6);
    assert.ok(r.deletedFiles > 0);
    const t = await wh.catalog.loadTable(ID);
    assert.deepStrictEqual(new Set(t.metadata.snapshots.map((s) => s.snapshotId)), new Set([...mainIds.slice(-3), mainIds[1]!, ...auditIds]));
    // Every file of every remaining snapshot exists; main still reads all 10 rows.
    for (const s of t.metadata.snapshots) {
      assert.ok(existsSync(uriToPath(s.manifestList)));
      for (const m of await snapshotManifests(wh.catalog.io, s)) {
        assert.ok(existsSync(uriToPath(m.manifestPath)));
        for (const e of await manifestEntries(wh.catalog.io, m)) assert.ok(existsSync(uriToPath(e.dataFile.filePath)), e.dataFile.filePath);
      }
    }
    assert.deepStrictEqual((await readTableRows(wh.catalog, ID)).map((x) => Number(x.id)).sort((a, b) => a - b), [...Array(10).keys()]);
    // audit forked from main's head (10 rows), so it reads those and its own two: the files of
    // main's expired history that audit still reaches must survive.
    assert.deepStrictEqual((await readTableRows(wh.catalog, ID, 'audit')).map((x) => Number(x.id)).sort((a, b) => a - b), [...Array(10).keys(), 100, 101]);
  });

  for (const [what, pick] of [
    ['manifest list', async (s: Snapshot) => s.manifestList],
    ['manifest', async (s: Snapshot) => (await snapshotManifests(wh.catalog.io, s))[0]!.manifestPath],
  ] as const) {
    test(`an unreadable ${what} of an expiring snapshot fails before the commit, naming the file; nothing changes`, async () => {
      const before = await wh.catalog.loadTable(ID);
      const file = await pick(before.metadata.snapshots.find((s) => s.snapshotId === mainIds[2])!);
      const bytes = await readFile(uriToPath(file));
      await writeFile(uriToPath(file), bytes.subarray(0, 19));
      const filesBefore = (await wh.catalog.io.list(`${before.metadata.location}/`)).map((f) => f.uri).sort();
      await assert.rejects(expireSnapshots(wh.catalog, ID, { nowMs: Date.now() + 10 * DAY, olderThanMs: DAY, retainLast: 1 }),
        (err: Error) => err instanceof InvalidMetadataError && err.file === file && /unexpected end of Avro data/.test(err.message));
      const after = await wh.catalog.loadTable(ID);
      assert.equal(after.metadataLocation, before.metadataLocation, 'nothing committed');
      assert.deepStrictEqual((await wh.catalog.io.list(`${before.metadata.location}/`)).map((f) => f.uri).sort(), filesBefore, 'nothing deleted');
    });
  }
});
