// Benchmark (not a test): floe against the tool a user would pick instead, on the same data, in
// one run and one process tree, with the machine's load average around every section (issue 12
// item 7). Sections, each in child processes so that every peak RSS is one engine's own:
//   append      1M × 8 JS records → committed zstd table (floe appendRecords) vs pyiceberg
//               table.append from Python dicts (from_pylist timed) and from a ready Arrow table,
//               vs DuckDB COPY … TO parquet (zstd) of the same rows; floe's files are then checked
//               value for value against the Python-built rows (test/bench/append_peers.py);
//   kafka       test/bench/kafka-ingest-bench.ts: one `floe ingest` vs a bare kafkajs consumer on
//               the same topic, and freshness at 10 s windows;
//   commits     test/bench/commit-history-bench.ts: floe vs pyiceberg commit latency as history grows;
//   compaction  test/bench/compaction-bench.ts: floe vs Spark rewrite_data_files (local[2]).
// Prints every section's own output, then one table: target | floe | peer | ratio | target met?
// (targets from issue 12). Ratios are "floe ahead by": floe ÷ peer for rates, peer ÷ floe for
// latencies, so > 1 always means floe is better.
//
//   npm run bench:peers                                 # the issue's sizes (~15–30 min, idle machine please)
//   npm run bench:peers -- --quick                      # small sizes, ~3–5 min
//   npm run bench:peers -- --only append,commits        # some sections
//   npm run bench:peers -- --quick --json /tmp/peers.json
//
// Needs the reader venv (FLOE_VENV, default .venv: pyiceberg, pyarrow, duckdb, pyspark; see
// scripts/setup-readers.sh) and, for kafka, the project broker (started here through
// test/support/kafka.ts, as `npm run kafka:up` does).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { EVENTS_SCHEMA_JSON } from '../support/datagen.ts';
import { makeEventRecords } from './event-records.ts';
import { buildFloe, DIST_API } from './compiled-floe.ts';

const SECTIONS = ['append', 'kafka', 'commits', 'compaction'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: SECTIONS.join(',') },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Internal: floe's side of the append section, run as a child process.
    'child-append': { type: 'boolean', default: false },
    warehouse: { type: 'string' },
    records: { type: 'string' },
    // floe from its TypeScript sources (tsx) instead of the compiled package in dist/.
    source: { type: 'boolean', default: false },
  },
});

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = path.join(REPO, 'test/bench');
const VENV_PYTHON = path.join(process.env.FLOE_VENV ?? path.join(REPO, '.venv'), 'bin/python');
const MiB = 1024 * 1024;
const SCHEMA = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });
const TABLE_PROPERTIES = { 'write.parquet.compression-codec': 'zstd' };

/** Sizes: the issue's (default) or --quick. Each reused bench gets these as its own flags. */
const SIZES = args.quick
  ? {
    appendRecords: 200_000,
    kafka: ['--messages', '150000', '--procs', '1', '--fresh-seconds', '10', '--rate', '20000'],
    commits: ['--commits', '1000', '--at', '100,1000', '--window', '100', '--py-commits', '100'],
    compaction: ['--files', '400', '--rows-per-file', '2000', '--target-mb', '16', '--concurrency', '2'],
  }
  : {
    appendRecords: 1_000_000,
    kafka: ['--messages', '500000', '--procs', '1', '--fresh-seconds', '60', '--rate', '20000'],
    commits: ['--commits', '10000', '--at', '100,1000,5000,10000', '--window', '100', '--py-commits', '300'],
    compaction: ['--files', '2000', '--rows-per-file', '2000', '--target-mb', '64', '--concurrency', '2'],
  };

// --- child processes ---------------------------------------------------------------------------

interface ChildResult { code: number | null; stdout: string }

