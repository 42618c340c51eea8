// MERGE under real concurrency: two merging processes (one merge-on-read, one copy-on-write), an
// appending process and a compacting process work on one keyed table for a fixed time. Mergers
// and the appender draw keys from one small space, so they keep conflicting. Afterwards the
// branch history, replayed oldest first through the batch logs with MERGE's rules, must give
// exactly the rows pyiceberg and DuckDB read — as multisets, duplicates from appends included —
// at the head, at a few earlier snapshots and at a few compactions; each merge's counters must
// match what the replay saw at its position. Pauses between batches keep the commit rate below
// what optimistic concurrency sustains on two busy cores (no worker may run out of its 20
// retries). Env: FLOE_MERGE_CONCURRENCY_SECONDS (default 75), _SEED, _PARTITION.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { ancestorsOf, type Snapshot } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { rng } from '../support/datagen.ts';
import {
  applyBatch, MERGE_CONCURRENCY_SCHEMA as SCHEMA, modelRows, readBatchLog, REGIONS, TAG,
  type BatchLogEntry, type CommitLogEntry, type Row, type TableModel,
} from '../support/merge-concurrency-model.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import type { WorkerConfig } from './workers/merge-concurrency-worker.ts';

const WORKER = path.join(REPO_ROOT, 'test/integration/workers/merge-concurrency-worker.ts');
const SECONDS = Number(process.env.FLOE_MERGE_CONCURRENCY_SECONDS ?? 75);
const SEED = Number(process.env.FLOE_MERGE_CONCURRENCY_SEED ?? 20261127);
const KEYS = 120;
/** `region` (default: an upsert may move its row across partitions), `bucket(4, id)`, or `none`. */
const PARTITION = process.env.FLOE_MERGE_CONCURRENCY_PARTITION ?? 'region';
const READERS: readonly ReaderName[] = ['pyiceberg', 'duckdb'];
const PROPS = { 'commit.retry.num-retries': '20', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '1000' };
const ID = { namespace: ['mc'], name: 't' };

interface WorkerStats { role: string; name: string; batches: number; commits: number; retries: number; maxAttempts: number; aborted: number; rewrittenFiles: number; planMs: number; maxPlanMs: number }
interface WorkerRun { name: string; code: number | null; signal: NodeJS.Signals | null; stderr: string; stats: WorkerStats | undefined }

function runWorker(cfg: WorkerConfig): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(cfg)], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let stats: WorkerStats | undefined;
      try { stats = JSON.parse(last) as WorkerStats; } catch { stats = undefined; }
      resolve({ name: cfg.name, code, signal, stderr, stats });
    });
  });
}

/** The first keys whose rows differ, for a failure message that names them. */
function keyDiff(actual: readonly Record<string, unknown>[], expected: readonly Record<string, unknown>[]): string {
  const byKey = (rows: readonly Record<string, unknown>[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const r of rows) m.set(String(r.id), [...(m.get(String(r.id)) ?? []), JSON.stringify(r)]);
    return m;
  };
  const a = byKey(actual);
  const e = byKey(expected);
  const keys = [...new Set([...a.keys(), ...e.keys()])].filter((k) => JSON.stringify(a.get(k) ?? []) !== JSON.stringify(e.get(k) ?? []));
  return `${keys.length} key(s) differ, e.g. ${keys.slice(0, 3).map((k) => `id ${k}: read ${(a.get(k) ?? []).join(' ')} || replay ${(e.get(k) ?? []).join(' ')}`).join('; ')}`;
}

const canonical = (rows: readonly Row[]): Record<string, unknown>[] => canonicalRows(SCHEMA, rows as unknown as Record<string, unknown>[]);

