// Benchmark (not a test): does a commit stay as fast when the table has a long history? One
// process appends the same small batch (--rows rows, one data file) --commits times to one
// table on a SQLite catalog, no snapshot expiry (superseded metadata files are deleted between
// commits, untimed, to bound the disk used), and prints commit latency per window of
// --window commits ending at each of --at (default: commits 1–100, then 901–1,000, 1,901–2,000,
// … every 1,000th commit up to 9,901–10,000):
//   commit   everything after the data file is written: manifests, manifest list, metadata
//            JSON, catalog swap (what grows with history if anything does);
//   catalog  the catalog's commitTable alone (metadata JSON + pointer swap);
//   append   the whole appendRecords call (load, write the data file, commit);
//   app CPU  the CPU time (user + system) of that call: on a shared, loaded machine wall time
//            mostly measures the other processes, CPU time what floe itself does.
// Then where the time goes: per commit the phases (manifest / manifest-list / metadata-file
// writes with their fsync, each on its own and the wall time they span together — they run side
// by side —, reads, metadata build, SQLite swap, GC pauses), the slowest 1%
// against the median.
// Then pyiceberg's table.append of the same rows through the same catalog for its first
// --py-commits commits (it is much slower; a few hundred are enough to see its trend).
//
//   npm run bench:commits                                   # 10,000 commits, pyiceberg 300
//   npm run bench:commits -- --commits 2000 --py-commits 0          # quick
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/commit-history-bench.ts --py-commits 0
//
// pyiceberg comes from FLOE_VENV (default .venv). --json FILE also writes the figures as JSON
// (for test/bench/peers-bench.ts); the printed output stays the same.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { APPEND_WORKER_SCHEMA } from '../support/append-worker.ts';
import { VENV_PYTHON } from '../support/readers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    commits: { type: 'string', default: '10000' },
    rows: { type: 'string', default: '10' },
    window: { type: 'string', default: '100' },
    /** Window ends; default: commit 100, then every 1,000th commit up to --commits. */
    at: { type: 'string' },
    'py-commits': { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
    /** Also write the summary figures to this file as JSON. */
    json: { type: 'string' },
  },
});

interface Timing { appendMs: number; commitMs: number; catalogMs: number; /** commit time outside every timed phase (GC overlaps them). */ other: number; /** CPU (user + system) of the whole append: less sensitive to a loaded machine than wall time. */ cpuMs: number; phases: Phases; at: { start: number; end: number } }

/** Where one commit's time went (ms), from a FileIO wrapper, the swap hook and GC entries. */
interface Phases {
  /** writeNew of the added (and merged / rewritten) manifests. */
  manifestWrite: number;
  /** writeNew of the manifest list. */
  listWrite: number;
  /** io.read during the commit (parent manifest list, manifests a merge reads). */
  read: number;
  /** beforeSwap → metadata writeNew starts: load (cached), requirements, applyUpdates, JSON bytes. */
  metadataBuild: number;
  /** writeNew of the metadata file (write + fsync + link). */
  metadataWrite: number;
  /** The wall time the three kinds of writes above span together: they run side by side (the
   * manifests and manifest list are started before the catalog writes the metadata file, which
   * waits for them before its swap), so their own times add up to more than this. */
  writes: number;
  /** last write done → commitTable returns: the SQLite compare-and-swap. */
  swap: number;
  /** GC pauses that ended within the commit phase. */
  gc: number;
  /** Manifests a merge wrote (0 on most commits). */
  merged: number;
}
const PHASES = ['manifestWrite', 'listWrite', 'read', 'metadataBuild', 'metadataWrite', 'writes', 'swap', 'gc'] as const;
/** Phases that do not overlap one another (other = commit − their union's length). */
type Interval = readonly [number, number];

function unionLength(intervals: Interval[]): number {
  intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of intervals) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

