// Benchmark (not a test): compaction throughput and peak RSS of floe's compactor against Spark's
// `rewrite_data_files` (local[2], binpack) on the same data in the same run. Two tables get
// identical small files from floe's appendRecords; each engine then compacts its own table in
// a child process whose process tree is polled for RSS, so the figures are the compactor's and
// not the data generator's. Process start (node + tsx, or the JVM) is excluded from the timing
// and printed apart.
//
//   npm run bench:compaction                                  # 2,000 files × 2,000 rows
//   npm run bench:compaction -- --files 200 --target-mb 16 --keep
//   npm run bench:compaction -- --engines spark               # Spark side only
//   npm run bench:compaction -- --spark-warm                  # Spark scans the table once first
//   npm run bench:compaction -- --json out.json               # also writes the figures as JSON
//   npm run bench:compaction -- --engines floe --generate-only # tables only, kept for paired runs
//
// Needs the interop readers for the Spark side: `bash scripts/setup-readers.sh`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { watchTreeRss } from './process-tree-rss.ts';
import { openCatalog } from '../../catalog/index.ts';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { pathToFileURL } from 'node:url';
import { buildFloe, DIST_API, DIST_COMPACTION_API } from './compiled-floe.ts';
import { EntryStatus, FileContent } from '../../src/spec/data-file.ts';
import { parsePartitionExpression, type PartitionSpec } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { parseTableIdentifier, type TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { EVENT_TYPES, EVENTS_SCHEMA_JSON, rng } from '../support/datagen.ts';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '2000' },
    'rows-per-file': { type: 'string', default: '2000' },
    'target-mb': { type: 'string', default: '64' },
    'min-input-files': { type: 'string', default: '5' },
    /** bucket(N, user_id) partitions, so one commit writes N files; 0 = unpartitioned, one file per commit. */
    buckets: { type: 'string', default: '8' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string' },
    'driver-memory': { type: 'string', default: '4g' },
    /** Spark reads the whole table once before the CALL, so its Parquet read path is JIT-warm. */
    'spark-warm': { type: 'boolean', default: false },
    engines: { type: 'string', default: 'floe,spark' },
    keep: { type: 'boolean', default: false },
    /** Only generate the tables and keep them (paired runs: restore a copy, then --child-floe on it). */
    'generate-only': { type: 'boolean', default: false },
    /** Also write the summary figures to this file as JSON (for test/bench/peers-bench.ts). */
    json: { type: 'string' },
    /** Run floe from its TypeScript sources (tsx) instead of the compiled package in dist/. */
    'from-source': { type: 'boolean', default: false },
    // Internal: the floe side, run as a child process of the bench.
    'child-floe': { type: 'boolean', default: false },
    warehouse: { type: 'string' },
    table: { type: 'string' },
  },
});

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SPARK_SCRIPT = path.join(REPO, 'test/bench/spark_rewrite_data_files.py');
const VENV_PYTHON = path.join(process.env.FLOE_VENV ?? path.join(REPO, '.venv'), 'bin/python');
const MiB = 1024 * 1024;

const SCHEMA = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });
const TYPES = EVENT_TYPES;

// Set on both tables: without it Iceberg Java falls back to gzip (it writes zstd into the
// properties of tables it creates itself), and Spark would pay gzip's CPU while floe uses zstd.
const TABLE_PROPERTIES = { 'write.parquet.compression-codec': 'zstd' };

/** Commit `c`'s records: the same for a given seed, whichever table they go to. */
function makeRecords(n: number, offset: number, seed: number): Record<string, unknown>[] {
  const r = rng(seed + offset);
  const base = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => ({
    event_id: offset + i,
    user_id: Math.floor(r() * 100_000),
    ts: new Date(base + (offset + i) * 37 + Math.floor(r() * 1000)).toISOString(),
    event_type: TYPES[Math.floor(r() * TYPES.length)],
    page: r() < 0.1 ? null : `/products/${Math.floor(r() * 5000)}`,
    value: r() < 0.05 ? null : Math.round(r() * 1e8) / 100,
    count: Math.floor(r() * 100),
    flag: r() < 0.33,
  }));
}

