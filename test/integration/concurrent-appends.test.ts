// Optimistic concurrency with real processes: 4 writers × 50 appends on one table end in 200
// snapshots with every row exactly once; a writer SIGKILLed at random moments leaves a table
// every reader opens, where each batch is either wholly visible or absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ancestorsOf } from '../../src/spec/table-metadata.ts';
import { rng } from '../support/datagen.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import { APPEND_WORKER_SCHEMA, runAppendWorker as runWorker } from '../support/append-worker.ts';

const SCHEMA = APPEND_WORKER_SCHEMA;
// Four writers on two cores collide often; give them room to retry.
const PROPS = { 'commit.retry.num-retries': '100', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '500' };

const skip = readersUnavailable();

describe('concurrent writers', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['conc']);
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('4 processes × 50 appends → 200 snapshots, every row exactly once', async () => {
    const id = { namespace: ['conc'], name: 'appends' };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: PROPS });
    const runs = await Promise.all([0, 1, 2, 3].map((w) => runWorker(wh, 'conc.appends', w, 50, 20)));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const table = await wh.catalog.loadTable(id);
    const lineage = [...ancestorsOf(table.metadata, table.metadata.currentSnapshotId ?? undefined)];
    assert.equal(lineage.length, 200);
    assert.ok(lineage.every((s) => s.summary.operation === 'append'));
    // Sequence numbers strictly increase along the branch, one per commit.
    assert.deepStrictEqual(lineage.map((s) => s.sequenceNumber).reverse(), Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    assert.equal(lineage[0]!.summary['total-records'], '4000');
    const expectedIds = [];
    for (let w = 0; w < 4; w++) for (let b = 0; b < 50; b++) for (let i = 0; i < 20; i++) expectedIds.push(String(w * 1_000_000 + b * 1000 + i));
    expectedIds.sort();
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'conc.appends' });
      const ids = res.rows.map((r) => String(r.id)).sort();
      assert.equal(ids.length, 4000, `${reader} row count`);
      assert.deepStrictEqual(ids, expectedIds, `${reader} ids`);
    }
  });

  test('a writer SIGKILLed at random moments leaves only whole commits', async () => {
    const id = { namespace: ['conc'], name: 'killed' };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: PROPS });
    const pick = rng(20261121);
    const confirmed = new Set<number>();
    let kills = 0;
    let done = false;
    const totalBatches = 400;
    // A second, undisturbed writer keeps the pointer moving so kills also land mid-retry.
    const steady = runWorker(wh, 'conc.killed', 9, 40, 10);
    while (!done && kills < 12) {
      // Each restart resumes after the last batch the table holds (a batch killed after its
      // commit but before "committed" was printed must not come back twice).
      const run = await runWorker(wh, 'conc.killed', 1, totalBatches, 10, 'resume', 300 + Math.floor(pick() * 900));
      for (const b of run.committed) confirmed.add(b);
      if (run.signal === 'SIGKILL') kills++;
      else { assert.equal(run.code, 0, run.stderr); done = true; }
    }
    const steadyRun = await steady;
    assert.equal(steadyRun.code, 0, steadyRun.stderr);
    assert.ok(kills >= 5, `only ${kills} kills happened`);

    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'conc.killed' });
      const perBatch = new Map<string, number>();
      const seen = new Set<string>();
      for (const r of res.rows) {
        assert.ok(!seen.has(String(r.id)), `${reader}: row ${String(r.id)} twice`);
        seen.add(String(r.id));
        const key = `${String(r.worker)}/${String(r.batch)}`;
        perBatch.set(key, (perBatch.get(key) ?? 0) + 1);
      }
      for (const [key, n] of perBatch) assert.equal(n, 10, `${reader}: batch ${key} is partial (${n} rows)`);
      for (const b of confirmed) assert.equal(perBatch.get(`1/${b}`), 10, `${reader}: confirmed batch ${b} missing`);
      for (let b = 0; b < 40; b++) assert.equal(perBatch.get(`9/${b}`), 10, `${reader}: steady batch ${b} missing`);
    }
  });
});