async function floe(warehouse: string, commits: number, rows: number): Promise<{ timings: Timing[]; cpuSeconds: number; snapshots: number; gcSummary: string }> {
  const catalog = await openCatalog({ warehouse });
  const id = { namespace: ['bench'], name: 'history' };
  await catalog.createNamespace(['bench']);
  await catalog.createTable(id, { schema: APPEND_WORKER_SCHEMA });
  const batch = Array.from({ length: rows }, (_, i) => ({ id: `${i}`, worker: 0, batch: 0, payload: `w0-b0-r${i}` }));
  const timings: Timing[] = [];
  const superseded: string[] = [];
  // Phase timings: the catalog's FileIO is wrapped (instance methods replaced) so every write and
  // read of the commit is timed by the kind of file; GC pauses come from a PerformanceObserver.
  let ph = emptyPhases();
  let metadataWriteStart = 0;
  let writeSpans: Interval[] = [];
  let readSpans: Interval[] = [];
  let commitStart = Infinity;
  const io = catalog.io;
  const writeNew = io.writeNew.bind(io);
  const read = io.read.bind(io);
  io.writeNew = async (uri, bytes) => {
    const t = performance.now();
    if (uri.endsWith('.metadata.json')) metadataWriteStart = t;
    try { await writeNew(uri, bytes); } finally {
      const end = performance.now();
      const d = end - t;
      writeSpans.push([t, end]);
      if (uri.endsWith('.metadata.json')) ph.metadataWrite += d;
      else if (/\/snap-[^/]*\.avro$/.test(uri)) ph.listWrite += d;
      else if (uri.endsWith('.avro')) { ph.manifestWrite += d; if (uri.includes('-merged-')) ph.merged++; }
    }
  };
  io.read = async (uri) => {
    const t = performance.now();
    // The append's load is served from the catalog's cache and the data file is only written,
    // so every read of an append belongs to its commit.
    try { return await read(uri); } finally {
      const end = performance.now();
      ph.read += end - t;
      readSpans.push([t, end]);
    }
  };
  const gcs: { end: number; ms: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ end: e.startTime + e.duration, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  });
  obs.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < commits; i++) {
    let swapAt = 0;
    ph = emptyPhases();
    writeSpans = [];
    readSpans = [];
    commitStart = Infinity;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await appendRecords(catalog, id, batch, { hooks: { beforeSwap: () => { swapAt = performance.now(); } } });
    const t1 = performance.now();
    commitStart = t1 - r.timings.commitMs;
    // GC entries are delivered asynchronously: attributed after the loop by their end time.
    ph.metadataBuild = metadataWriteStart - swapAt;
    // Data files are written before the commit starts: only the commit's writes count.
    const commitWrites = writeSpans.filter(([s]) => s >= commitStart);
    const lastWriteEnd = Math.max(...commitWrites.map(([, e]) => e));
    ph.swap = t1 - lastWriteEnd;
    ph.writes = unionLength([...commitWrites]);
    const c1 = process.cpuUsage(c0);
    const covered = unionLength([...commitWrites, ...readSpans, [swapAt, metadataWriteStart], [lastWriteEnd, t1]]);
    timings.push({ cpuMs: (c1.user + c1.system) / 1000, appendMs: t1 - t0, commitMs: r.timings.commitMs, catalogMs: t1 - swapAt, phases: ph, other: r.timings.commitMs - covered, at: { start: commitStart, end: t1 } });
    // Untimed: superseded metadata files go (10,000 commits would otherwise leave ~35 GB of
    // them), as write.metadata.delete-after-commit.enabled would remove them in Iceberg Java.
    if (superseded.length >= 2) await catalog.io.delete(superseded.shift()!);
    superseded.push(r.table.metadataLocation);
    if ((i + 1) % 1000 === 0) process.stderr.write(`  floe: ${i + 1} commits, last commit ${ms(r.timings.commitMs)} ms\n`);
  }
  const cpu = process.cpuUsage(cpu0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  obs.disconnect();
  io.writeNew = writeNew;
  io.read = read;
  // GC pauses count for the commit phase they ended in.
  gcs.sort((a, b) => a.end - b.end);
  let g = 0;
  for (const t of timings) {
    while (g < gcs.length && gcs[g]!.end < t.at.start) g++;
    for (let k = g; k < gcs.length && gcs[k]!.end <= t.at.end; k++) t.phases.gc += gcs[k]!.ms;
  }
  const snapshots = (await catalog.loadTable(id)).metadata.snapshots.length;
  await catalog.close();
  // perf_hooks constants.NODE_PERFORMANCE_GC_*: 1 minor (scavenge), 4 major (mark-compact),
  // 8 incremental marking step, 16 weak callbacks.
  const gcKinds = [[1, 'minor'], [4, 'major'], [8, 'incremental'], [16, 'weak callbacks']] as const;
  const gcSummary = gcKinds.map(([k, name]) => {
    const xs = gcs.filter((g) => g.kind === k).map((g) => g.ms);
    return xs.length === 0 ? '' : `${name} ${xs.length} × (total ${xs.reduce((a, b) => a + b, 0).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(1)}, max ${Math.max(...xs).toFixed(1)} ms)`;
  }).filter((x) => x !== '').join('; ');
  return { timings, cpuSeconds: (cpu.user + cpu.system) / 1e6, snapshots, gcSummary };
}