interface LiveFiles { files: number; bytes: number; records: number; snapshots: number }

async function liveDataFiles(catalog: Catalog, id: TableIdentifier): Promise<LiveFiles> {
  const t = await catalog.loadTable(id);
  const out: LiveFiles = { files: 0, bytes: 0, records: 0, snapshots: t.metadata.snapshots.length };
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status === EntryStatus.Deleted || e.dataFile.content !== FileContent.Data) continue;
      out.files += 1;
      out.bytes += Number(e.dataFile.fileSizeInBytes);
      out.records += Number(e.dataFile.recordCount);
    }
  }
  return out;
}


interface ChildRun { stdout: string; code: number | null; peakRssBytes: number; wallSeconds: number }

/** Runs a child with stderr passed through and stdout captured, polling its tree's RSS. */
function runChild(cmd: string, argv: readonly string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    const watch = child.pid !== undefined ? watchTreeRss(child.pid) : { stop: () => 0 };
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.on('error', (err) => { watch.stop(); reject(err); });
    child.on('close', (code) => {
      resolve({ stdout, code, peakRssBytes: watch.stop(), wallSeconds: (performance.now() - t0) / 1000 });
    });
  });
}

function lastJsonLine(text: string): Record<string, unknown> | undefined {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
}

// --- the floe side, in its own process ----------------------------------------------------

type ReportFigures = Pick<CompactReport, 'groups' | 'failedGroups' | 'rewrittenFiles' | 'addedFiles' | 'rewrittenBytes' | 'addedBytes' | 'commits' | 'conflicts' | 'durationMs'>;

interface FloeChildResult {
  seconds: number;
  cpuSeconds: number;
  setupSeconds: number;
  peakRssBytes: number;
  report: ReportFigures;
}

