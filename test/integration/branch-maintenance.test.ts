// Maintenance next to open branches: compacting main, then expiring snapshots and removing
// orphans, never deletes a file that a branch (an audit branch, a quarantined one) or a tag still
// reads — every ref reads back exactly the rows it had — while main's replaced files do go.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { expireSnapshots } from '../../compaction/expire-snapshots.ts';
import { removeOrphanFiles } from '../../compaction/remove-orphans.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { deleteWhere } from '../../src/merge/delete-where.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { TableMetadata } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { createBranch, createTag } from '../../src/transaction/manage-refs.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { quarantineName } from '../../src/wap/branch-status.ts';
import { quarantineBranch } from '../../src/wap/quarantine.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['m'], name: 't' };
const DAY = 86_400_000;

async function liveDataFiles(wh: TestWarehouse, m: TableMetadata, ref: string): Promise<string[]> {
  const out: string[] = [];
  for (const man of await snapshotManifests(wh.catalog.io, m.snapshots.find((s) => s.snapshotId === m.refs[ref]!.snapshotId))) {
    for (const e of await manifestEntries(wh.catalog.io, man)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile.filePath);
  }
  return out.sort();
}

describe('compaction, expiry and orphan removal keep what branches read', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['m']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.manifest-merge.enabled': 'false' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('compact main → expire → remove orphans: audit, quarantined and tagged rows read back exactly', { timeout: 120_000 }, async () => {
    for (let i = 0; i < 6; i++) await appendRecords(wh.catalog, ID, [{ id: i * 2, v: `m${i}` }, { id: i * 2 + 1, v: `m${i}` }]);
    await createTag(wh.catalog, ID, 'v1');
    await createBranch(wh.catalog, ID, 'audit');
    await appendRecords(wh.catalog, ID, [{ id: 100, v: 'audit' }], { branch: 'audit' });
    await createBranch(wh.catalog, ID, 'bad');
    const badHead = (await appendRecords(wh.catalog, ID, [{ id: 200, v: 'bad' }], { branch: 'bad' })).snapshot.snapshotId;
    const quarantined = quarantineName('bad', badHead);
    assert.equal((await quarantineBranch(wh.catalog, ID, { branch: 'bad', record: { checkedAtMs: 1, checks: 1, failed: [] }, log: pino({ level: 'silent' }) })).quarantineBranch, quarantined);
    // main moves on: files no branch reads (freed by compaction + expiry), and a delete
    // (merge-on-read: a delete file) the branches must not see.
    for (let i = 0; i < 2; i++) await appendRecords(wh.catalog, ID, [{ id: 50 + i, v: 'later' }]);
    await deleteWhere(wh.catalog, ID, 'id = 0');

    const refs = ['main', 'audit', quarantined, 'v1'];
    const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => `${Number(r.id)}:${String(r.v)}`).sort();
    const before = new Map<string, string[]>();
    for (const r of refs) before.set(r, sorted(await readTableRows(wh.catalog, ID, r)));
    assert.equal(before.get('v1')!.length, 12);
    assert.equal(before.get('audit')!.length, 13);
    assert.equal(before.get(quarantined)!.length, 13);
    assert.equal(before.get('main')!.length, 13);
    const mainFilesBefore = await liveDataFiles(wh, (await wh.catalog.loadTable(ID)).metadata, 'main');

    const report = await compactTable(wh.catalog, ID, { minInputFiles: 2, rewriteAll: true });
    assert.ok(report.rewrittenFiles >= 6 && report.commits > 0, JSON.stringify(report));
    const afterCompact = (await wh.catalog.loadTable(ID)).metadata;
    const mainFilesAfter = await liveDataFiles(wh, afterCompact, 'main');
    assert.notDeepEqual(mainFilesAfter, mainFilesBefore, 'main was compacted');

    const later = Date.now() + 10 * DAY;
    const expired = await expireSnapshots(wh.catalog, ID, { nowMs: later, olderThanMs: DAY, retainLast: 1 });
    assert.ok(expired.expiredSnapshots > 0);
    assert.deepEqual(expired.removedRefs, []);
    const orphans = await removeOrphanFiles(wh.catalog, ID, { nowMs: later, olderThanMs: DAY });
    assert.deepEqual(orphans.failed, []);

    const m = (await wh.catalog.loadTable(ID)).metadata;
    for (const r of refs) {
      assert.deepEqual(sorted(await readTableRows(wh.catalog, ID, r)), before.get(r), `${r} reads the same rows`);
      for (const f of await liveDataFiles(wh, m, r)) assert.ok(existsSync(uriToPath(f)), `${r} still has ${f}`);
    }
    // What only main's old snapshots used is gone: the pre-compaction files no ref reads.
    const stillRead = new Set((await Promise.all(refs.map((r) => liveDataFiles(wh, m, r)))).flat());
    const freed = mainFilesBefore.filter((f) => !stillRead.has(f));
    assert.equal(freed.length, 3, 'the two data files and the delete file only main read before compacting');
    for (const f of freed) assert.ok(!existsSync(uriToPath(f)), `freed file deleted: ${f}`);
  });
});