function emptyPhases(): Phases {
  return { manifestWrite: 0, listWrite: 0, read: 0, metadataBuild: 0, metadataWrite: 0, writes: 0, swap: 0, gc: 0, merged: 0 };
}

/** Mean phase times of the slowest 1% of commits in [from, to] against the commits around the median. */
function phaseBreakdown(t: readonly Timing[]): { slow: Record<string, number>; median: Record<string, number>; slowMs: number; medianMs: number; slowMerging: number } {
  const byCommit = [...t].sort((a, b) => a.commitMs - b.commitMs);
  const n = Math.max(1, Math.round(byCommit.length / 100));
  const slow = byCommit.slice(-n);
  const mid = Math.floor(byCommit.length / 2);
  const median = byCommit.slice(Math.max(0, mid - n), mid + n);
  const mean = (xs: readonly Timing[], f: (x: Timing) => number): number => xs.reduce((a, x) => a + f(x), 0) / xs.length;
  const of = (xs: readonly Timing[]): Record<string, number> => {
    const r: Record<string, number> = {};
    for (const k of PHASES) r[k] = mean(xs, (x) => x.phases[k]);
    r.other = mean(xs, (x) => x.other);
    return r;
  }
  return { slow: of(slow), median: of(median), slowMs: mean(slow, (x) => x.commitMs), medianMs: mean(median, (x) => x.commitMs), slowMerging: slow.filter((x) => x.phases.merged > 0).length / slow.length };
}