describe('MERGE with concurrent mergers, an appender and the compactor', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  before(async () => {
    wh = await testWarehouse('floe-merge-conc-');
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['mc']);
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test(`${SECONDS} s of two mergers, an appender and a compactor: history replays to what readers see`, { timeout: (SECONDS + 600) * 1000 }, async () => {
    await wh.catalog.createTable(ID, { schema: SCHEMA, ...(PARTITION === 'none' ? {} : { spec: parsePartitionExpression(PARTITION, SCHEMA) }), properties: PROPS });
    // A first batch so the mergers meet rows from their first batch on.
    const seedRows: Row[] = Array.from({ length: KEYS / 2 }, (_, i) => ({ id: i * 2, region: REGIONS[i % 3]!, v: `seed/${i}`, n: i }));
    await appendRecords(wh.catalog, ID, seedRows, { summary: { [TAG]: 'seed-0' } });
    const base = { warehouse: wh.dir, table: 'mc.t', seconds: SECONDS, keys: KEYS };
    const configs: WorkerConfig[] = [
      { ...base, role: 'merger', name: 'merge-mor', seed: SEED + 1, log: path.join(wh.dir, 'merge-mor.ndjson'), maxBatch: 8, pauseMs: 2000, mode: 'merge-on-read' },
      { ...base, role: 'merger', name: 'merge-cow', seed: SEED + 2, log: path.join(wh.dir, 'merge-cow.ndjson'), maxBatch: 8, pauseMs: 2000, mode: 'copy-on-write' },
      { ...base, role: 'appender', name: 'append', seed: SEED + 3, log: path.join(wh.dir, 'append.ndjson'), maxBatch: 4, pauseMs: 2500 },
      { ...base, role: 'compactor', name: 'compact', seed: SEED + 4, log: path.join(wh.dir, 'compact.ndjson'), maxBatch: 1, pauseMs: 3000 },
    ];
    const runs = await Promise.all(configs.map(runWorker));
    for (const r of runs) {
      const s = r.stats;
      if (!s) continue;
      console.log(`# ${s.name}: ${s.batches} rounds, ${s.commits} commits, ${s.retries} retries${s.role === 'compactor' ? '' : ` (max ${s.maxAttempts} attempts)`}, an attempt takes ${s.planMs} ms on average (max ${s.maxPlanMs})`
        + (s.role === 'compactor' ? `, ${s.aborted} rewrites refused by validation, ${s.rewrittenFiles} files rewritten` : ''));
    }
    for (const r of runs) {
      assert.equal(r.code, 0, `worker ${r.name} failed (${r.signal ?? r.code}):\n${r.stderr}`);
      assert.ok(r.stats, `worker ${r.name} printed no summary:\n${r.stderr}`);
    }

    // Every batch of every log, and what its worker learned when the commit returned.
    const batches = new Map<string, BatchLogEntry>([['seed-0', { tag: 'seed-0', kind: 'append', rows: seedRows }]]);
    const commits = new Map<string, CommitLogEntry>();
    for (const c of configs.filter((x) => x.role !== 'compactor')) {
      const l = readBatchLog(c.log);
      for (const [k, v] of l.batches) batches.set(k, v);
      for (const [k, v] of l.commits) commits.set(k, v);
    }

    const table = await wh.catalog.loadTable(ID);
    const lineage = [...ancestorsOf(table.metadata, table.metadata.currentSnapshotId ?? undefined)].reverse();
    assert.equal(lineage.length, table.metadata.snapshots.length, 'every snapshot is on main');
    for (let i = 1; i < lineage.length; i++) assert.equal(lineage[i]!.sequenceNumber, lineage[i - 1]!.sequenceNumber + 1n, 'one sequence number per commit');

    // Replay oldest first; remember the model at every snapshot for time travel.
    const model: TableModel = new Map();
    const seen = new Set<string>();
    const states: { snapshot: Snapshot; rows: Row[] }[] = [];
    let compactions = 0;
    for (const s of lineage) {
      const tag = s.summary[TAG];
      if (tag === undefined) {
        assert.equal(s.summary.operation, 'replace', `untagged snapshot ${s.snapshotId} is not a compaction`);
        compactions++;
      } else {
        const batch = batches.get(tag);
        assert.ok(batch, `snapshot ${s.snapshotId} carries tag ${tag}, which no worker logged`);
        assert.ok(!seen.has(tag), `batch ${tag} landed twice`);
        seen.add(tag);
        const commit = commits.get(tag);
        if (commit) assert.equal(commit.committed, String(s.snapshotId), `batch ${tag}: the worker was told another snapshot id`);
        const counts = applyBatch(model, batch);
        if (counts && commit?.counts) assert.deepStrictEqual(commit.counts, counts, `batch ${tag} (snapshot ${s.snapshotId}): merge counters differ from the replay`);
      }
      states.push({ snapshot: s, rows: modelRows(model) });
    }
    // Every commit a worker saw return is in the history (workers end cleanly: no lost batch).
    for (const tag of commits.keys()) assert.ok(seen.has(tag), `batch ${tag} was committed but is not an ancestor of main`);
    assert.equal(seen.size, commits.size + 1, 'only committed batches (and the seed) are in the history');

    const mergeRetries = runs.filter((r) => r.stats!.role === 'merger').reduce((n, r) => n + r.stats!.retries, 0);
    const dup = [...model.values()].filter((rows) => rows.length > 1).length;
    console.log(`# history: ${lineage.length} snapshots (${compactions} compactions); ${modelRows(model).length} rows, ${dup} keys duplicated by appends`);
    assert.ok(mergeRetries > 0, 'no merge ever retried: the test did not exercise concurrency');

    // The head, a few earlier snapshots and a few compactions (which must change no row),
    // through every reader.
    const pickState = rng(SEED + 99);
    const compactionStates = states.flatMap((st, i) => (st.snapshot.summary[TAG] === undefined ? [i] : []));
    const checked = new Set([
      states.length - 1,
      ...Array.from({ length: 4 }, () => Math.floor(pickState() * states.length)),
      ...Array.from({ length: Math.min(3, compactionStates.length) }, () => compactionStates[Math.floor(pickState() * compactionStates.length)]!),
    ]);
    for (const i of checked) {
      const { snapshot, rows } = states[i]!;
      const expected = canonical(rows);
      for (const reader of READERS) {
        const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'mc.t', snapshotId: snapshot.snapshotId });
        const actual = normalizeRows(SCHEMA, res.rows);
        const where = `${reader} at snapshot ${snapshot.snapshotId} (#${i + 1} of ${states.length}, ${snapshot.summary.operation} ${snapshot.summary[TAG] ?? ''})`;
        assert.deepStrictEqual(actual, expected, `${where}: ${keyDiff(actual, expected)}`);
      }
    }
  });
});