/** Runs a child in the repo; stderr passes through, stdout is passed through or captured. */
function run(cmd: string, argv: readonly string[], captureStdout: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', captureStdout ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

function lastJsonLine<T>(text: string): T | undefined {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line === undefined ? undefined : (JSON.parse(line) as T);
}

const tsxBench = (file: string, argv: readonly string[]): string[] => ['--import', 'tsx', path.join(BENCH, file), ...argv];

// --- section 1: append ---------------------------------------------------------------------------

interface FloeAppend {
  records: number; seconds: number; rowsPerSecond: number; cpuSeconds: number; peakRssBytes: number;
  timings: { toArrowMs: number; parquetMs: number; ioMs: number; commitMs: number };
  dataFiles: string[]; fileBytes: number;
  /** A second append of fresh records (offset n) in the same process, into its own table: what a
   * long-running writer sees once V8 has optimised the conversion (the first pays the warm-up). */
  warm?: { seconds: number; rowsPerSecond: number; cpuSeconds: number };
}

/** The floe side, in its own process: generate (untimed), appendRecords (timed), list the files. */
async function childAppend(): Promise<void> {
  if (!args.warehouse || !args.records) throw new Error('--child-append needs --warehouse and --records');
  const n = Number(args.records);
  // The compiled package, as `npm install floe` gives it (built by the parent), unless told to
  // run from source: under tsx the encoder workers compile TypeScript as they start.
  const floe: { openCatalog: typeof openCatalog; appendRecords: typeof appendRecords } =
    args.source ? { openCatalog, appendRecords } : await import(pathToFileURL(DIST_API).href);
  const catalog = await floe.openCatalog({ warehouse: args.warehouse });
  try {
    const id = { namespace: ['bench'], name: 'floe_append' };
    const records = makeEventRecords(n, 0);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await floe.appendRecords(catalog, id, records);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const files: string[] = [];
    for (const m of await snapshotManifests(catalog.io, branchHead(r.table.metadata, 'main'))) {
      for (const e of await manifestEntries(catalog.io, m)) files.push(uriToPath(e.dataFile.filePath));
    }
    const warmRecords = makeEventRecords(n, n);
    const wcpu0 = process.cpuUsage();
    const w0 = performance.now();
    await floe.appendRecords(catalog, { namespace: ['bench'], name: 'floe_append_warm' }, warmRecords);
    const warmSeconds = (performance.now() - w0) / 1000;
    const wcpu = process.cpuUsage(wcpu0);
    const out: FloeAppend = {
      records: n, seconds, rowsPerSecond: n / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssBytes,
      timings: r.timings, dataFiles: files, fileBytes: Number(r.snapshot.summary['added-files-size']),
      warm: { seconds: warmSeconds, rowsPerSecond: n / warmSeconds, cpuSeconds: (wcpu.user + wcpu.system) / 1e6 },
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await catalog.close();
  }
}

interface PyAppend { mode: string; seconds: number; rowsPerSecond: number; cpuSeconds: number; peakRssBytes: number; fileBytes: number; totalRecords: number; threads?: number; fromPylistSeconds?: number; versions: Record<string, string> }
interface PyCheck { same: boolean; rows: number; files: number; mismatchedColumns: string[] }

interface AppendFigures { floe: FloeAppend; dicts?: PyAppend; arrow?: PyAppend; duckdb?: PyAppend; check?: PyCheck; errors: string[] }

async function appendSection(dir: string): Promise<AppendFigures> {
  const n = SIZES.appendRecords;
  const catalog = await openCatalog({ warehouse: dir });
  const catalogDb = path.join(dir, 'catalog.db');
  const warehouseUri = `file://${dir}`;
  try {
    await catalog.createNamespace(['bench']);
    for (const name of ['floe_append', 'floe_append_warm', 'py_dicts', 'py_arrow']) {
      await catalog.createTable({ namespace: ['bench'], name }, { schema: SCHEMA, properties: TABLE_PROPERTIES });
    }
  } finally {
    await catalog.close();
  }
  const errors: string[] = [];
  process.stderr.write(`--- append: floe appendRecords, ${n} records\n`);
  if (!args.source) buildFloe();
  const f = await run(process.execPath, tsxBench('peers-bench.ts', ['--child-append', '--warehouse', dir, '--records', String(n), ...(args.source ? ['--source'] : [])]), true);
  const floe = lastJsonLine<FloeAppend>(f.stdout);
  if (f.code !== 0 || !floe) throw new Error(`floe append child exited with code ${f.code}`);
  const figures: AppendFigures = { floe, errors };
  const py = async (mode: string, extra: string[]): Promise<PyAppend | undefined> => {
    process.stderr.write(`--- append: ${mode}\n`);
    const r = await run(VENV_PYTHON, [path.join(BENCH, 'append_peers.py'), '--mode', mode, '--records', String(n), ...extra], true);
    const out = lastJsonLine<PyAppend>(r.stdout);
    if (r.code !== 0 || !out) errors.push(`append_peers.py --mode ${mode} exited with code ${r.code}`);
    return out;
  };
  if (!existsSync(VENV_PYTHON)) {
    errors.push(`no ${VENV_PYTHON}: run bash scripts/setup-readers.sh (or set FLOE_VENV)`);
    return figures;
  }
  const catalogArgs = (table: string): string[] => ['--catalog-db', catalogDb, '--warehouse', warehouseUri, '--table', table];
  const dicts = await py('dicts', catalogArgs('bench.py_dicts'));
  const arrow = await py('arrow', catalogArgs('bench.py_arrow'));
  const duckdb = await py('duckdb', ['--out', path.join(dir, 'duckdb-copy.parquet')]);
  if (dicts) figures.dicts = dicts;
  if (arrow) figures.arrow = arrow;
  if (duckdb) figures.duckdb = duckdb;
  for (const p of [dicts, arrow, duckdb]) {
    if (p && p.totalRecords !== n) errors.push(`${p.mode} wrote ${p.totalRecords} rows, not ${n}`);
  }
  process.stderr.write(`--- append: checking floe's ${floe.dataFiles.length} data file(s) against the Python-built rows\n`);
  const c = await run(VENV_PYTHON, [path.join(BENCH, 'append_peers.py'), '--mode', 'check', '--records', String(n), '--check-files', floe.dataFiles.join(',')], true);
  const check = lastJsonLine<PyCheck>(c.stdout);
  if (c.code !== 0 || !check) errors.push(`append_peers.py --mode check exited with code ${c.code}`);
  else {
    figures.check = check;
    if (!check.same) errors.push(`floe's files differ from the Python-built rows: ${check.rows} rows, columns ${check.mismatchedColumns.join(', ') || '(row count)'}`);
  }
  return figures;
}

function printAppend(a: AppendFigures): void {
  const mb = (b: number): string => (b / MiB).toFixed(0);
  const line = (label: string, x: { rowsPerSecond: number; seconds: number; cpuSeconds: number; peakRssBytes: number; fileBytes: number }, extra = ''): void => {
    console.log(`  ${label.padEnd(34)} ${Math.round(x.rowsPerSecond).toLocaleString('en-US').padStart(11)} rows/s  ${x.seconds.toFixed(2).padStart(6)} s  CPU ${x.cpuSeconds.toFixed(2).padStart(5)} s  peak RSS ${mb(x.peakRssBytes).padStart(5)} MB  file ${(x.fileBytes / MiB).toFixed(1)} MB${extra}`);
  };
  const t = a.floe.timings;
  console.log(`append ${a.floe.records.toLocaleString('en-US')} records × 8 columns, zstd (same rows everywhere)`);
  line('floe appendRecords (JS records)', a.floe, `  [to-Arrow ${t.toArrowMs.toFixed(0)} + Parquet ${t.parquetMs.toFixed(0)} + IO ${t.ioMs.toFixed(0)} + commit ${t.commitMs.toFixed(0)} ms]`);
  if (a.floe.warm) console.log(`  floe, second append in the process   ${num(a.floe.warm.rowsPerSecond).padStart(9)} rows/s    ${a.floe.warm.seconds.toFixed(2)} s  CPU ${a.floe.warm.cpuSeconds.toFixed(2)} s`);
  if (a.dicts) line('pyiceberg append from dicts', a.dicts, `  [from_pylist ${((a.dicts.fromPylistSeconds ?? 0) * 1000).toFixed(0)} ms]`);
  if (a.arrow) line('pyiceberg append from Arrow', a.arrow);
  if (a.duckdb) line('DuckDB COPY → parquet (no commit)', a.duckdb, `  [threads ${a.duckdb.threads}]`);
  const v = (a.dicts ?? a.arrow ?? a.duckdb)?.versions;
  if (v) console.log(`  versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}`);
  const ratio = (p: PyAppend | undefined): string => (p ? (a.floe.rowsPerSecond / p.rowsPerSecond).toFixed(2) : '?');
  console.log(`  floe/pyiceberg-dicts ${ratio(a.dicts)}, floe/pyiceberg-arrow ${ratio(a.arrow)}, floe/duckdb ${ratio(a.duckdb)}`);
  if (a.check) console.log(`  floe's ${a.check.files} file(s) vs the Python-built rows: ${a.check.same ? 'identical, value for value' : `DIFFERENT (${a.check.mismatchedColumns.join(', ')})`}`);
  for (const e of a.errors) console.log(`  ERROR: ${e}`);
}

// --- sections 2–4: the existing benches, with --json ----------------------------------------------

async function benchJson<T>(file: string, flags: readonly string[], dir: string): Promise<T> {
  const out = path.join(dir, `${path.basename(file, '.ts')}.json`);
  console.log(`$ node --import tsx test/bench/${file} ${flags.join(' ')}`);
  const r = await run(process.execPath, tsxBench(file, [...flags, '--json', out]), false);
  if (!existsSync(out)) throw new Error(`${file} exited with code ${r.code} and wrote no figures`);
  const figures = JSON.parse(readFileSync(out, 'utf8')) as T;
  if (r.code !== 0) throw new Error(`${file} exited with code ${r.code}`);
  return figures;
}

interface KafkaFigures {
  messages: number;
  throughput: { procs: number; seconds: number; recordsPerSecond: number; steady?: { rate: number; perCpuSecond: number }; bare: { rate: number; perCpuSecond: number; steadyRate?: number }; ratioWall: number; ratioSteady?: number; ratioCpu?: number; workerPeakRssBytes: (number | null)[] }[];
  freshness?: { windowMs: number; nominalRate: number; achievedRate: number; p50Ms: number; p99Ms: number; maxMs: number; workerPeakRssBytes?: number };
}

interface CommitWindow { from: number; to: number; commitP50: number; commitP99: number; appendP50: number; appendP99: number }
interface CommitFigures {
  commits: number; snapshots: number; floe: CommitWindow[];
  pyiceberg?: { commits: number; appendP50: number; appendP99: number; floeAppendP50SameCommits: number; floeAppendP99SameCommits: number };
  peakRssBytes: number;
}

interface CompactionEngine { engine: string; label: string; seconds: number; mbPerSecond: number; polledPeakRssBytes: number; selfPeakRssBytes?: number; inputBytes: number }
interface CompactionFigures { files: number; failed: boolean; engines: CompactionEngine[]; ratioFloeToSpark?: number }

// --- the summary table ---------------------------------------------------------------------------

interface Row { target: string; floe: string; peer: string; ratio: string; met: string }

const loadNow = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const num = (x: number | undefined, digits = 0): string => (x === undefined || !Number.isFinite(x) ? '?' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const yes = (ok: boolean | undefined): string => (ok === undefined ? '?' : ok ? 'yes' : 'NO');

function appendRows(a: AppendFigures): Row[] {
  const rows: Row[] = [];
  const f = a.floe.rowsPerSecond;
  rows.push({ target: `append: ≥ 1.5M rows/s (${num(a.floe.records)} JS records → committed, first in a process)`, floe: `${num(f)} rows/s`, peer: '', ratio: '', met: yes(f >= 1.5e6) });
  rows.push({ target: 'append: ≥ 1.5× pyiceberg from dicts (first in a process)', floe: `${num(f)} rows/s`, peer: a.dicts ? `${num(a.dicts.rowsPerSecond)} rows/s` : '?', ratio: a.dicts ? num(f / a.dicts.rowsPerSecond, 2) : '?', met: a.dicts ? yes(f / a.dicts.rowsPerSecond >= 1.5) : '?' });
  const w = a.floe.warm?.rowsPerSecond;
  if (w !== undefined) {
    rows.push({ target: 'append: ≥ 1.5M rows/s (second append in the process: a running writer)', floe: `${num(w)} rows/s`, peer: '', ratio: '', met: yes(w >= 1.5e6) });
    rows.push({ target: 'append: ≥ 1.5× pyiceberg from dicts (second append in the process)', floe: `${num(w)} rows/s`, peer: a.dicts ? `${num(a.dicts.rowsPerSecond)} rows/s` : '?', ratio: a.dicts ? num(w / a.dicts.rowsPerSecond, 2) : '?', met: a.dicts ? yes(w / a.dicts.rowsPerSecond >= 1.5) : '?' });
  }
  rows.push({ target: 'append: vs pyiceberg from a ready Arrow table', floe: `${num(f)} rows/s`, peer: a.arrow ? `${num(a.arrow.rowsPerSecond)} rows/s` : '?', ratio: a.arrow ? num(f / a.arrow.rowsPerSecond, 2) : '?', met: '(no target)' });
  rows.push({ target: 'append: vs DuckDB COPY to Parquet (no commit)', floe: `${num(f)} rows/s`, peer: a.duckdb ? `${num(a.duckdb.rowsPerSecond)} rows/s` : '?', ratio: a.duckdb ? num(f / a.duckdb.rowsPerSecond, 2) : '?', met: '(no target)' });
  const perCpu = (x: { records?: number; totalRecords?: number; cpuSeconds: number }): number => a.floe.records / x.cpuSeconds;
  if (a.dicts) rows.push({ target: 'append: rows per CPU-second vs pyiceberg dicts', floe: `${num(perCpu(a.floe))} rows/cpu-s`, peer: `${num(perCpu(a.dicts))} rows/cpu-s`, ratio: num(perCpu(a.floe) / perCpu(a.dicts), 2), met: '(no target)' });
  rows.push({ target: 'append: peak RSS reported (vs pyiceberg dicts)', floe: `${num(a.floe.peakRssBytes / MiB)} MB`, peer: a.dicts ? `${num(a.dicts.peakRssBytes / MiB)} MB` : '?', ratio: a.dicts ? num(a.dicts.peakRssBytes / a.floe.peakRssBytes, 2) : '?', met: 'reported' });
  rows.push({ target: 'append: same rows in floe\'s files as in Python', floe: a.check ? `${a.check.rows} rows` : '?', peer: `${a.floe.records} rows`, ratio: '', met: a.check ? yes(a.check.same) : '?' });
  return rows;
}

function kafkaRows(k: KafkaFigures): Row[] {
  const rows: Row[] = [];
  const t = k.throughput.find((x) => x.procs === 1);
  if (t) {
    // Steady = floe from its first commit to the last, the bare consumer from its first batch to
    // the last (start-up and group join left out of both); when either has no steady figure
    // (one commit, one batch), both sides fall back to wall clock.
    const steady = t.steady !== undefined && t.bare.steadyRate !== undefined;
    const basis = steady ? 'steady, start-up and join left out' : 'wall clock: a run too short for a steady figure';
    const rate = steady ? t.steady!.rate : t.recordsPerSecond;
    const bare = steady ? t.bare.steadyRate! : t.bare.rate;
    rows.push({ target: `kafka: ≥ 100k msgs/s, 1 process, ${num(k.messages)} msgs (${steady ? 'steady' : 'wall clock'})`, floe: `${num(rate)} msgs/s`, peer: '', ratio: '', met: yes(rate >= 100_000) });
    rows.push({ target: `kafka: ≥ 40% of bare kafkajs (${basis})`, floe: `${num(rate)} msgs/s`, peer: `${num(bare)} msgs/s`, ratio: num(rate / bare, 2), met: yes(rate / bare >= 0.4) });
    rows.push({ target: 'kafka: same, wall clock incl. start-up and join', floe: `${num(t.recordsPerSecond)} msgs/s`, peer: `${num(t.bare.rate)} msgs/s`, ratio: num(t.ratioWall, 2), met: yes(t.ratioWall >= 0.4) });
    rows.push({ target: 'kafka: per CPU-second (steady)', floe: `${num(t.steady?.perCpuSecond)} msgs/cpu-s`, peer: `${num(t.bare.perCpuSecond)} msgs/cpu-s`, ratio: num(t.ratioCpu, 2), met: '(no target)' });
    const rss = t.workerPeakRssBytes[0];
    rows.push({ target: 'kafka: ingest worker peak RSS (VmHWM)', floe: rss ? `${num(rss / MiB)} MB` : '?', peer: '', ratio: '', met: 'reported' });
  }
  const fr = k.freshness;
  if (fr) {
    const limit = fr.windowMs + 1000;
    rows.push({ target: `kafka: freshness p99 ≤ window + 1 s (${(limit / 1000).toFixed(0)} s) at 20k msgs/s`, floe: `p99 ${(fr.p99Ms / 1000).toFixed(2)} s at ${num(fr.achievedRate)} msgs/s`, peer: '', ratio: '', met: fr.achievedRate >= 0.95 * 20_000 ? yes(fr.p99Ms <= limit) : `${yes(fr.p99Ms <= limit)} (rate short of 20k)` });
  }
  return rows;
}

function commitRows(c: CommitFigures): Row[] {
  const rows: Row[] = [];
  const first = c.floe[0];
  const last = c.floe.at(-1);
  if (!first || !last) return rows;
  const worstP50 = Math.max(...c.floe.map((w) => w.commitP50));
  const worstP99 = Math.max(...c.floe.map((w) => w.commitP99));
  const windows = `${c.floe.length} windows of ${last.to - last.from + 1} up to commit ${num(last.to)}`;
  rows.push({ target: `commits: p50 ≤ 8 ms, worst of ${windows} (commit phase)`, floe: `${num(worstP50, 2)} ms`, peer: '', ratio: '', met: yes(worstP50 <= 8) });
  rows.push({ target: 'commits: p99 ≤ 25 ms, worst window (commit phase)', floe: `${num(worstP99, 2)} ms`, peer: '', ratio: '', met: yes(worstP99 <= 25) });
  const flat = last.commitP50 / first.commitP50;
  rows.push({ target: `commits: flat ±20%, p50 commits ${last.from}–${last.to} ÷ ${first.from}–${first.to}`, floe: `${num(first.commitP50, 2)} → ${num(last.commitP50, 2)} ms`, peer: '', ratio: `×${num(flat, 2)}`, met: last === first ? '? (one window)' : yes(flat >= 0.8 && flat <= 1.2) });
  rows.push({ target: 'commits: end-to-end append p50, last window', floe: `${num(last.appendP50, 2)} ms`, peer: '', ratio: '', met: '(no target)' });
  if (c.pyiceberg) {
    const p = c.pyiceberg;
    rows.push({ target: `commits: append p50 vs pyiceberg, first ${p.commits} commits`, floe: `${num(p.floeAppendP50SameCommits, 2)} ms`, peer: `${num(p.appendP50, 1)} ms`, ratio: num(p.appendP50 / p.floeAppendP50SameCommits, 1), met: '(no target)' });
    rows.push({ target: `commits: append p99 vs pyiceberg, first ${p.commits} commits`, floe: `${num(p.floeAppendP99SameCommits, 2)} ms`, peer: `${num(p.appendP99, 1)} ms`, ratio: num(p.appendP99 / p.floeAppendP99SameCommits, 1), met: '(no target)' });
  }
  return rows;
}

function compactionRows(c: CompactionFigures): Row[] {
  const floe = c.engines.find((e) => e.engine === 'floe');
  const spark = c.engines.find((e) => e.engine === 'spark');
  const rows: Row[] = [];
  const ratio = floe && spark ? floe.mbPerSecond / spark.mbPerSecond : undefined;
  rows.push({ target: `compaction: ≥ 4× Spark rewrite_data_files (${num(c.files)} files)`, floe: floe ? `${num(floe.mbPerSecond, 1)} MB/s` : '?', peer: spark ? `${num(spark.mbPerSecond, 1)} MB/s` : '?', ratio: num(ratio, 2), met: ratio === undefined ? '?' : yes(ratio >= 4) });
  rows.push({ target: 'compaction: ≥ 60 MB/s of input', floe: floe ? `${num(floe.mbPerSecond, 1)} MB/s` : '?', peer: spark ? `${num(spark.mbPerSecond, 1)} MB/s` : '?', ratio: num(ratio, 2), met: floe ? yes(floe.mbPerSecond >= 60) : '?' });
  const rss = (e: CompactionEngine | undefined): number | undefined => (e ? (e.selfPeakRssBytes ?? e.polledPeakRssBytes) / MiB : undefined);
  rows.push({ target: 'compaction: peak RSS (VmHWM; Spark = JVM + Python)', floe: `${num(rss(floe))} MB`, peer: `${num(rss(spark))} MB`, ratio: floe && spark ? num(rss(spark)! / rss(floe)!, 2) : '?', met: 'reported' });
  return rows;
}

interface LargeCompactionFigures { gib: number; modes: { mode: string; mibPerSecond: number; peakRssBytes: number; cpuSeconds: number; copiedRowGroups: number }[] }

function largeCompactionRows(c: LargeCompactionFigures | undefined): Row[] {
  const copy = c?.modes.find((m) => m.mode === 'copy');
  if (!c || !copy) {
    return [{ target: 'compaction: 3 GiB → 1 GiB files ≥ 100 MB/s, RSS ≤ 512 MB', floe: 'not run (--quick)', peer: '', ratio: '', met: 'see test/bench/compaction-copy-bench.ts' }];
  }
  const decode = c.modes.find((m) => m.mode === 'decode');
  const rss = copy.peakRssBytes / MiB;
  return [{
    target: `compaction: ${c.gib} GiB → 1 GiB files ≥ 100 MB/s, RSS ≤ 512 MB (row groups copied: ${copy.copiedRowGroups})`,
    floe: `${num(copy.mibPerSecond, 1)} MiB/s, ${num(rss)} MB`, peer: decode ? `${num(decode.mibPerSecond, 1)} MiB/s re-encoding` : '',
    ratio: decode ? num(copy.mibPerSecond / decode.mibPerSecond, 2) : '', met: yes(copy.mibPerSecond * MiB / 1e6 >= 100 && rss <= 512),
  }];
}

function printTable(rows: readonly Row[]): void {
  const head: Row = { target: 'target', floe: 'floe', peer: 'peer', ratio: 'ratio', met: 'target met?' };
  const all = [head, ...rows];
  const w = (k: keyof Row): number => Math.max(...all.map((r) => r[k].length));
  const fmt = (r: Row): string => `${r.target.padEnd(w('target'))} | ${r.floe.padStart(w('floe'))} | ${r.peer.padStart(w('peer'))} | ${r.ratio.padStart(w('ratio'))} | ${r.met}`;
  console.log(fmt(head));
  console.log(`${'-'.repeat(w('target'))}-+-${'-'.repeat(w('floe'))}-+-${'-'.repeat(w('peer'))}-+-${'-'.repeat(w('ratio'))}-+-${'-'.repeat(11)}`);
  for (const r of rows) console.log(fmt(r));
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const only = args.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--only ${args.only}: unknown section(s) ${unknown.join(', ')}; expected some of ${SECTIONS.join(',')}`);
  const sections = SECTIONS.filter((s) => only.includes(s));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-peers-bench-'));
  const started = Date.now();
  console.log(`peers bench${args.quick ? ' (--quick: small sizes, figures indicative only, targets are for the full sizes)' : ''}: ${sections.join(', ')}`);
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, load ${loadNow()}`);
  const rows: Row[] = [];
  const loads: { section: Section; before: string; after: string; seconds: number }[] = [];
  const figures: Partial<Record<Section | "compactionLarge", unknown>> = {};
  const failures: string[] = [];
  try {
    for (const section of sections) {
      const before = loadNow();
      const t0 = Date.now();
      console.log(`\n=== ${section} (load before ${before}) ===`);
      try {
        const sdir = mkdtempSync(path.join(dir, `${section}-`));
        if (section === 'append') {
          const a = await appendSection(sdir);
          printAppend(a);
          rows.push(...appendRows(a));
          figures.append = a;
          failures.push(...a.errors.map((e) => `append: ${e}`));
        } else if (section === 'kafka') {
          const k = await benchJson<KafkaFigures>('kafka-ingest-bench.ts', SIZES.kafka, sdir);
          rows.push(...kafkaRows(k));
          figures.kafka = k;
        } else if (section === 'commits') {
          const c = await benchJson<CommitFigures>('commit-history-bench.ts', SIZES.commits, sdir);
          rows.push(...commitRows(c));
          figures.commits = c;
        } else {
          const c = await benchJson<CompactionFigures>('compaction-bench.ts', SIZES.compaction, sdir);
          rows.push(...compactionRows(c));
          figures.compaction = c;
          // Large row groups (the copy path): full sizes only, ~1 min.
          const large = args.quick ? undefined : await benchJson<LargeCompactionFigures>('compaction-copy-bench.ts', ['--gib', '3'], sdir);
          rows.push(...largeCompactionRows(large));
          figures.compactionLarge = large;
          if (c.failed) failures.push('compaction: the bench reported a failure (see above)');
        }
      } catch (err) {
        const msg = (err as Error).message.split('\n')[0]!;
        failures.push(`${section}: ${msg}`);
        rows.push({ target: `${section}: FAILED`, floe: '', peer: '', ratio: '', met: msg.slice(0, 80) });
      }
      const after = loadNow();
      loads.push({ section, before, after, seconds: (Date.now() - t0) / 1000 });
      console.log(`=== ${section} done in ${((Date.now() - t0) / 1000).toFixed(0)} s (load ${before} → ${after}) ===`);
    }
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }

  console.log(`\n=== floe vs peers${args.quick ? ' (--quick sizes: indicative only)' : ''}: ratio > 1 means floe is ahead (rate ÷ rate, or latency ÷ latency inverted) ===`);
  printTable(rows);
  console.log('\nload average (1, 5, 15 min) around each section:');
  for (const l of loads) console.log(`  ${l.section.padEnd(10)} ${l.before} → ${l.after}  (${l.seconds.toFixed(0)} s)`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; reproduce: npm run bench:peers --${args.quick ? ' --quick' : ''} --only ${sections.join(',')}`);
  if (failures.length > 0) {
    console.log(`\nFAILURES:\n${failures.map((f) => `  ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ quick: args.quick, sections, loads, rows, figures, failures }, null, 1)}\n`);
}

if (args['child-append']) await childAppend();
else await main();
