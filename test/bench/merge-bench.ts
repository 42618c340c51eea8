// Benchmark (not a test): MERGE / upsert of one change batch into a keyed, day-partitioned table
// by floe's mergeRecords (merge-on-read and copy-on-write), pyiceberg's Table.upsert and Spark's
// MERGE INTO (local[2]), on the same data in the same run.
//
//   npm run bench:merge                              # 10,000,000 rows, 100,000 changes
//   npm run bench:merge -- --rows 1000000            # quick run
//   npm run bench:merge -- --engines floe-mor,spark-mor --keep
//   npm run bench:merge -- --engines floe-cow --no-verify --cpu-prof /tmp/prof   # V8 profile of floe
//   npm run bench:merge -- --timeout-min 25          # kill an engine (its process group) after 25 min
//
// Table: id long (the key: Iceberg identifier field), ts timestamptz partitioned by day(ts) over
// --days days, and six payload columns (customer_id long, status string, amount double, quantity
// long, comment string, version int); zstd. Base ids are even (2·i), assigned in ts order as an
// auto-increment key would be, so each file covers a narrow id range; the batch has
// --new-fraction new keys (odd ids, between existing ones, so key bounds never rule them out for
// free) and the rest existing keys chosen uniformly at random. An update keeps the row's ts (its
// partition stays) and changes every payload column, so pyiceberg (which skips unchanged rows)
// rewrites them all too.
//
// Fairness: floe writes the base once (appendRecords in --chunk-rows chunks) into bench.base;
// every engine then gets its own table whose first snapshot is a fast append of those same data
// files (like add_files): same files, same bounds, own metadata, own location for what it
// writes; no engine deletes files physically, so sharing them is safe. The change batch is
// generated once, as NDJSON (floe's input) and as Parquet with the table's Arrow schema (what
// pyiceberg and Spark read). Each engine runs in a child process whose process tree is polled
// for RSS; its timed section is the merge call alone, after the process start, the catalog and
// table load and the parse of the change batch (printed apart). Figures of files written come
// from each engine's own snapshot summaries, the same keys for all; after each run pyiceberg reads
// the table back: rows = base + new keys, no duplicate key, and --sample updated keys carry the
// batch's values in every column. "Data files read" is the engine's own figure (floe's scanned
// files; for pyiceberg the files its match scan plans on the base snapshot, counted after the
// clock); Spark does not report it. Wall times on a shared machine vary with its load: the CPU
// seconds of the merge are printed beside them.
//
// Needs the interop readers for pyiceberg and Spark: `bash scripts/setup-readers.sh`.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { watchTreeRss } from './process-tree-rss.ts';
import { openCatalog } from '../../catalog/index.ts';
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { parseTableIdentifier, type TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../src/transaction/fast-append.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { rng } from '../support/datagen.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    changes: { type: 'string', default: '100000' },
    'new-fraction': { type: 'string', default: '0.1' },
    days: { type: 'string', default: '30' },
    'chunk-rows': { type: 'string', default: '250000' },
    sample: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    engines: { type: 'string', default: 'floe-mor,floe-cow,pyiceberg,spark-mor,spark-cow' },
    'driver-memory': { type: 'string', default: '4g' },
    /** Kill an engine's process tree after this many minutes and report it as timed out. */
    'timeout-min': { type: 'string', default: '60' },
    /** Write a V8 CPU profile of each floe child into this directory (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
    /** Skip the read-back checks (they take a while at 10M rows). */
    'no-verify': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    // Internal: the floe side, run as a child process of the bench.
    'child-floe': { type: 'boolean', default: false },
    warehouse: { type: 'string' },
    table: { type: 'string' },
    mode: { type: 'string' },
    'changes-file': { type: 'string' },
  },
});

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PY_HELPER = path.join(REPO, 'test/bench/merge_bench_pyiceberg.py');
const SPARK_SCRIPT = path.join(REPO, 'test/bench/spark_merge_into.py');
const VENV_PYTHON = path.join(process.env.FLOE_VENV ?? path.join(REPO, '.venv'), 'bin/python');
const MiB = 1024 * 1024;