async function childFloe(): Promise<void> {
  if (!args.warehouse || !args.table) throw new Error('--child-floe needs --warehouse and --table');
  // The compiled package (built by the parent), as users install it; its worker threads run
  // compiled JavaScript (under tsx each worker compiles TypeScript as it starts).
  const floe: { openCatalog: typeof openCatalog; compactTable: typeof compactTable } = args['from-source']
    ? { openCatalog, compactTable }
    : { openCatalog: ((await import(pathToFileURL(DIST_API).href)) as { openCatalog: typeof openCatalog }).openCatalog,
      compactTable: ((await import(pathToFileURL(DIST_COMPACTION_API).href)) as { compactTable: typeof compactTable }).compactTable };
  const catalog = await floe.openCatalog({ warehouse: args.warehouse });
  try {
    const id = parseTableIdentifier(args.table);
    const setupSeconds = performance.now() / 1000; // since process start: node, tsx, imports, catalog
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const report = await floe.compactTable(catalog, id, {
      targetFileSizeBytes: Number(args['target-mb']) * MiB,
      minInputFiles: Number(args['min-input-files']),
      ...(args.concurrency !== undefined ? { concurrency: Number(args.concurrency) } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const { groups, failedGroups, rewrittenFiles, addedFiles, rewrittenBytes, addedBytes, commits, conflicts, durationMs } = report;
    const result: FloeChildResult = {
      seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, setupSeconds, peakRssBytes: process.resourceUsage().maxRSS * 1024,
      report: { groups, failedGroups, rewrittenFiles, addedFiles, rewrittenBytes, addedBytes, commits, conflicts, durationMs },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await catalog.close();
  }
}

// --- the bench -------------------------------------------------------------------------------

type Engine = 'floe' | 'spark';

interface EngineResult {
  engine: Engine;
  label: string;
  seconds: number;
  cpuSeconds: number | undefined;
  startSeconds: number;
  wallSeconds: number;
  polledPeakRssBytes: number;
  selfPeakRssBytes: number | undefined;
  rewrittenFiles: number;
  addedFiles: number;
  rewrittenBytes: number;
  before: LiveFiles;
  after?: LiveFiles;
}

async function generate(catalog: Catalog, ids: readonly TableIdentifier[], spec: PartitionSpec | undefined): Promise<void> {
  const files = Number(args.files);
  const rowsPerFile = Number(args['rows-per-file']);
  const buckets = Number(args.buckets);
  const filesPerCommit = Math.max(1, buckets);
  const commits = Math.ceil(files / filesPerCommit);
  const seed = Number(args.seed);
  for (const id of ids) {
    await catalog.createTable(id, { schema: SCHEMA, properties: TABLE_PROPERTIES, ...(spec ? { spec } : {}) });
  }
  const t0 = performance.now();
  for (let c = 0; c < commits; c++) {
    const n = rowsPerFile * filesPerCommit;
    const records = makeRecords(n, c * n, seed);
    for (const id of ids) await appendRecords(catalog, id, records);
    if ((c + 1) % 100 === 0) process.stderr.write(`  ${c + 1}/${commits} commits per table\n`);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`generated ${commits} commits × ${filesPerCommit} file(s) per table into ${ids.length} table(s) in ${s.toFixed(1)} s (${((s * 1000) / (commits * ids.length)).toFixed(0)} ms per commit)`);
}

async function runFloe(dir: string, id: TableIdentifier, before: LiveFiles): Promise<EngineResult | string> {
  if (!args['from-source']) buildFloe();
  const run = await runChild(process.execPath, [
    '--import', 'tsx', path.join(REPO, 'test/bench/compaction-bench.ts'), '--child-floe',
    '--warehouse', dir, '--table', `${id.namespace.join('.')}.${id.name}`,
    '--target-mb', args['target-mb'], '--min-input-files', args['min-input-files'],
    ...(args.concurrency !== undefined ? ['--concurrency', args.concurrency] : []),
    ...(args['from-source'] ? ['--from-source'] : []),
  ]);
  const out = lastJsonLine(run.stdout) as FloeChildResult | undefined;
  if (run.code !== 0 || !out) return `floe child exited with code ${run.code} (see stderr above)`;
  const rep = out.report;
  console.log(`floe: ${rep.groups} group(s), ${rep.failedGroups} failed, ${rep.commits} commit(s), ${rep.conflicts} conflict(s)`);
  if (rep.failedGroups > 0) return `${rep.failedGroups} of ${rep.groups} groups failed`;
  return {
    engine: 'floe', label: 'floe', seconds: out.seconds, cpuSeconds: out.cpuSeconds, startSeconds: out.setupSeconds, wallSeconds: run.wallSeconds,
    polledPeakRssBytes: run.peakRssBytes, selfPeakRssBytes: out.peakRssBytes,
    rewrittenFiles: out.report.rewrittenFiles, addedFiles: out.report.addedFiles, rewrittenBytes: out.report.rewrittenBytes,
    before,
  };
}

async function runSpark(dir: string, catalogName: string, id: TableIdentifier, before: LiveFiles): Promise<EngineResult | string> {
  if (!existsSync(VENV_PYTHON)) return `no ${VENV_PYTHON}: run bash scripts/setup-readers.sh`;
  const run = await runChild(VENV_PYTHON, [
    SPARK_SCRIPT, '--warehouse', dir, '--catalog-db', path.join(dir, 'catalog.db'), '--catalog-name', catalogName,
    '--table', `${id.namespace.join('.')}.${id.name}`,
    '--target-file-size-bytes', String(Number(args['target-mb']) * MiB),
    '--min-input-files', args['min-input-files'], '--driver-memory', args['driver-memory'],
    ...(args['spark-warm'] ? ['--warm-scan'] : []),
  ]);
  const out = lastJsonLine(run.stdout);
  if (run.code !== 0 || !out) return `Spark script exited with code ${run.code}`;
  const jvm = out.jvm_peak_rss_bytes;
  const py = out.python_peak_rss_bytes;
  return {
    engine: 'spark', label: `Spark ${String(out.spark_version)}${args['spark-warm'] ? ' (warm)' : ''}`, seconds: Number(out.seconds),
    cpuSeconds: typeof out.cpu_seconds === 'number' ? out.cpu_seconds : undefined,
    startSeconds: Number(out.jvm_start_seconds) + Number(out.warmup_seconds) + Number(out.warm_scan_seconds ?? 0),
    wallSeconds: run.wallSeconds,
    polledPeakRssBytes: run.peakRssBytes,
    // Peaks of two processes, not necessarily at the same moment: an upper bound.
    selfPeakRssBytes: typeof jvm === 'number' ? jvm + (typeof py === 'number' ? py : 0) : undefined,
    rewrittenFiles: Number(out.rewritten_data_files_count), addedFiles: Number(out.added_data_files_count),
    rewrittenBytes: Number(out.rewritten_bytes_count),
    before,
  };
}

function printTable(results: readonly EngineResult[]): void {
  const mbs = (r: EngineResult): number => r.before.bytes / MiB / r.seconds;
  const rows: [string, (r: EngineResult) => string][] = [
    ['input files', (r) => String(r.before.files)],
    ['input MB', (r) => (r.before.bytes / MiB).toFixed(1)],
    ['rewritten / added files', (r) => `${r.rewrittenFiles} / ${r.addedFiles}`],
    ['rewritten MB (engine)', (r) => (r.rewrittenBytes / MiB).toFixed(1)],
    ['output files (live)', (r) => String(r.after?.files ?? '?')],
    ['output MB (live)', (r) => (r.after ? (r.after.bytes / MiB).toFixed(1) : '?')],
    ['seconds (rewrite only)', (r) => r.seconds.toFixed(2)],
    ['MB/s (input MB / seconds)', (r) => mbs(r).toFixed(1)],
    ['CPU seconds (user + sys, rewrite)', (r) => (r.cpuSeconds === undefined ? '?' : r.cpuSeconds.toFixed(1))],
    ['peak RSS MB (tree, 200 ms poll)', (r) => (r.polledPeakRssBytes / MiB).toFixed(0)],
    ['peak RSS MB (VmHWM)', (r) => (r.selfPeakRssBytes === undefined ? '?' : (r.selfPeakRssBytes / MiB).toFixed(0))],
    ['start + table load s (not timed)', (r) => r.startSeconds.toFixed(1)],
    ['process wall s (start to exit)', (r) => r.wallSeconds.toFixed(1)],
    ['rows before → after', (r) => `${r.before.records} → ${r.after?.records ?? '?'}`],
  ];
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const cells = rows.map(([, f]) => results.map(f));
  const w = results.map((r, i) => Math.max(r.label.length, ...cells.map((c) => c[i]!.length)));
  console.log(`${''.padEnd(w0)}  ${results.map((r, i) => r.label.padStart(w[i]!)).join('  ')}`);
  rows.forEach(([k], j) => { console.log(`${k.padEnd(w0)}  ${cells[j]!.map((c, i) => c.padStart(w[i]!)).join('  ')}`); });
  const floe = results.find((r) => r.engine === 'floe');
  const spark = results.find((r) => r.engine === 'spark');
  if (floe && spark) console.log(`ratio floe MB/s ÷ Spark MB/s: ${(mbs(floe) / mbs(spark)).toFixed(2)}`);
}

async function main(): Promise<void> {
  const engines = new Set(args.engines.split(',').map((e) => e.trim()));
  const ids = { floe: parseTableIdentifier('bench.floe_t'), spark: parseTableIdentifier('bench.spark_t') };
  const used = (['floe', 'spark'] as const satisfies readonly Engine[]).filter((e) => engines.has(e));
  if (used.length === 0) throw new Error(`--engines ${args.engines}: expected floe, spark or floe,spark`);
  const buckets = Number(args.buckets);
  const spec = buckets > 0 ? parsePartitionExpression(`bucket(${buckets},user_id)`, SCHEMA) : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-compaction-bench-'));
  let failed = false;
  try {
    console.log(`compaction bench: ${args.files} files × ${args['rows-per-file']} rows, 8 columns, ${spec ? `bucket(${buckets}, user_id)` : 'unpartitioned'}, zstd, target ${args['target-mb']} MB, min-input-files ${args['min-input-files']}, floe concurrency ${args.concurrency ?? 'default'}, Spark local[2], seed ${args.seed}`);
    let catalog = await openCatalog({ warehouse: dir });
    const catalogName = catalog.name;
    await catalog.createNamespace(['bench']);
    await generate(catalog, used.map((e) => ids[e]), spec);
    if (args['generate-only']) {
      await catalog.close();
      console.log(`generated only: compact with --child-floe --warehouse ${dir} --table bench.floe_t (restore a copy between runs)`);
      return;
    }
    const before = new Map<Engine, LiveFiles>();
    for (const e of used) before.set(e, await liveDataFiles(catalog, ids[e]));
    // The compactors run in other processes against the same catalog.db.
    await catalog.close();

    const results: EngineResult[] = [];
    for (const engine of used) {
      process.stderr.write(`--- ${engine}: compacting ${ids[engine].namespace.join('.')}.${ids[engine].name}\n`);
      const r = engine === 'floe'
        ? await runFloe(dir, ids.floe, before.get('floe')!)
        : await runSpark(dir, catalogName, ids.spark, before.get('spark')!);
      if (typeof r === 'string') {
        console.log(`${engine}: FAILED: ${r}`);
        failed = true;
      } else {
        results.push(r);
      }
    }

    catalog = await openCatalog({ warehouse: dir });
    try {
      for (const r of results) r.after = await liveDataFiles(catalog, ids[r.engine]);
    } finally {
      await catalog.close();
    }
    if (results.length > 0) printTable(results);
    for (const r of results) {
      if (r.after && r.after.records !== r.before.records) {
        console.log(`${r.label}: row count changed by compaction: ${r.before.records} → ${r.after.records}`);
        failed = true;
      }
    }
    if (results.length === 2 && results[0]!.after?.records !== results[1]!.after?.records) {
      console.log(`row counts differ after compaction: ${results.map((r) => `${r.label} ${r.after?.records}`).join(', ')}`);
      failed = true;
    }
    if (args.json) {
      const mbs = (r: EngineResult): number => r.before.bytes / MiB / r.seconds;
      const floe = results.find((r) => r.engine === 'floe');
      const spark = results.find((r) => r.engine === 'spark');
      writeFileSync(args.json, `${JSON.stringify({
        files: Number(args.files), rowsPerFile: Number(args['rows-per-file']), targetMb: Number(args['target-mb']), failed,
        engines: results.map((r) => ({
          engine: r.engine, label: r.label, seconds: r.seconds, inputBytes: r.before.bytes, mbPerSecond: mbs(r), cpuSeconds: r.cpuSeconds,
          polledPeakRssBytes: r.polledPeakRssBytes, selfPeakRssBytes: r.selfPeakRssBytes, startSeconds: r.startSeconds, wallSeconds: r.wallSeconds,
          filesBefore: r.before.files, filesAfter: r.after?.files, recordsBefore: r.before.records, recordsAfter: r.after?.records,
        })),
        ratioFloeToSpark: floe && spark ? mbs(floe) / mbs(spark) : undefined,
      }, null, 1)}\n`);
    }
  } finally {
    if (!args.keep && !args['generate-only']) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  if (failed) process.exitCode = 1;
}

if (args['child-floe']) await childFloe();
else await main();
