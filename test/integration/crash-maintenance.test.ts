// `floe compact`, `floe expire-snapshots` and `floe rewrite-manifests` SIGKILLed at every named
// phase (src/fault-points.ts): the table stays consistent with every row exactly once (floe,
// pyiceberg and DuckDB agree), before the swap the head is untouched, after it the operation's
// snapshot is whole, and a rerun finishes the job with the rows unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { reachableFiles } from '../../src/table/table-files.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { assertTableHolds, rowsFor, type Row } from '../support/crash-checks.ts';
import { describeRun, runFloe } from '../support/crash-run.ts';
import { ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'part', required: true, type: 'int' },
] }, { assignIds: true });

describe('crash during compaction, expiry and rewrite-manifests', () => {
  let wh: TestWarehouse;
  let readers: ReaderServer | undefined;
  let n = 0;
  before(async () => {
    wh = await testWarehouse('floe-crash-maint-');
    await wh.catalog.createNamespace(['crash']);
    if (!readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  /** A table (partitioned by `part` when asked) grown by `commits` small appends of 30 rows. */
  async function grow(commits: number, partitioned = false): Promise<{ id: TableIdentifier; name: string; rows: Row[] }> {
    const id = { namespace: ['crash'], name: `m${++n}` };
    await wh.catalog.createTable(id, { schema: SCHEMA, ...(partitioned ? { spec: parsePartitionExpression('part', SCHEMA) } : {}) });
    const rows: Row[] = [];
    for (let c = 0; c < commits; c++) {
      const batch = rowsFor(c * 100, 30, `c${c}-`);
      await appendRecords(wh.catalog, id, batch.map((r) => ({ ...r, part: Number(r.id) % 2 })));
      rows.push(...batch);
    }
    return { id, name: `crash.${id.name}`, rows };
  }

  const head = async (id: TableIdentifier) => branchHead((await wh.catalog.loadTable(id)).metadata, 'main')!;
  const liveDataFiles = async (id: TableIdentifier): Promise<number> => Number((await head(id)).summary['total-data-files']);

  const COMPACTION_PHASES = [
    ['compaction.after-data-files', false], ['compaction.after-manifests', false], ['compaction.after-manifest-list', false],
    ['commit.after-metadata-file', false], ['commit.after-catalog-swap', true],
  ] as const;
  for (const [phase, swapped] of COMPACTION_PHASES) {
    test(`floe compact killed at ${phase}: rows unchanged, readers agree; rerun finishes the compaction`, async () => {
      const { id, name, rows } = await grow(6);
      const start = await head(id);
      const crashed = await runFloe(wh.dir, ['compact', name], { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      const now = await head(id);
      if (swapped) {
        assert.equal(now.summary.operation, 'replace');
        assert.equal(await liveDataFiles(id), 1);
      } else {
        assert.equal(now.snapshotId, start.snapshotId, 'nothing committed before the swap');
      }
      await assertTableHolds(wh, id, rows, readers, `after crash at ${phase}`);
      const rerun = await runFloe(wh.dir, ['compact', name]);
      assert.equal(rerun.code, 0, describeRun(rerun));
      assert.equal(await liveDataFiles(id), 1, 'the rerun compacted the six files into one');
      await assertTableHolds(wh, id, rows, readers, `after rerun (${phase})`);
    });
  }

  test('floe compact --partial-progress killed after its first group committed: rerun compacts the other partition', async () => {
    const { id, name, rows } = await grow(6, true);
    const crashed = await runFloe(wh.dir, ['compact', name, '--partial-progress', '--max-commits', '2'], { faultAt: 'commit.after-catalog-swap#1' });
    assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
    assert.equal(await liveDataFiles(id), 1 + 6, 'one partition compacted, the other still in six files');
    await assertTableHolds(wh, id, rows, readers, 'after crash between partial-progress commits');
    const rerun = await runFloe(wh.dir, ['compact', name, '--partial-progress', '--max-commits', '2']);
    assert.equal(rerun.code, 0, describeRun(rerun));
    assert.equal(await liveDataFiles(id), 2);
    await assertTableHolds(wh, id, rows, readers, 'after partial-progress rerun');
  });

  /** Six appends and a compaction: the six small files are now reachable only from old snapshots. */
  async function expirable(): Promise<{ id: TableIdentifier; name: string; rows: Row[]; doomed: string[] }> {
    const t = await grow(6);
    await compactTable(wh.catalog, t.id);
    const meta = (await wh.catalog.loadTable(t.id)).metadata;
    const keep = await reachableFiles(wh.catalog.io, [branchHead(meta, 'main')!]);
    const doomed = [...await reachableFiles(wh.catalog.io, meta.snapshots)].filter((f) => !keep.has(f));
    assert.ok(doomed.length >= 12, `expected files to expire, got ${doomed.length}`);
    return { ...t, doomed };
  }

  const existing = async (files: readonly string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const f of files) if (await wh.catalog.io.exists(f)) out.push(f);
    return out;
  };

  // Expiring all but the head deletes 18 files, bottom-up: 6 data files (visits #1-#6 of
  // expire.mid-delete), 6 manifests (#7-#12), 6 manifest lists (#13-#18).
  const EXPIRY_PHASES = [
    ['commit.after-metadata-file', false], ['expire.after-commit', true],
    ['expire.mid-delete#3', true], ['expire.mid-delete#9', true], ['expire.mid-delete#15', true],
  ] as const;
  for (const [phase, committed] of EXPIRY_PHASES) {
    test(`floe expire-snapshots killed at ${phase}: the table whole, rows unchanged; the rerun deletes every expired file`, async () => {
      const { id, name, rows, doomed } = await expirable();
      assert.equal(doomed.length, 18);
      const snapshotsBefore = (await wh.catalog.loadTable(id)).metadata.snapshots.length;
      const args = ['expire-snapshots', name, '--older-than', '0s', '--retain-last', '1'];
      const crashed = await runFloe(wh.dir, args, { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      assert.equal((await wh.catalog.loadTable(id)).metadata.snapshots.length, committed ? 1 : snapshotsBefore);
      await assertTableHolds(wh, id, rows, readers, `after crash at ${phase}`);
      const visit = Number(/#(\d+)$/.exec(phase)?.[1] ?? 0);
      if (phase.startsWith('expire.mid-delete')) {
        // Bottom-up: what is left is still reachable from the manifest lists that are left.
        const left = new Set(await existing(doomed));
        const gone = (layer: (f: string) => boolean) => doomed.filter((f) => layer(f) && !left.has(f)).length;
        const isList = (f: string) => /\/metadata\/snap-[^/]*\.avro$/.test(f);
        const isData = (f: string) => f.includes('/data/');
        const deleted = visit - 1;
        assert.deepEqual([gone(isData), gone((f) => !isData(f) && !isList(f)), gone(isList)],
          [Math.min(deleted, 6), Math.max(0, Math.min(deleted - 6, 6)), Math.max(0, deleted - 12)], 'deleted data files, then manifests, then manifest lists');
      }
      const rerun = await runFloe(wh.dir, args);
      assert.equal(rerun.code, 0, describeRun(rerun));
      assert.equal((await wh.catalog.loadTable(id)).metadata.snapshots.length, 1);
      assert.deepEqual(await existing(doomed), [], 'every file only the expired snapshots reached is gone');
      await assertTableHolds(wh, id, rows, readers, `after rerun (${phase})`);
      const again = await runFloe(wh.dir, args);
      assert.match(again.stdout, /expired 0 snapshot\(s\), deleted 0 file\(s\)/, 'a third run finds nothing left');
    });
  }

  const REWRITE_PHASES = [
    ['rewrite-manifests.after-manifests', false], ['rewrite-manifests.after-manifest-list', false],
    ['commit.after-metadata-file', false], ['commit.after-catalog-swap', true],
  ] as const;
  for (const [phase, swapped] of REWRITE_PHASES) {
    test(`floe rewrite-manifests killed at ${phase}: rows unchanged, readers agree; rerun leaves one manifest`, async () => {
      const { id, name, rows } = await grow(6);
      const start = await head(id);
      const crashed = await runFloe(wh.dir, ['rewrite-manifests', name], { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      const now = await head(id);
      if (swapped) assert.equal(now.summary.operation, 'replace');
      else assert.equal(now.snapshotId, start.snapshotId, 'nothing committed before the swap');
      await assertTableHolds(wh, id, rows, readers, `after crash at ${phase}`);
      const rerun = await runFloe(wh.dir, ['rewrite-manifests', name]);
      assert.equal(rerun.code, 0, describeRun(rerun));
      assert.equal((await snapshotManifests(wh.catalog.io, await head(id))).length, 1);
      await assertTableHolds(wh, id, rows, readers, `after rerun (${phase})`);
    });
  }
});