async function pyiceberg(warehouse: string, commits: number, rows: number): Promise<number[]> {
  const catalog = await openCatalog({ warehouse });
  await catalog.createTable({ namespace: ['bench'], name: 'py' }, { schema: APPEND_WORKER_SCHEMA });
  await catalog.close();
  const script = path.join(REPO, 'test/bench/catalog_commit_pyiceberg.py');
  const p = spawn(VENV_PYTHON, [script, 'sqlite', `sqlite:///${path.join(warehouse, 'catalog.db')}`, `file://${warehouse}`, 'bench.py', String(commits), String(rows)],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  if (code !== 0) throw new Error(`pyiceberg exited with ${code}`);
  return (JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { latencies: number[] }).latencies;
}

function windows(total: number): { from: number; to: number }[] {
  const width = Number(args.window);
  const at = args.at ?? [100, ...Array.from({ length: Math.floor(total / 1000) }, (_, i) => (i + 1) * 1000)].join(',');
  return at.split(',').map(Number).filter((end) => end <= total).map((end) => ({ from: Math.max(1, end - width + 1), to: end }));
}

async function main(): Promise<void> {
  const commits = Number(args.commits);
  const rows = Number(args.rows);
  const pyCommits = Math.min(Number(args['py-commits']), commits);
  const havePython = pyCommits > 0 && existsSync(VENV_PYTHON);
  console.log(`commit-history benchmark: ${commits.toLocaleString('en-US')} appends of ${rows} rows, SQLite catalog, no expiry`
    + `${havePython ? `; pyiceberg ${pyCommits} appends` : pyCommits > 0 ? ` (pyiceberg skipped: no ${VENV_PYTHON}; set FLOE_VENV)` : ''}`
    + `; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const loadBefore = os.loadavg();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-bench-history-'));
  try {
    const f = await floe(dir, commits, rows);
    const py = havePython ? await pyiceberg(dir, pyCommits, rows) : [];
    const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(15) : c.padStart(11))).join(' ');
    console.log(`\nfloe: ${f.snapshots} snapshots at the end, CPU ${f.cpuSeconds.toFixed(1)} s; latencies in ms`);
    console.log(row(['commits', 'commit p50', 'commit p99', 'commit max', 'catalog p50', 'catalog p99', 'append p50', 'append p99', 'app CPU p50']));
    for (const w of windows(commits)) {
      const t = f.timings.slice(w.from - 1, w.to);
      const c = t.map((x) => x.commitMs);
      const k = t.map((x) => x.catalogMs);
      const a = t.map((x) => x.appendMs);
      console.log(row([`${w.from}–${w.to}`, ms(pct(c, 50)), ms(pct(c, 99)), ms(Math.max(...c)), ms(pct(k, 50)), ms(pct(k, 99)), ms(pct(a, 50)), ms(pct(a, 99)), ms(pct(t.map((x) => x.cpuMs), 50))]));
    }
    const slowest = f.timings.map((t, i) => ({ i: i + 1, ms: t.commitMs })).sort((a, b) => b.ms - a.ms).slice(0, 8);
    console.log(`slowest commits: ${slowest.map((x) => `#${x.i} ${ms(x.ms)}`).join(', ')}`);
    // Where the time goes: the slowest 1% of all commits (and of the last window) vs the median.
    const breakdowns = [{ label: `all ${commits}`, t: f.timings }];
    const lastW = windows(commits).at(-1);
    if (lastW) breakdowns.push({ label: `${lastW.from}–${lastW.to}`, t: f.timings.slice(lastW.from - 1, lastW.to) });
    console.log(`\ncommit phases (mean ms): slowest 1% vs the commits around the median; writes = the wall time the three writes span together (they overlap); other = commit time outside writes, reads, metaBuild and swap (GC overlaps them)`);
    console.log(row(['commits', 'set', 'commit', ...PHASES.map((k) => k.replace('metadata', 'meta')), 'other', 'merging']));
    for (const b of breakdowns) {
      const r = phaseBreakdown(b.t);
      console.log(row([b.label, 'median', ms(r.medianMs), ...PHASES.map((k) => ms(r.median[k]!)), ms(r.median.other!), '']));
      console.log(row(['', 'slowest 1%', ms(r.slowMs), ...PHASES.map((k) => ms(r.slow[k]!)), ms(r.slow.other!), `${(r.slowMerging * 100).toFixed(0)}%`]));
    }
    const merges = f.timings.filter((t) => t.phases.merged > 0).length;
    const gcTotal = f.timings.reduce((a, t) => a + t.phases.gc, 0);
    console.log(`commits that merged manifests: ${merges}; GC in commit phases: ${gcTotal.toFixed(0)} ms in total`);
    console.log(`GC pauses over the whole run: ${f.gcSummary}`);
    const first = windows(commits)[0];
    const last = windows(commits).at(-1);
    if (first && last && last !== first) {
      const p50 = (w: { from: number; to: number }): number => pct(f.timings.slice(w.from - 1, w.to).map((x) => x.commitMs), 50);
      console.log(`commit p50 ${last.from}–${last.to} / ${first.from}–${first.to}: ×${(p50(last) / p50(first)).toFixed(2)}`);
    }
    const floeWindows = windows(commits).map((w) => {
      const t = f.timings.slice(w.from - 1, w.to);
      const c = t.map((x) => x.commitMs);
      const k = t.map((x) => x.catalogMs);
      const a = t.map((x) => x.appendMs);
      return { from: w.from, to: w.to, appendCpuP50: pct(t.map((x) => x.cpuMs), 50), commitP50: pct(c, 50), commitP99: pct(c, 99), commitMax: Math.max(...c), catalogP50: pct(k, 50), catalogP99: pct(k, 99), appendP50: pct(a, 50), appendP99: pct(a, 99) };
    });
    const pyWindows: { from: number; to: number; appendP50: number; appendP99: number; appendMax: number; floeAppendP50: number }[] = [];
    if (py.length > 0) {
      console.log(`\npyiceberg table.append, same rows, same catalog (append latency, ms)`);
      console.log(row(['commits', 'append p50', 'append p99', 'append max', 'floe app p50', 'floe/py p50']));
      const width = Number(args.window);
      for (let from = 1; from <= py.length; from += width) {
        const to = Math.min(py.length, from + width - 1);
        const p = py.slice(from - 1, to);
        const fl = f.timings.slice(from - 1, to).map((x) => x.appendMs);
        console.log(row([`${from}–${to}`, ms(pct(p, 50)), ms(pct(p, 99)), ms(Math.max(...p)), ms(pct(fl, 50)), `×${(pct(fl, 50) / pct(p, 50)).toFixed(3)}`]));
        pyWindows.push({ from, to, appendP50: pct(p, 50), appendP99: pct(p, 99), appendMax: Math.max(...p), floeAppendP50: pct(fl, 50) });
      }
    }
    if (args.json) {
      const pyFloe = f.timings.slice(0, py.length).map((x) => x.appendMs);
      writeFileSync(args.json, `${JSON.stringify({
        commits, rows, snapshots: f.snapshots, floeCpuSeconds: f.cpuSeconds, floe: floeWindows,
        pyiceberg: py.length > 0 ? { commits: py.length, appendP50: pct(py, 50), appendP99: pct(py, 99), floeAppendP50SameCommits: pct(pyFloe, 50), floeAppendP99SameCommits: pct(pyFloe, 99), windows: pyWindows } : undefined,
        peakRssBytes: process.resourceUsage().maxRSS * 1024, loadBefore, loadAfter: os.loadavg(),
      }, null, 1)}\n`);
    }
    console.log(`\nload after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`reproduce: npm run bench:commits -- --commits ${commits} --rows ${rows} --window ${args.window}${args.at ? ` --at ${args.at}` : ''} --py-commits ${args['py-commits']}`);
  } finally {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
