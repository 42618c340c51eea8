// One writer process of test/integration/merge-concurrency.test.ts, looping until its time is up:
//   merger    MERGE batches of random upserts/deletes over the shared key space
//   appender  appends of rows with keys from the same space (duplicates on purpose)
//   compactor compactTable with small targets, again and again
// Each merge/append batch goes to the NDJSON log before its commit (content) and after it
// (snapshot id, attempts, counters), tagged like its snapshot summary. The last stdout line is
// a JSON summary of the worker's commits, retries and aborted compactions.
// usage: merge-concurrency-worker.ts CONFIG_JSON   (see WorkerConfig)
import { appendFileSync } from 'node:fs';
import { compactTable } from '../../../compaction/compact-table.ts';
import { openCatalog } from '../../../catalog/index.ts';
import { seededRandom } from '../../../src/cli/demo.ts';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { parseTableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { RewriteValidationError } from '../../../src/transaction/replace-data-files.ts';
import { REGIONS, TAG, type LogLine, type MergeChange, type Row } from '../../support/merge-concurrency-model.ts';

export interface WorkerConfig {
  readonly warehouse: string;
  readonly table: string;
  readonly role: 'merger' | 'appender' | 'compactor';
  readonly name: string;
  readonly seconds: number;
  readonly seed: number;
  readonly log: string;
  readonly keys: number;
  readonly maxBatch: number;
  /** Pause between batches: uniform in [0, pauseMs). */
  readonly pauseMs: number;
  readonly mode?: 'merge-on-read' | 'copy-on-write';
}

const cfg = JSON.parse(process.argv[2]!) as WorkerConfig;
const catalog = await openCatalog({ warehouse: cfg.warehouse });
const id = parseTableIdentifier(cfg.table);
const pick = seededRandom(cfg.seed);
const int = (n: number): number => Math.floor(pick() * n);
const deadline = Date.now() + cfg.seconds * 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (e: LogLine): void => appendFileSync(cfg.log, `${JSON.stringify(e)}\n`);
const stats = { role: cfg.role, name: cfg.name, batches: 0, commits: 0, retries: 0, maxAttempts: 1, aborted: 0, rewrittenFiles: 0, attempts: 0, planMs: 0, maxPlanMs: 0 };

const row = (tag: string, i: number): Row => ({
  id: int(cfg.keys), region: REGIONS[int(REGIONS.length)]!, v: pick() < 0.1 ? null : `${tag}/${i}`, n: pick() < 0.1 ? null : int(1_000_000),
});

const printStats = (): void => {
  stats.planMs = Math.round(stats.planMs / Math.max(1, stats.attempts));
  process.stdout.write(`${JSON.stringify(stats)}\n`);
};

async function round(): Promise<void> {
  const tag = `${cfg.name}-${stats.batches}`;
  const size = 1 + int(cfg.maxBatch);
  const summary = { [TAG]: tag };
  // Time of each attempt: from its start (the call, or the previous conflict, so a retry's
  // backoff included) to its pointer swap.
  let attemptStart = performance.now();
  const onRetry = (): void => { stats.retries++; attemptStart = performance.now(); };
  const beforeSwap = (): void => {
    const ms = performance.now() - attemptStart;
    stats.attempts++;
    stats.planMs += ms;
    stats.maxPlanMs = Math.max(stats.maxPlanMs, Math.round(ms));
  };
  const hooks = { onRetry, beforeSwap };
  if (cfg.role === 'merger') {
    const changes: MergeChange[] = Array.from({ length: size }, (_, i) => {
      const r = row(tag, i);
      return pick() < 0.3 ? { op: 'd', id: r.id } : { op: 'u', ...r };
    });
    log({ tag, kind: 'merge', changes });
    // alwaysCommit: a batch that changes nothing still lands (empty append), so the test can
    // check that every batch is in the history exactly once.
    const r = await mergeRecords(catalog, id, changes, {
      opField: 'op', summary, alwaysCommit: true, hooks, ...(cfg.mode ? { mode: cfg.mode } : {}),
    });
    log({
      tag, committed: String(r.snapshot?.snapshotId), attempts: r.attempts,
      counts: { inserted: r.inserted, updated: r.updated, deleted: r.deleted, absentDeletes: r.absentDeletes, superseded: r.superseded },
    });
    stats.commits++;
    stats.maxAttempts = Math.max(stats.maxAttempts, r.attempts);
  } else if (cfg.role === 'appender') {
    const rows = Array.from({ length: size }, (_, i) => row(tag, i));
    log({ tag, kind: 'append', rows });
    const r = await appendRecords(catalog, id, rows, { summary, hooks });
    log({ tag, committed: String(r.snapshot.snapshotId), attempts: r.attempts });
    stats.commits++;
    stats.maxAttempts = Math.max(stats.maxAttempts, r.attempts);
  } else {
    try {
      const r = await compactTable(catalog, id, { targetFileSizeBytes: 256 * 1024, minInputFiles: 2, commitHooks: hooks });
      stats.commits += r.commits;
      stats.rewrittenFiles += r.rewrittenFiles;
    } catch (err) {
      // A merge deleted rows of (or removed) a file being rewritten: Iceberg refuses the
      // rewrite rather than resurrect rows; the next round starts from the new head.
      if (!(err instanceof RewriteValidationError)) throw err;
      stats.aborted++;
    }
  }
}

try {
  while (Date.now() < deadline) {
    await round();
    stats.batches++;
    if (cfg.pauseMs > 0) await sleep(int(cfg.pauseMs));
  }
} finally {
  // Also on failure: the test prints every worker's counts next to the error.
  printStats();
}
await catalog.close();
