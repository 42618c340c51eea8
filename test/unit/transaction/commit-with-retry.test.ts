// The commit loop against a real SQLite catalog wrapped to inject failures: conflicts are
// retried on the new head, a commit whose answer was lost is recognised and not redone,
// definite failures leave no files, unknown outcomes keep them; manifest merging bounds the
// manifest list.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CommitConflictError, CommitStateUnknownError } from '../../../src/errors.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { ancestorsOf, branchHead, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../../../src/spec/table-updates.ts';
import type { Catalog, CommitTableOptions, LoadedTable } from '../../../src/table/catalog.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../../src/transaction/table-manifests.ts';
import { EntryStatus } from '../../../src/spec/data-file.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['t'], name: 'x' };

/** Forwards to a real catalog; `onCommit` may act before/after the real commit. */
function faultyCatalog(inner: Catalog, onCommit: (commit: () => Promise<LoadedTable>, n: number) => Promise<LoadedTable>): Catalog {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'commitTable') {
        return (id: TableIdentifier, reqs: readonly TableRequirement[], ups: readonly TableUpdate[], opts?: CommitTableOptions) =>
          onCommit(() => target.commitTable(id, reqs, ups, opts), ++n);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const rows = (from: number, n = 5) => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `r${from + i}` }));

async function files(wh: TestWarehouse, sub: string): Promise<string[]> {
  return (await wh.catalog.io.list(`file://${wh.dir}/t/x/${sub}/`)).map((f) => f.uri).sort();
}

function lineage(m: TableMetadata): bigint[] {
  return [...ancestorsOf(m, m.currentSnapshotId ?? undefined)].map((s) => s.snapshotId);
}

