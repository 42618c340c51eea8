// Compaction under live writes: ~1,900 small files from 240 micro-batch commits, then a
// separate writer process appends a batch every second while the compactor rewrites them
// (partial progress: several commits). Each compaction commit's first attempt is made to meet a
// writer commit (the hook waits for one before the pointer swap), so conflicts are certain and
// must be resolved by re-basing. The final table must equal the model exactly — every row of
// every seed and live batch once, nothing resurrected — in pyiceberg, DuckDB, Spark and Trino.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { APPEND_WORKER_SCHEMA, runAppendWorker, type WorkerRun } from '../support/append-worker.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = APPEND_WORKER_SCHEMA;
const ID = { namespace: ['live'], name: 'events' };
const SEED_COMMITS = 240;
const SEED_ROWS = 80; // 8 buckets → 8 small files per commit
const LIVE_BATCHES = 30;
const LIVE_ROWS = 40;

const row = (w: number, b: number, i: number): Record<string, unknown> => ({ id: BigInt(w * 1_000_000 + b * 1000 + i), worker: w, batch: b, payload: `w${w}-b${b}-r${i}` });

async function liveFileCount(wh: TestWarehouse): Promise<number> {
  const t = await wh.catalog.loadTable(ID);
  let n = 0;
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) n++;
  }
  return n;
}

describe('compaction while a writer keeps appending', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let report: CompactReport;
  let writer: WorkerRun;
  let filesBefore = 0;
  let filesAfter = 0;

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['live']);
    await wh.catalog.createTable(ID, {
      schema: SCHEMA, spec: parsePartitionExpression('bucket(8,id)', SCHEMA),
      properties: { 'commit.retry.num-retries': '50', 'commit.retry.min-wait-ms': '10', 'commit.retry.max-wait-ms': '500' },
    });
    for (let b = 0; b < SEED_COMMITS; b++) {
      await appendRecords(wh.catalog, ID, Array.from({ length: SEED_ROWS }, (_, i) => {
        const r = row(0, b, i);
        return { ...r, id: String(r.id) };
      }));
    }
    filesBefore = await liveFileCount(wh);

    let writerDone = false;
    const writerRun = runAppendWorker(wh, 'live.events', 1, LIVE_BATCHES, LIVE_ROWS, 0, undefined, { APPEND_INTERVAL_MS: '1000' })
      .then((r) => { writerDone = true; return r; });
    // Let the writer commit once, so compaction starts from a head it keeps moving.
    const headId = async (): Promise<bigint | undefined> => branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')?.snapshotId;
    const seeded = await headId();
    while (!writerDone && (await headId()) === seeded) await new Promise((r) => setTimeout(r, 50));

    report = await compactTable(wh.catalog, ID, {
      targetFileSizeBytes: 64 * 1024, partialProgress: true, partialProgressMaxCommits: 4,
      commitHooks: {
        beforeSwap: async (attempt) => {
          if (attempt !== 1) return;
          // Hold the swap until the live writer lands a commit on top of this attempt's base.
          const base = await headId();
          const deadline = Date.now() + 5000;
          while (!writerDone && Date.now() < deadline && (await headId()) === base) await new Promise((r) => setTimeout(r, 50));
        },
      },
    });
    writer = await writerRun;
    filesAfter = await liveFileCount(wh);
    console.log(`# ${filesBefore} small files; compaction: ${report.rewrittenFiles} rewritten into ${report.addedFiles} in ${report.commits} commits, ${report.conflicts} conflicts resolved, ${report.failedGroups} groups refused; ${writer.committed.length} live batches committed meanwhile; ${filesAfter} live files after`);
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('conflicts happened and were resolved; the small files are gone', () => {
    assert.equal(writer.code, 0, writer.stderr);
    assert.equal(writer.committed.length, LIVE_BATCHES);
    assert.ok(filesBefore >= 1900, `${filesBefore} seed files`);
    assert.equal(report.failedGroups, 0);
    assert.ok(report.commits >= 2, 'partial progress committed several times');
    assert.ok(report.conflicts >= report.commits, `every commit met a writer commit (${report.conflicts} conflicts)`);
    assert.ok(report.rewrittenFiles >= filesBefore, 'every seed file (and the live files present at the start) rewritten');
    // What is left: the compacted outputs plus the small files the writer added after the start.
    assert.ok(filesAfter - report.addedFiles <= writer.committed.length * 8, `${filesAfter} live files, ${report.addedFiles} from compaction`);
  });

  const model = (): Record<string, unknown>[] => {
    const rows: Record<string, unknown>[] = [];
    for (let b = 0; b < SEED_COMMITS; b++) for (let i = 0; i < SEED_ROWS; i++) rows.push(row(0, b, i));
    for (const b of writer.committed) for (let i = 0; i < LIVE_ROWS; i++) rows.push(row(1, b, i));
    return canonicalRows(SCHEMA, rows);
  };

  for (const reader of ALL_READERS) {
    test(`${reader} reads exactly the model: nothing lost, doubled or resurrected`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'live.events' });
      const expected = model();
      const actual = normalizeRows(SCHEMA, res.rows);
      assert.equal(actual.length, expected.length);
      assert.deepStrictEqual(actual, expected);
    });
  }
});