const SCHEMA_JSON = {
  type: 'struct',
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'ts', required: true, type: 'timestamptz' },
    { id: 3, name: 'customer_id', required: false, type: 'long' },
    { id: 4, name: 'status', required: false, type: 'string' },
    { id: 5, name: 'amount', required: false, type: 'double' },
    { id: 6, name: 'quantity', required: false, type: 'long' },
    { id: 7, name: 'comment', required: false, type: 'string' },
    { id: 8, name: 'version', required: false, type: 'int' },
  ],
};
const SCHEMA = schemaFromJson(SCHEMA_JSON);
const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'returned'];
// Without it Iceberg Java writes gzip into tables it did not create; floe writes zstd.
const BASE_PROPERTIES = { 'write.parquet.compression-codec': 'zstd' };
const START_MICROS = Date.UTC(2026, 9, 1) * 1000;

// --- data ------------------------------------------------------------------------------------

/** A fixed integer hash (for values that must be re-derivable from the row index). */
function hash32(i: number): number {
  let x = (i ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(micros - ms * 1000).padStart(3, '0')}Z`;
}

interface Layout { rows: number; stepMicros: number }

/** Row index i's timestamp: in time order, --days days over --rows rows. */
function tsMicros(l: Layout, i: number): number {
  return START_MICROS + i * l.stepMicros + (hash32(i) % l.stepMicros);
}

function baseRow(l: Layout, i: number, r: () => number): Record<string, unknown> {
  return {
    id: 2 * i,
    ts: isoMicros(tsMicros(l, i)),
    customer_id: Math.floor(r() * 1_000_000),
    status: STATUSES[hash32(i) % 4], // never the last status: an update always changes it
    amount: Math.round(r() * 1e7) / 100,
    quantity: Math.floor(r() * 50),
    comment: r() < 0.1 ? null : `order ${i} from web shop ${Math.floor(r() * 1000)}`,
    version: 0,
  };
}

/** The change batch: updates keep id and ts and change every payload column; new keys are odd. */
function makeChanges(l: Layout, count: number, newFraction: number, seed: number): { rows: Record<string, unknown>[]; updatedIds: number[]; newKeys: number } {
  const r = rng(seed + 1_000_003);
  const newKeys = Math.round(count * newFraction);
  const updates = count - newKeys;
  if (updates > l.rows || newKeys > l.rows) throw new Error(`--changes ${count} does not fit in --rows ${l.rows}`);
  const pick = (n: number): number[] => {
    const seen = new Set<number>();
    while (seen.size < n) seen.add(Math.floor(r() * l.rows));
    return [...seen];
  };
  const rows: Record<string, unknown>[] = [];
  const updatedIds: number[] = [];
  const payload = (i: number): Record<string, unknown> => ({
    customer_id: 1_000_000 + Math.floor(r() * 1_000_000),
    status: 'returned',
    amount: Math.round(r() * 1e7) / 100 + 0.5,
    quantity: 100 + Math.floor(r() * 50),
    comment: `changed by merge batch ${seed}: ${i}`,
    version: 1,
  });
  for (const i of pick(updates)) {
    rows.push({ id: 2 * i, ts: isoMicros(tsMicros(l, i)), ...payload(i) });
    updatedIds.push(2 * i);
  }
  for (const j of pick(newKeys)) rows.push({ id: 2 * j + 1, ts: isoMicros(tsMicros(l, j) + 1), ...payload(j) });
  // Interleave, as a real batch would be.
  for (let k = rows.length - 1; k > 0; k--) {
    const m = Math.floor(r() * (k + 1));
    [rows[k], rows[m]] = [rows[m]!, rows[k]!];
  }
  return { rows, updatedIds, newKeys };
}


interface ChildRun { stdout: string; code: number | null; peakRssBytes: number; wallSeconds: number; timedOut: boolean }

/** Runs a child (in its own process group, so a time-out ends the JVM too) with stderr passed
 * through and stdout captured, polling its tree's RSS. */
function runChild(cmd: string, argv: readonly string[], timeoutMs = Infinity): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const watch = child.pid !== undefined ? watchTreeRss(child.pid) : { stop: () => 0 };
    let timedOut = false;
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs) : undefined;
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.on('error', (err) => { clearTimeout(timer); watch.stop(); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, code, peakRssBytes: watch.stop(), wallSeconds: (performance.now() - t0) / 1000, timedOut });
    });
  });
}

const engineTimeoutMs = (): number => Number(args['timeout-min']) * 60_000;

function childFailure(what: string, run: ChildRun): string {
  return run.timedOut ? `${what} timed out after ${args['timeout-min']} min (killed)` : `${what} exited with code ${run.code} (see stderr above)`;
}

function lastJsonLine(text: string): Record<string, unknown> | undefined {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
}

// --- the floe side, in its own process ----------------------------------------------------

async function childFloe(): Promise<void> {
  if (!args.warehouse || !args.table || !args['changes-file'] || !args.mode) throw new Error('--child-floe needs --warehouse, --table, --changes-file and --mode');
  const mode = args.mode;
  if (mode !== 'merge-on-read' && mode !== 'copy-on-write') throw new Error(`--mode ${mode}: expected merge-on-read or copy-on-write`);
  // Imported here so the rest of the bench runs while the merge's reader side is being merged.
  const { mergeRecords } = await import('../../src/merge/merge-records.ts');
  const records = readFileSync(args['changes-file'], 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown);
  const catalog = await openCatalog({ warehouse: args.warehouse });
  try {
    const id = parseTableIdentifier(args.table);
    const setupSeconds = performance.now() / 1000; // since process start: node, tsx, imports, batch parse, catalog
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const r = await mergeRecords(catalog, id, records, { mode });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const { inserted, updated, deleted, stale, filesScanned, filesSkipped, filesTouched, deleteFilesWritten, dataFilesWritten, rowsRewritten, attempts } = r;
    process.stdout.write(`${JSON.stringify({
      seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, setupSeconds, peakRssBytes: process.resourceUsage().maxRSS * 1024,
      stats: { inserted, updated, deleted, stale, filesScanned, filesSkipped, filesTouched, deleteFilesWritten, dataFilesWritten, rowsRewritten, attempts, rejected: r.rejected.length },
    })}\n`);
  } finally {
    await catalog.close();
  }
}

// --- the bench -------------------------------------------------------------------------------

type Engine = 'floe-mor' | 'floe-cow' | 'pyiceberg' | 'spark-mor' | 'spark-cow';
const ENGINES: readonly Engine[] = ['floe-mor', 'floe-cow', 'pyiceberg', 'spark-mor', 'spark-cow'];

/** Summed snapshot-summary figures of the snapshots an engine's merge committed. */
interface Written {
  snapshots: number;
  addedDataFiles: number;
  deletedDataFiles: number;
  addedDeleteFiles: number;
  addedRecords: number;
  deletedRecords: number;
  addedPositionDeletes: number;
  addedMB: number;
}

interface Verified { rows: number; distinct: number; sampled: number; sample_wrong: number; live_data_files: number; data_files_with_deletes: number; live_delete_files: number; problems: string[]; seconds: number }

interface EngineResult {
  engine: Engine;
  label: string;
  seconds: number;
  cpuSeconds: number | undefined;
  startSeconds: number;
  wallSeconds: number;
  polledPeakRssBytes: number;
  selfPeakRssBytes: number | undefined;
  filesRead: string;
  filesTouched: string;
  engineRows: string;
  written?: Written;
  verified?: Verified;
}

async function tableDataFiles(catalog: Catalog, id: TableIdentifier): Promise<DataFile[]> {
  const t = await catalog.loadTable(id);
  const out: DataFile[] = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile);
  }
  return out;
}

async function writtenBy(catalog: Catalog, id: TableIdentifier, baseSnapshotId: bigint): Promise<Written> {
  const t = await catalog.loadTable(id);
  const w: Written = { snapshots: 0, addedDataFiles: 0, deletedDataFiles: 0, addedDeleteFiles: 0, addedRecords: 0, deletedRecords: 0, addedPositionDeletes: 0, addedMB: 0 };
  // Walk back from the head to the base snapshot: the merge's own snapshots.
  const byId = new Map(t.metadata.snapshots.map((s) => [s.snapshotId, s]));
  let s = branchHead(t.metadata, 'main');
  while (s && s.snapshotId !== baseSnapshotId) {
    const n = (k: string): number => Number(s!.summary[k] ?? 0);
    w.snapshots++;
    w.addedDataFiles += n('added-data-files');
    w.deletedDataFiles += n('deleted-data-files');
    w.addedDeleteFiles += n('added-delete-files');
    w.addedRecords += n('added-records');
    w.deletedRecords += n('deleted-records');
    w.addedPositionDeletes += n('added-position-deletes');
    w.addedMB += n('added-files-size') / MiB;
    s = s.parentSnapshotId !== null ? byId.get(s.parentSnapshotId) : undefined;
  }
  return w;
}

interface Env { dir: string; db: string; catalogName: string; changesNdjson: string; changesParquet: string; sampleFile: string; expectRows: number }

const pyArgs = (env: Env, table: string): string[] => ['--catalog-db', env.db, '--warehouse', env.dir, '--catalog-name', env.catalogName, '--table', table];

async function runFloe(env: Env, engine: Engine, table: string): Promise<EngineResult | string> {
  const mode = engine === 'floe-mor' ? 'merge-on-read' : 'copy-on-write';
  const run = await runChild(process.execPath, [
    ...(args['cpu-prof'] !== undefined ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : []),
    '--import', 'tsx', path.join(REPO, 'test/bench/merge-bench.ts'), '--child-floe',
    '--warehouse', env.dir, '--table', table, '--changes-file', env.changesNdjson, '--mode', mode,
  ], engineTimeoutMs());
  const out = lastJsonLine(run.stdout);
  if (run.code !== 0 || !out) return childFailure('floe child', run);
  const st = out.stats as Record<string, number>;
  console.log(`${engine}: ${JSON.stringify(st)}`);
  return {
    engine, label: `floe ${mode === 'merge-on-read' ? 'MoR' : 'CoW'}`, seconds: Number(out.seconds), cpuSeconds: Number(out.cpuSeconds),
    startSeconds: Number(out.setupSeconds), wallSeconds: run.wallSeconds,
    polledPeakRssBytes: run.peakRssBytes, selfPeakRssBytes: Number(out.peakRssBytes),
    filesRead: `${st.filesScanned} (${st.filesSkipped} skipped)`, filesTouched: String(st.filesTouched),
    engineRows: `${st.updated} / ${st.inserted}`,
  };
}

async function runPyiceberg(env: Env, table: string): Promise<EngineResult | string> {
  const run = await runChild(VENV_PYTHON, [PY_HELPER, 'upsert', ...pyArgs(env, table), '--changes', env.changesParquet], engineTimeoutMs());
  const out = lastJsonLine(run.stdout);
  if (run.code !== 0 || !out) return childFailure('pyiceberg upsert', run);
  return {
    engine: 'pyiceberg', label: `pyiceberg ${String(out.pyiceberg_version)}`, seconds: Number(out.seconds), cpuSeconds: Number(out.cpu_seconds),
    startSeconds: run.wallSeconds - Number(out.seconds), wallSeconds: run.wallSeconds,
    polledPeakRssBytes: run.peakRssBytes, selfPeakRssBytes: Number(out.peak_rss_bytes),
    // Planned by the upsert's match scan (counted after the timing, on the base snapshot).
    filesRead: String(out.match_scan_files), filesTouched: '', engineRows: `${String(out.rows_updated)} / ${String(out.rows_inserted)}`,
  };
}

async function runSpark(env: Env, engine: Engine, table: string): Promise<EngineResult | string> {
  const run = await runChild(VENV_PYTHON, [
    SPARK_SCRIPT, '--warehouse', env.dir, '--catalog-db', env.db, '--catalog-name', env.catalogName,
    '--table', table, '--changes', env.changesParquet, '--driver-memory', args['driver-memory'],
  ], engineTimeoutMs());
  const out = lastJsonLine(run.stdout);
  if (run.code !== 0 || !out) return childFailure('Spark script', run);
  const jvm = out.jvm_peak_rss_bytes;
  const py = out.python_peak_rss_bytes;
  return {
    engine, label: `Spark ${String(out.spark_version)} ${engine === 'spark-mor' ? 'MoR' : 'CoW'}`, seconds: Number(out.seconds),
    cpuSeconds: typeof out.cpu_seconds === 'number' ? out.cpu_seconds : undefined,
    startSeconds: Number(out.jvm_start_seconds) + Number(out.warmup_seconds), wallSeconds: run.wallSeconds,
    polledPeakRssBytes: run.peakRssBytes,
    // Peaks of two processes, not necessarily at the same moment: an upper bound.
    selfPeakRssBytes: typeof jvm === 'number' ? jvm + (typeof py === 'number' ? py : 0) : undefined,
    filesRead: '?', filesTouched: '', engineRows: '?',
  };
}

async function verify(env: Env, table: string): Promise<Verified | string> {
  const run = await runChild(VENV_PYTHON, [PY_HELPER, 'verify', ...pyArgs(env, table), '--changes', env.changesParquet, '--sample', env.sampleFile, '--expect-rows', String(env.expectRows)]);
  const out = lastJsonLine(run.stdout);
  if (run.code !== 0 || !out) return `verify exited with code ${run.code}`;
  return out as unknown as Verified;
}

function printTable(results: readonly EngineResult[], changes: number): void {
  const rows: [string, (r: EngineResult) => string][] = [
    ['seconds (merge only)', (r) => r.seconds.toFixed(2)],
    ['changes / s', (r) => (changes / r.seconds).toFixed(0)],
    ['CPU seconds (user + sys, merge)', (r) => (r.cpuSeconds === undefined ? '?' : r.cpuSeconds.toFixed(1))],
    ['peak RSS MB (tree, 200 ms poll)', (r) => (r.polledPeakRssBytes / MiB).toFixed(0)],
    ['peak RSS MB (VmHWM)', (r) => (r.selfPeakRssBytes === undefined ? '?' : (r.selfPeakRssBytes / MiB).toFixed(0))],
    ['start + load s (not timed)', (r) => r.startSeconds.toFixed(1)],
    ['process wall s (start to exit)', (r) => r.wallSeconds.toFixed(1)],
    ['updated / inserted (engine)', (r) => r.engineRows],
    ['data files read (engine)', (r) => r.filesRead],
    ['data files touched', (r) => r.filesTouched],
    ['snapshots committed', (r) => String(r.written?.snapshots ?? '?')],
    ['data files added / removed', (r) => (r.written ? `${r.written.addedDataFiles} / ${r.written.deletedDataFiles}` : '?')],
    ['delete files added', (r) => String(r.written?.addedDeleteFiles ?? '?')],
    ['records added / removed', (r) => (r.written ? `${r.written.addedRecords} / ${r.written.deletedRecords}` : '?')],
    ['position deletes added', (r) => String(r.written?.addedPositionDeletes ?? '?')],
    ['MB written', (r) => (r.written ? r.written.addedMB.toFixed(1) : '?')],
    ['check: rows / distinct keys', (r) => (r.verified ? `${r.verified.rows} / ${r.verified.distinct}` : '-')],
    ['check: sampled keys wrong', (r) => (r.verified ? `${r.verified.sample_wrong} of ${r.verified.sampled}` : '-')],
    ['check: live data / delete files', (r) => (r.verified ? `${r.verified.live_data_files} / ${r.verified.live_delete_files}` : '-')],
  ];
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const cells = rows.map(([, f]) => results.map(f));
  const w = results.map((r, i) => Math.max(r.label.length, ...cells.map((c) => c[i]!.length)));
  console.log(`${''.padEnd(w0)}  ${results.map((r, i) => r.label.padStart(w[i]!)).join('  ')}`);
  rows.forEach(([k], j) => { console.log(`${k.padEnd(w0)}  ${cells[j]!.map((c, i) => c.padStart(w[i]!)).join('  ')}`); });
  const rss = (r: EngineResult): number => r.polledPeakRssBytes;
  for (const f of results.filter((r) => r.engine.startsWith('floe'))) {
    for (const p of results.filter((r) => !r.engine.startsWith('floe'))) {
      console.log(`ratio ${f.label} ÷ ${p.label}: time ${(f.seconds / p.seconds).toFixed(2)}, peak RSS ${(rss(f) / rss(p)).toFixed(2)}`);
    }
  }
}

async function writeNdjson(file: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  const out = createWriteStream(file);
  for (const r of rows) if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const engines = args.engines.split(',').map((e) => e.trim()) as Engine[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`--engines: unknown engine '${e}' (known: ${ENGINES.join(', ')})`);
  const rows = Number(args.rows);
  const days = Number(args.days);
  const chunk = Number(args['chunk-rows']);
  const seed = Number(args.seed);
  const layout: Layout = { rows, stepMicros: Math.max(1, Math.floor((days * 86_400e6) / rows)) };
  const needsPython = engines.some((e) => !e.startsWith('floe')) || !args['no-verify'];
  if (needsPython && !existsSync(VENV_PYTHON)) throw new Error(`no ${VENV_PYTHON}: run bash scripts/setup-readers.sh`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-merge-bench-'));
  let failed = false;
  try {
    console.log(`merge bench: ${rows} rows over ${days} days, day(ts) partitions, 8 columns, zstd; ${args.changes} changes (${Number(args['new-fraction']) * 100}% new keys); chunks of ${chunk} rows; seed ${seed}; Spark local[2], driver memory ${args['driver-memory']}`);
    console.log(`reproduce: npm run bench:merge -- --rows ${rows} --changes ${args.changes} --days ${days} --chunk-rows ${chunk} --seed ${seed} --engines ${engines.join(',')} --timeout-min ${args['timeout-min']} --driver-memory ${args['driver-memory']}`);
    let catalog = await openCatalog({ warehouse: dir });
    const catalogName = catalog.name;
    await catalog.createNamespace(['bench']);
    const spec = parsePartitionExpression('day(ts)', SCHEMA);
    const baseId = parseTableIdentifier('bench.base');
    await catalog.createTable(baseId, { schema: SCHEMA, spec, properties: BASE_PROPERTIES });
    const t0 = performance.now();
    const r = rng(seed);
    for (let a = 0; a < rows; a += chunk) {
      const n = Math.min(chunk, rows - a);
      await appendRecords(catalog, baseId, Array.from({ length: n }, (_, k) => baseRow(layout, a + k, r)));
      if ((a / chunk + 1) % 10 === 0) process.stderr.write(`  ${a + n}/${rows} rows\n`);
    }
    const files = await tableDataFiles(catalog, baseId);
    const bytes = files.reduce((s, f) => s + Number(f.fileSizeInBytes), 0);
    console.log(`base: ${rows} rows in ${files.length} data files, ${(bytes / MiB).toFixed(1)} MB, written by floe in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // One table per engine over the same data files.
    const tables = new Map<Engine, { id: TableIdentifier; baseSnapshotId: bigint }>();
    for (const e of engines) {
      const id = parseTableIdentifier(`bench.${e.replace('-', '_')}`);
      const mode = e.endsWith('-mor') ? 'merge-on-read' : 'copy-on-write';
      await catalog.createTable(id, { schema: SCHEMA, spec, properties: { ...BASE_PROPERTIES, 'write.merge.mode': mode, 'write.update.mode': mode, 'write.delete.mode': mode } });
      const res = await commitWithRetry(catalog, id, new FastAppend(catalog.io, files));
      tables.set(e, { id, baseSnapshotId: res.snapshot.snapshotId });
    }

    const batch = makeChanges(layout, Number(args.changes), Number(args['new-fraction']), seed);
    const env: Env = {
      dir, db: path.join(dir, 'catalog.db'), catalogName,
      changesNdjson: path.join(dir, 'changes.ndjson'), changesParquet: path.join(dir, 'changes.parquet'),
      sampleFile: path.join(dir, 'sample.json'), expectRows: rows + batch.newKeys,
    };
    await writeNdjson(env.changesNdjson, batch.rows);
    const sampleRng = rng(seed + 7);
    const sample = batch.updatedIds.map((v) => [sampleRng(), v] as const).sort((x, y) => x[0] - y[0]).slice(0, Number(args.sample)).map(([, v]) => v);
    writeFileSync(env.sampleFile, JSON.stringify(sample));
    await catalog.close();
    if (needsPython) {
      const prep = await runChild(VENV_PYTHON, [PY_HELPER, 'prepare', ...pyArgs(env, 'bench.base'), '--changes', env.changesNdjson, '--out', env.changesParquet]);
      if (prep.code !== 0) throw new Error(`preparing the Parquet change batch failed (code ${prep.code})`);
    }

    const results: EngineResult[] = [];
    for (const e of engines) {
      const t = tables.get(e)!;
      const name = `${t.id.namespace.join('.')}.${t.id.name}`;
      process.stderr.write(`--- ${e}: merging ${batch.rows.length} changes into ${name}\n`);
      const res = e.startsWith('floe') ? await runFloe(env, e, name) : e === 'pyiceberg' ? await runPyiceberg(env, name) : await runSpark(env, e, name);
      if (typeof res === 'string') {
        console.log(`${e}: FAILED: ${res}`);
        failed = true;
        continue;
      }
      catalog = await openCatalog({ warehouse: dir });
      try {
        res.written = await writtenBy(catalog, t.id, t.baseSnapshotId);
      } finally {
        await catalog.close();
      }
      if (!args['no-verify']) {
        const v = await verify(env, name);
        if (typeof v === 'string') {
          console.log(`${e}: verify FAILED: ${v}`);
          failed = true;
        } else {
          res.verified = v;
          if (v.problems.length > 0) {
            console.log(`${e}: WRONG RESULT: ${v.problems.join('; ')}`);
            failed = true;
          }
          if (res.filesTouched === '') res.filesTouched = String(e.endsWith('-mor') ? v.data_files_with_deletes : res.written.deletedDataFiles);
          console.log(`${e}: checked in ${v.seconds.toFixed(1)} s: ${v.rows} rows, ${v.sample_wrong} of ${v.sampled} sampled keys wrong`);
        }
      }
      if (res.filesTouched === '') res.filesTouched = e.endsWith('-mor') ? '?' : String(res.written.deletedDataFiles);
      results.push(res);
    }
    if (results.length > 0) printTable(results, batch.rows.length);
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  if (failed) process.exitCode = 1;
}

if (args['child-floe']) await childFloe();
else await main();