describe('commitWithRetry', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1', 'commit.retry.max-wait-ms': '5' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('a conflicting commit is rebased on the new head and retried', async () => {
    const faulty = faultyCatalog(wh.catalog, async (commit, n) => {
      // Another writer lands right before our first swap.
      if (n === 1) await appendRecords(wh.catalog, ID, rows(100));
      return commit();
    });
    const r = await appendRecords(faulty, ID, rows(0));
    assert.equal(r.attempts, 2);
    const t = await wh.catalog.loadTable(ID);
    assert.equal(lineage(t.metadata).length, 2);
    assert.equal(t.metadata.lastSequenceNumber, 2n);
    assert.equal(r.snapshot.sequenceNumber, 2n);
    assert.equal(branchHead(t.metadata, 'main')!.summary['total-records'], '10');
    // Only the winning attempt's manifest list remains.
    const lists = (await files(wh, 'metadata')).filter((f) => f.includes(`snap-${r.snapshot.snapshotId}-`));
    assert.deepStrictEqual(lists.map((f) => f.split('/').pop()!.split('-')[2]), ['2']);
  });

  test('a retry is built on the head as it is after the backoff, not as it was before it', async () => {
    // Regression: the loop reloaded the table before sleeping and prepared the next attempt on
    // that copy, so a commit landing during the backoff made the retry fail again — a slow
    // writer (a copy-on-write MERGE re-plans every attempt) starved behind faster ones.
    let during: Promise<unknown> | undefined;
    const faulty = new Proxy(faultyCatalog(wh.catalog, async (commit, n) => {
      if (n === 1) await appendRecords(wh.catalog, ID, rows(100));
      // The writer that lands during the backoff has landed before our second swap.
      if (n === 2) await during;
      return commit();
    }), {
      get(target, prop, receiver) {
        if (prop === 'loadTable') return async (id: TableIdentifier) => { await during; return target.loadTable(id); };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const r = await appendRecords(faulty, ID, rows(0), { hooks: { onRetry: () => { during ??= appendRecords(wh.catalog, ID, rows(200)); } } });
    assert.equal(r.attempts, 2, 'the second attempt saw the commit made during the backoff');
    const t = await wh.catalog.loadTable(ID);
    assert.equal(lineage(t.metadata).length, 3);
    assert.equal(branchHead(t.metadata, 'main')!.summary['total-records'], '15');
  });

  test('a commit that landed but whose answer was lost is recognised, never applied twice', async () => {
    const faulty = faultyCatalog(wh.catalog, async (commit, n) => {
      const result = await commit();
      if (n === 1) throw new CommitStateUnknownError('connection reset after the UPDATE');
      return result;
    });
    const r = await appendRecords(faulty, ID, rows(0));
    const t = await wh.catalog.loadTable(ID);
    assert.deepStrictEqual(lineage(t.metadata), [r.snapshot.snapshotId]);
    assert.equal(branchHead(t.metadata, 'main')!.summary['total-records'], '5');
  });

  test('an unknown outcome that did not land keeps every file and says so', async () => {
    const faulty = faultyCatalog(wh.catalog, async () => { throw new CommitStateUnknownError('timeout'); });
    await assert.rejects(appendRecords(faulty, ID, rows(0)), CommitStateUnknownError);
    assert.equal((await files(wh, 'data')).length, 1, 'data file kept');
    assert.ok((await files(wh, 'metadata')).some((f) => f.endsWith('-m0.avro')), 'manifest kept');
  });

  test('a definite failure after the retries removes every file the append wrote', async () => {
    const faulty = faultyCatalog(wh.catalog, async () => { throw new CommitConflictError('always conflicting'); });
    const before = await files(wh, 'metadata');
    await assert.rejects(appendRecords(faulty, ID, rows(0)), /after 5 attempts.*num-retries=4/);
    assert.deepStrictEqual(await files(wh, 'data'), []);
    assert.deepStrictEqual(await files(wh, 'metadata'), before);
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, 0);
  });

  test('manifest merging keeps the manifest list short and every row reachable', async () => {
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { 'commit.manifest.min-count-to-merge': '4' } }]);
    for (let i = 0; i < 25; i++) await appendRecords(wh.catalog, ID, rows(i * 10, 2));
    const t = await wh.catalog.loadTable(ID);
    const head = branchHead(t.metadata, 'main')!;
    const manifests = await snapshotManifests(wh.catalog.io, head);
    assert.ok(manifests.length < 4, `${manifests.length} manifests`);
    const live = manifests.reduce((s, m) => s + m.addedRowsCount + m.existingRowsCount, 0n);
    assert.equal(live, 50n);
    assert.equal(head.summary['total-records'], '50');
    // An ADDED entry is only ever in a manifest written by the snapshot that added it (merged
    // manifests carry older files as EXISTING); manifests of unmerged commits keep theirs.
    for (const m of manifests) {
      for (const e of await manifestEntries(wh.catalog.io, m)) {
        if (e.status === EntryStatus.Added) assert.equal(e.snapshotId ?? m.addedSnapshotId, m.addedSnapshotId, `${m.manifestPath}: ADDED entry of another snapshot`);
      }
    }
    assert.equal(manifests.reduce((s, m) => s + m.addedFilesCount, 0), manifests.filter((m) => m.addedFilesCount > 0).length, 'each commit added one file');
  });

  test('the branch is a parameter: appends to a branch leave main alone; a new branch forks from main', async () => {
    const onMain = await appendRecords(wh.catalog, ID, rows(0));
    const onAudit = await appendRecords(wh.catalog, ID, rows(100), { branch: 'audit' });
    const t = await wh.catalog.loadTable(ID);
    assert.equal(t.metadata.currentSnapshotId, onMain.snapshot.snapshotId);
    assert.equal(t.metadata.refs.audit?.snapshotId, onAudit.snapshot.snapshotId);
    assert.equal(onAudit.snapshot.parentSnapshotId, onMain.snapshot.snapshotId);
    assert.equal(onAudit.snapshot.summary['total-records'], String(rows(0).length + rows(100).length));
    assert.equal(t.metadata.snapshotLog.length, 1, 'snapshot-log follows main only');
  });
});
