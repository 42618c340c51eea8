// The commit loop against a real SQLite catalog wrapped to inject failures: conflicts are
// retried on the new head, a commit whose answer was lost is recognised and not redone,
// definite failures leave no files, unknown outcomes keep them; manifest merging bounds the
// manifest list; the commit's files, written side by side, are all on disk before the swap.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { CommitConflictError, CommitStateUnknownError, FileIOError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { ancestorsOf, branchHead, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../../../src/spec/table-updates.ts';
import type { Catalog, CommitTableOptions, LoadedTable } from '../../../src/table/catalog.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../../src/transaction/table-manifests.ts';
import { EntryStatus } from '../../../src/spec/data-file.ts';
import { readTableRows } from '../../support/read-table.ts';
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isList = (uri: string): boolean => /\/snap-[^/]*\.avro$/.test(uri);
const isManifest = (uri: string): boolean => uri.endsWith('.avro') && !isList(uri);

/** Replaces the catalog FileIO's writeNew (instance method) for one test. */
function interceptWrites(io: FileIO, intercept: (uri: string, write: () => Promise<void>) => Promise<void>): void {
  const real = io.writeNew.bind(io);
  io.writeNew = (uri, bytes) => intercept(uri, () => real(uri, bytes));
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

  // The manifests and manifest list are written beside the catalog's metadata file
  // (src/io/pending-writes.ts): the pointer must still never move before every file it names is
  // written, a failed write must swap nothing and leave no file of the attempt, and the retry
  // must commit once.
  describe('manifests and manifest list written beside the metadata file', () => {
    const metadataFiles = (): Promise<string[]> => files(wh, 'metadata');

    test('the pointer moves only once a slow manifest list is on disk, and the writes overlap', async () => {
      const before = (await wh.catalog.loadTable(ID)).metadataLocation;
      const observer = await openCatalog({ warehouse: wh.dir });
      let metadataWriteStarted = 0;
      let listWriteEnded = 0;
      const pointerWhileListPending: string[] = [];
      interceptWrites(wh.catalog.io, async (uri, write) => {
        if (uri.endsWith('.metadata.json')) metadataWriteStarted = performance.now();
        if (!isList(uri)) return write();
        await sleep(150);
        // The metadata file has long been written by now; the swap must still wait.
        pointerWhileListPending.push((await observer.loadTable(ID)).metadataLocation);
        await write();
        listWriteEnded = performance.now();
      });
      try {
        const r = await appendRecords(wh.catalog, ID, rows(0));
        assert.deepEqual(pointerWhileListPending, [before]);
        assert.ok(metadataWriteStarted > 0 && metadataWriteStarted < listWriteEnded, 'the metadata file was started before the manifest list was done');
        assert.notEqual(r.table.metadataLocation, before);
        assert.equal((await observer.loadTable(ID)).metadataLocation, r.table.metadataLocation);
        assert.ok(await wh.catalog.io.exists(r.snapshot.manifestList));
      } finally {
        await observer.close();
      }
    });

    test('a manifest list write that fails once: nothing swapped, no file of the attempt left, the retry commits once', async () => {
      let failures = 0;
      interceptWrites(wh.catalog.io, async (uri, write) => {
        if (isList(uri) && failures === 0) {
          failures++;
          await sleep(30); // fails after the metadata file is written: the catalog must remove it
          throw new FileIOError(`injected: cannot write ${uri}`, { retryable: true });
        }
        return write();
      });
      const r = await appendRecords(wh.catalog, ID, rows(0));
      assert.equal(failures, 1);
      assert.equal(r.attempts, 2);
      const t = await wh.catalog.loadTable(ID);
      assert.equal(t.metadata.snapshots.length, 1);
      const files = await metadataFiles();
      // The created table's metadata file and the commit's; one manifest, one manifest list.
      assert.equal(files.filter((f) => f.endsWith('.metadata.json')).length, 2, files.join('\n'));
      assert.deepEqual(files.filter(isList), [r.snapshot.manifestList]);
      assert.equal(files.filter(isManifest).length, 1, files.join('\n'));
      assert.ok(!files.some((f) => f.includes('.tmp')), files.join('\n'));
    });

    test('an added manifest whose write keeps failing: the commit fails, the table and its metadata folder are as before', async () => {
      const filesBefore = await metadataFiles();
      let attempts = 0;
      interceptWrites(wh.catalog.io, async (uri, write) => {
        if (isManifest(uri)) {
          attempts++;
          await sleep(20);
          throw new FileIOError(`injected: cannot write ${uri}`, { retryable: true });
        }
        return write();
      });
      await assert.rejects(appendRecords(wh.catalog, ID, rows(0)), /injected: cannot write/);
      assert.ok(attempts >= 1);
      assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, 0);
      assert.deepEqual(await metadataFiles(), filesBefore);
    });

    test('a manifest that failed in an earlier attempt is written again, not reused', async () => {
      let manifestFailures = 0;
      interceptWrites(wh.catalog.io, async (uri, write) => {
        if (isManifest(uri) && manifestFailures === 0) {
          manifestFailures++;
          throw new FileIOError(`injected: cannot write ${uri}`, { retryable: true });
        }
        return write();
      });
      const r = await appendRecords(wh.catalog, ID, rows(0));
      assert.equal(r.attempts, 2);
      // Every manifest the committed list names is on disk and readable by a fresh catalog.
      const other = await openCatalog({ warehouse: wh.dir });
      try {
        const got = await readTableRows(other, ID);
        assert.deepEqual(got.map((x) => Number(x.id)).sort((a, b) => a - b), [0, 1, 2, 3, 4]);
      } finally {
        await other.close();
      }
    });
  });
});
