// Publish under real concurrency: two processes each stage batches on their own branch and
// publish them to main, while a third process appends to main directly. Every publish races the
// others (main moves under it: re-applied, retried on lost races). Afterwards main holds every
// row of every batch exactly once (values checked in-process with deletes applied, and by DuckDB
// and pyiceberg when the reader venv exists), each published snapshot names its source, and each
// branch ends reset to a snapshot on main.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ancestorsOf } from '../../src/spec/table-metadata.ts';
import { APPEND_WORKER_SCHEMA, runAppendWorker } from '../support/append-worker.ts';
import { readLiveRows } from '../support/live-table-rows.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const WORKER = path.join(REPO_ROOT, 'test/integration/workers/publish-worker.ts');
const PROPS = { 'commit.retry.num-retries': '100', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '300' };
const BATCHES = 12;
const SIZE = 20;

/** Each publisher pauses between staging and publishing longer than the direct appender's interval,
 * and both run for seconds, so main moves under publishes whatever the machine's speed (with faster
 * commits every publish had become a fast-forward: the re-apply path went untested). */
const PUBLISH_GAP_MS = '150';
const APPEND_INTERVAL_MS = '100';

function runPublisher(wh: TestWarehouse, table: string, worker: number, branch: string): Promise<{ published: string[]; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, wh.dir, table, String(worker), branch, String(BATCHES), String(SIZE)], { cwd: REPO_ROOT, env: { ...process.env, PUBLISH_GAP_MS } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ published: stdout.split('\n').filter((l) => l.startsWith('published ')), code, stderr }));
  });
}

describe('two publishers and a direct appender', () => {
  let wh: TestWarehouse;
  before(async () => {
    wh = await testWarehouse('floe-publish-conc-');
    await wh.catalog.createNamespace(['pc']);
    await wh.catalog.createTable({ namespace: ['pc'], name: 't' }, { schema: APPEND_WORKER_SCHEMA, properties: PROPS });
  });
  after(async () => { await wh?.cleanup(); });

  test('all land, nothing lost or doubled', async () => {
    const id = { namespace: ['pc'], name: 't' };
    const [p1, p2, direct] = await Promise.all([
      runPublisher(wh, 'pc.t', 1, 'audit-1'),
      runPublisher(wh, 'pc.t', 2, 'audit-2'),
      runAppendWorker(wh, 'pc.t', 3, BATCHES, SIZE, 0, undefined, { APPEND_INTERVAL_MS }),
    ]);
    assert.equal(p1.code, 0, p1.stderr);
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(p1.published.length, BATCHES);
    assert.equal(p2.published.length, BATCHES);
    assert.equal(direct.committed.length, BATCHES);
    const kinds = [...p1.published, ...p2.published].map((l) => l.split(' ')[2]);
    assert.ok(kinds.includes('reapplied'), `some publish had to re-apply on a moved main: ${kinds.join(',')}`);

    const expected: string[] = [];
    for (const w of [1, 2, 3]) for (let b = 0; b < BATCHES; b++) for (let i = 0; i < SIZE; i++) expected.push(`${w * 1_000_000 + b * 1000 + i}|w${w}-b${b}-r${i}`);
    expected.sort();
    const rows = (await readLiveRows(wh.catalog, id)).map((r) => `${String(r.id)}|${String(r.payload)}`).sort();
    assert.deepEqual(rows, expected);

    const m = (await wh.catalog.loadTable(id)).metadata;
    const onMain = [...ancestorsOf(m, m.refs.main!.snapshotId)];
    const onMainIds = new Set(onMain.map((s) => s.snapshotId));
    for (const b of ['audit-1', 'audit-2']) assert.ok(onMainIds.has(m.refs[b]!.snapshotId), `${b} was reset to a snapshot on main`);
    // Each staged batch is on main exactly once: by itself (fast-forward) or through its source id.
    for (const w of [1, 2]) {
      const batchesOnMain = onMain.filter((s) => s.summary['test.worker'] === String(w)).map((s) => Number(s.summary['test.batch'])).sort((a, b) => a - b);
      assert.deepEqual(batchesOnMain, Array.from({ length: BATCHES }, (_, i) => i));
    }
    for (const s of onMain) {
      if (s.summary['source-snapshot-id'] !== undefined) assert.ok(m.snapshots.some((x) => x.snapshotId === BigInt(s.summary['source-snapshot-id']!)), 'the source snapshot is kept');
    }

    if (!readersUnavailable()) {
      const readers = new ReaderServer();
      try {
        for (const reader of ['duckdb', 'pyiceberg'] as ReaderName[]) {
          const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'pc.t' });
          assert.deepEqual(res.rows.map((r) => `${String(r.id)}|${String(r.payload)}`).sort(), expected, reader);
        }
      } finally { await readers.close(); }
    }
  });
});
