// A commit writes its manifests and manifest list beside the catalog's metadata file instead of
// one after the other (src/io/pending-writes.ts). What must still hold, against a real SQLite
// catalog whose FileIO is slowed or made to fail: the pointer never moves before every file it
// names is written; a failed write swaps nothing and leaves no file of the attempt; the retry
// commits once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { FileIOError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { PendingWrites } from '../../../src/io/pending-writes.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['t'], name: 'x' };
const rows = (from: number, n = 5) => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `r${from + i}` }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isList = (uri: string): boolean => /\/snap-[^/]*\.avro$/.test(uri);
const isManifest = (uri: string): boolean => uri.endsWith('.avro') && !isList(uri);

/** Replaces the catalog FileIO's writeNew (instance method) for one test. */
function interceptWrites(io: FileIO, intercept: (uri: string, write: () => Promise<void>) => Promise<void>): void {
  const real = io.writeNew.bind(io);
  io.writeNew = (uri, bytes) => intercept(uri, () => real(uri, bytes));
}

describe('manifests and manifest list written beside the metadata file', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1', 'commit.retry.max-wait-ms': '5' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  const metadataFiles = async (): Promise<string[]> =>
    (await wh.catalog.io.list(`file://${wh.dir}/t/x/metadata/`)).map((f) => f.uri).sort();

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

describe('PendingWrites', () => {
  test('settled() rejects with the first failure only once every write has settled', async () => {
    const done: string[] = [];
    const io = {
      writeNew: async (uri: string) => {
        if (uri === 'fast-fail') { await sleep(5); done.push(uri); throw new FileIOError('fast failure'); }
        await sleep(60);
        done.push(uri);
      },
    } as unknown as FileIO;
    const writes = new PendingWrites(io);
    writes.write('fast-fail', new Uint8Array(1));
    writes.write('slow-ok', new Uint8Array(1));
    await assert.rejects(writes.settled(), /fast failure/);
    assert.deepEqual(done, ['fast-fail', 'slow-ok']);
  });

  test('a nested set counts toward its parent, and whenDone runs only after success', async () => {
    const io = { writeNew: async () => { await sleep(10); } } as unknown as FileIO;
    const parent = new PendingWrites(io);
    const child = new PendingWrites(io, parent);
    const bytes = new Uint8Array([1, 2, 3]);
    child.write('a', bytes);
    assert.equal(parent.bytesOf('a'), bytes);
    const ran: string[] = [];
    parent.whenDone(() => ran.push('after a'));
    await parent.settled();
    assert.deepEqual(ran, ['after a']);

    const failing = new PendingWrites({ writeNew: async () => { throw new FileIOError('no'); } } as unknown as FileIO);
    failing.write('b', bytes);
    failing.whenDone(() => ran.push('after b'));
    await assert.rejects(failing.settled(), /no/);
    assert.deepEqual(ran, ['after a']);
  });
});
