// Benchmark (not a test): what one commit costs on each catalog. N small appends (the same
// prepared batch of --rows rows each, one small data file per commit) to one table, one
// process committing sequentially, on SQLite, PostgreSQL and REST in the same run:
//   append   the whole appendRecords call: load the table, write the data file, commit;
//   write    the data file (to Arrow, Parquet, file IO);
//   commit   everything after the data file: manifest + manifest list, then the catalog commit;
//   catalog  the catalog's commitTable alone: metadata JSON write + pointer swap (SQL catalogs),
//            the POST /v1/…/tables/<t> (REST: the server writes the metadata file).
// Then the concurrent variant: --writers processes (default 4) × --concurrent-commits appends
// each on one table per catalog: commits/s and retries. And the peer: pyiceberg's table.append
// of the same rows through the same catalogs (--py-commits, default 200), as floe/pyiceberg
// ratios against floe's first --py-commits commits (same table size: cost grows with history).
//
//   npm run bench:catalog                                   # 1,000 commits per catalog
//   npm run bench:catalog -- --commits 200 --concurrent-commits 25 --py-commits 50   # quick
//   npm run bench:catalog -- --catalogs sqlite,rest         # a subset
//
// PostgreSQL and the REST server are started through test/support (scripts/pg.sh, scripts/rest.sh;
// FLOE_PG_PORT / FLOE_REST_PORT / FLOE_REST_DIR choose other instances) and left running, as the
// tests leave them. pyiceberg comes from FLOE_VENV (default .venv; the PostgreSQL peer needs
// psycopg2 in it). Each side runs in its own child process, its process tree polled for RSS.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { parseTableIdentifier, type TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { APPEND_WORKER_SCHEMA } from '../support/append-worker.ts';
import { ensurePostgres, testDatabase, type TestDatabase } from '../support/postgres.ts';
import { VENV_PYTHON } from '../support/readers.ts';
import { ensureRestCatalog } from '../support/rest.ts';
import { watchTreeRss } from './process-tree-rss.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    commits: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '10' },
    catalogs: { type: 'string', default: 'sqlite,postgres,rest' },
    writers: { type: 'string', default: '4' },
    'concurrent-commits': { type: 'string', default: '100' },
    'py-commits': { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
    uri: { type: 'string' },
    warehouse: { type: 'string' },
    table: { type: 'string' },
    worker: { type: 'string', default: '0' },
  },
});

type Kind = 'sqlite' | 'postgres' | 'rest';
/** Where one catalog's tables live: `uri` as openCatalog takes it ('' = <warehouse>/catalog.db). */
interface Target { kind: Kind; uri: string; warehouse: string; namespace: string; pyUri: string }
interface CommitTiming { appendMs: number; writeMs: number; commitMs: number; catalogMs: number; attempts: number }
interface ChildResult { timings: CommitTiming[]; startMs: number; endMs: number; cpuSeconds: number; snapshots?: number }

const RETRY_PROPERTIES = { 'commit.retry.num-retries': '200', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '500' };

function records(n: number, worker: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${worker * 1_000_000 + i}`, worker, batch: 0, payload: `w${worker}-b0-r${i}` }));
}

const openTarget = (uri: string, warehouse: string): Promise<Catalog> => openCatalog({ warehouse, ...(uri ? { uri } : {}) });

/** A child: `seq` appends --commits times; `conc` waits for "go" on stdin, then does the same. */
async function child(mode: string): Promise<void> {
  const catalog = await openTarget(args.uri ?? '', args.warehouse ?? '');
  const id = parseTableIdentifier(args.table!);
  const batch = records(Number(args.rows), Number(args.worker));
  if (mode === 'conc') {
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  }
  const timings: CommitTiming[] = [];
  const cpu0 = process.cpuUsage();
  const startMs = Date.now();
  for (let i = 0; i < Number(args.commits); i++) {
    let swapAt = 0;
    const t0 = performance.now();
    const r = await appendRecords(catalog, id, batch, { hooks: { beforeSwap: () => { swapAt = performance.now(); } } });
    const t1 = performance.now();
    const w = r.timings;
    timings.push({ appendMs: t1 - t0, writeMs: w.toArrowMs + w.parquetMs + w.ioMs, commitMs: w.commitMs, catalogMs: t1 - swapAt, attempts: r.attempts });
  }
  const endMs = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const snapshots = mode === 'seq' ? (await catalog.loadTable(id)).metadata.snapshots.length : undefined;
  await catalog.close();
  const result: ChildResult = { timings, startMs, endMs, cpuSeconds: (cpu.user + cpu.system) / 1e6, ...(snapshots !== undefined ? { snapshots } : {}) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

interface Spawned { out: string; code: number | null; peakRssBytes: number }

function runProcess(cmd: string, argv: string[], onReady?: (p: ReturnType<typeof spawn>) => void): Promise<Spawned> {
  const p = spawn(cmd, argv, { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  const watch = watchTreeRss(p.pid!);
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (onReady && out.includes('ready\n')) { const f = onReady; onReady = undefined; f(p); }
  });
  return new Promise((resolve) => p.on('close', (code) => resolve({ out, code, peakRssBytes: watch.stop() })));
}

const lastJson = <T>(s: Spawned, what: string): T => {
  if (s.code !== 0) throw new Error(`${what} exited with ${s.code}`);
  return JSON.parse(s.out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as T;
};

const childArgv = (mode: string, t: Target, table: string, commits: number, worker = 0): string[] => [
  '--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--uri', t.uri, '--warehouse', t.warehouse,
  '--table', table, '--commits', String(commits), '--rows', args.rows!, '--worker', String(worker),
];

async function createTable(t: Target, name: string, properties: Record<string, string> = {}): Promise<TableIdentifier> {
  const c = await openTarget(t.uri, t.warehouse);
  try {
    if (!(await c.namespaceExists([t.namespace]))) await c.createNamespace([t.namespace]);
    const id = { namespace: [t.namespace], name };
    await c.createTable(id, { schema: APPEND_WORKER_SCHEMA, properties });
    return id;
  } finally {
    await c.close();
  }
}

async function sequential(t: Target, commits: number): Promise<ChildResult & { peakRssBytes: number }> {
  await createTable(t, 'seq');
  const s = await runProcess(process.execPath, childArgv('seq', t, `${t.namespace}.seq`, commits));
  return { ...lastJson<ChildResult>(s, `${t.kind} sequential child`), peakRssBytes: s.peakRssBytes };
}

interface ConcurrentResult { commits: number; seconds: number; retries: number; maxAttempts: number; p50: number; p99: number; peakRssBytes: number; snapshots: number }

async function concurrent(t: Target, writers: number, each: number): Promise<ConcurrentResult> {
  const id = await createTable(t, 'conc', RETRY_PROPERTIES);
  let ready = 0;
  const waiting: ReturnType<typeof spawn>[] = [];
  const runs = await Promise.all(Array.from({ length: writers }, (_, w) => runProcess(process.execPath, childArgv('conc', t, `${t.namespace}.conc`, each, w), (p) => {
    waiting.push(p);
    // All writers start committing together, once every process has started and opened its catalog.
    if (++ready === writers) for (const q of waiting) q.stdin!.end('go\n');
  })));
  const results = runs.map((r, w) => lastJson<ChildResult>(r, `${t.kind} writer ${w}`));
  const timings = results.flatMap((r) => r.timings);
  const c = await openTarget(t.uri, t.warehouse);
  const snapshots = (await c.loadTable(id)).metadata.snapshots.length;
  await c.close();
  return {
    commits: timings.length,
    seconds: (Math.max(...results.map((r) => r.endMs)) - Math.min(...results.map((r) => r.startMs))) / 1000,
    retries: timings.reduce((a, x) => a + x.attempts - 1, 0),
    maxAttempts: Math.max(...timings.map((x) => x.attempts)),
    p50: pct(timings.map((x) => x.appendMs), 50),
    p99: pct(timings.map((x) => x.appendMs), 99),
    peakRssBytes: runs.reduce((a, r) => a + r.peakRssBytes, 0),
    snapshots,
  };
}

interface PyResult { latencies: number[]; wallSeconds: number; cpuSeconds: number; snapshots: number; peakRssBytes: number }

async function pyiceberg(t: Target, commits: number): Promise<PyResult> {
  await createTable(t, 'py');
  const script = path.join(REPO, 'test/bench/catalog_commit_pyiceberg.py');
  const s = await runProcess(VENV_PYTHON, [script, t.kind, t.pyUri, t.warehouse ? `file://${t.warehouse}` : '', `${t.namespace}.py`, String(commits), args.rows!]);
  return { ...lastJson<Omit<PyResult, 'peakRssBytes'>>(s, `${t.kind} pyiceberg`), peakRssBytes: s.peakRssBytes };
}

async function main(): Promise<void> {
  if (args.child) return child(args.child);
  const kinds = args.catalogs!.split(',').map((k) => k.trim()) as Kind[];
  for (const k of kinds) if (!['sqlite', 'postgres', 'rest'].includes(k)) throw new Error(`--catalogs: unknown catalog '${k}' (sqlite, postgres, rest)`);
  const commits = Number(args.commits);
  const writers = Number(args.writers);
  const each = Number(args['concurrent-commits']);
  const pyCommits = Math.min(Number(args['py-commits']), commits);
  const havePython = pyCommits > 0 && existsSync(VENV_PYTHON);
  console.log(`catalog commit benchmark: ${commits.toLocaleString('en-US')} sequential appends of ${args.rows} rows per catalog`
    + `${each > 0 ? `, ${writers} writers × ${each} concurrent appends` : ''}`
    + `${havePython ? `, pyiceberg peer ${pyCommits} appends` : pyCommits > 0 ? ` (pyiceberg peer skipped: no ${VENV_PYTHON}; set FLOE_VENV)` : ''}`
    + `; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);

  const dirs: string[] = [];
  const dbs: TestDatabase[] = [];
  const targets: Target[] = [];
  const namespace = `bench_${randomBytes(4).toString('hex')}`;
  for (const kind of kinds) {
    const dir = kind === 'rest' ? '' : mkdtempSync(path.join(os.tmpdir(), `floe-bench-catalog-${kind}-`));
    if (dir) dirs.push(dir);
    if (kind === 'sqlite') targets.push({ kind, uri: '', warehouse: dir, namespace, pyUri: `sqlite:///${path.join(dir, 'catalog.db')}` });
    if (kind === 'postgres') {
      await ensurePostgres();
      const db = await testDatabase('floe_bench');
      dbs.push(db);
      targets.push({ kind, uri: db.uri, warehouse: dir, namespace, pyUri: db.uri.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://') });
    }
    if (kind === 'rest') {
      // The server is shared (one warehouse): the benchmark's tables live in a namespace of its own.
      const server = await ensureRestCatalog();
      targets.push({ kind, uri: `rest+${server.uri}`, warehouse: '', namespace, pyUri: server.uri });
    }
  }

  const seq = new Map<Kind, Awaited<ReturnType<typeof sequential>>>();
  const conc = new Map<Kind, ConcurrentResult>();
  const py = new Map<Kind, PyResult>();
  try {
    for (const t of targets) {
      console.log(`  ${t.kind}: ${commits} sequential appends …`);
      seq.set(t.kind, await sequential(t, commits));
      if (each > 0) {
        console.log(`  ${t.kind}: ${writers} writers × ${each} appends …`);
        conc.set(t.kind, await concurrent(t, writers, each));
      }
      if (havePython) {
        console.log(`  ${t.kind}: pyiceberg ${pyCommits} appends …`);
        py.set(t.kind, await pyiceberg(t, pyCommits));
      }
    }
  } finally {
    if (!args.keep) {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      for (const db of dbs) await db.drop();
      const rest = targets.find((t) => t.kind === 'rest');
      if (rest) {
        await dropNamespace(rest).catch((e: unknown) => console.error(`could not drop REST namespace ${namespace}: ${String(e)}`));
        // The purge removes the files; the server leaves the namespace's empty folders.
        rmSync(path.join((await ensureRestCatalog()).warehouseDir, namespace), { recursive: true, force: true });
      }
    }
  }
  report(targets.map((t) => t.kind), seq, conc, py, pyCommits);
}

async function dropNamespace(t: Target): Promise<void> {
  const c = await openTarget(t.uri, t.warehouse);
  try {
    for (const id of await c.listTables([t.namespace])) await c.dropTable(id, { purge: true });
    await c.dropNamespace([t.namespace]);
  } finally {
    await c.close();
  }
}

function report(kinds: Kind[], seq: Map<Kind, Awaited<ReturnType<typeof sequential>>>, conc: Map<Kind, ConcurrentResult>, py: Map<Kind, PyResult>, pyCommits: number): void {
  const ms = (x: number): string => x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const ratio = (a: number, b: number | undefined): string => b ? `×${(a / b).toFixed(2)}` : '';
  const row = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const base = seq.get('sqlite');
  const col = (r: ChildResult, k: keyof CommitTiming): number[] => r.timings.map((x) => x[k]);
  const cps = (r: ChildResult): number => r.timings.length / ((r.endMs - r.startMs) / 1000);

  console.log('\nSequential: one process, one table; latencies in ms (commit = manifests + catalog; catalog = metadata write + swap)');
  const w1 = [9, 9, 10, 10, 10, 10, 10, 11, 11, 9, 9, 10, 10, 9];
  console.log(row(['catalog', 'commits/s', 'append p50', 'commit p50', 'commit p90', 'commit p99', 'commit max', 'catalog p50', 'catalog p99', 'write p50', 'snapshots', 'p50/sqlite', 'c/s/sqlite', 'peak RSS'], w1));
  for (const k of kinds) {
    const r = seq.get(k)!;
    const c = col(r, 'commitMs');
    const b50 = base ? pct(col(base, 'commitMs'), 50) : undefined;
    console.log(row([k, cps(r).toFixed(1), ms(pct(col(r, 'appendMs'), 50)), ms(pct(c, 50)), ms(pct(c, 90)), ms(pct(c, 99)), ms(Math.max(...c)),
      ms(pct(col(r, 'catalogMs'), 50)), ms(pct(col(r, 'catalogMs'), 99)), ms(pct(col(r, 'writeMs'), 50)), String(r.snapshots ?? ''),
      ratio(pct(c, 50), b50), base ? ratio(cps(r), cps(base)) : '', mib(r.peakRssBytes)], w1));
  }
  // How the commit grows with history: the first and the last tenth.
  console.log('\nCommit p50 over the first and the last 10% of commits (ms): growth with table history');
  for (const k of kinds) {
    const c = col(seq.get(k)!, 'commitMs');
    const tenth = Math.max(1, Math.floor(c.length / 10));
    console.log(`  ${k.padEnd(9)} first ${ms(pct(c.slice(0, tenth), 50)).padStart(7)}   last ${ms(pct(c.slice(-tenth), 50)).padStart(7)}   CPU ${seq.get(k)!.cpuSeconds.toFixed(1)} s`);
  }

  if (conc.size > 0) {
    console.log('\nConcurrent: writer processes on one table (append latency includes retries and backoff)');
    const w2 = [9, 8, 9, 9, 8, 13, 11, 11, 10, 10];
    console.log(row(['catalog', 'commits', 'seconds', 'commits/s', 'retries', 'max attempts', 'append p50', 'append p99', 'snapshots', 'peak RSS'], w2));
    for (const k of kinds) {
      const r = conc.get(k);
      if (!r) continue;
      console.log(row([k, String(r.commits), r.seconds.toFixed(1), (r.commits / r.seconds).toFixed(1), String(r.retries), String(r.maxAttempts), ms(r.p50), ms(r.p99), String(r.snapshots), mib(r.peakRssBytes)], w2));
    }
  }

  if (py.size > 0) {
    console.log(`\nPeer: pyiceberg table.append of the same rows, ${pyCommits} appends; floe = its first ${pyCommits} sequential appends (same table size)`);
    const w3 = [9, 12, 12, 13, 11, 11, 12, 12, 10, 12];
    console.log(row(['catalog', 'py append/s', 'py p50', 'py p99', 'floe p50', 'floe p99', 'floe/py p50', 'floe/py a/s', 'py RSS', 'floe/py RSS'], w3));
    for (const k of kinds) {
      const p = py.get(k);
      if (!p) continue;
      const r = seq.get(k)!;
      const first = col(r, 'appendMs').slice(0, pyCommits);
      const floeRate = first.length / (first.reduce((a, b) => a + b, 0) / 1000);
      const pyRate = p.latencies.length / (p.latencies.reduce((a, b) => a + b, 0) / 1000);
      console.log(row([k, pyRate.toFixed(1), ms(pct(p.latencies, 50)), ms(pct(p.latencies, 99)), ms(pct(first, 50)), ms(pct(first, 99)),
        ratio(pct(first, 50), pct(p.latencies, 50)), ratio(floeRate, pyRate), mib(p.peakRssBytes), ratio(r.peakRssBytes, p.peakRssBytes)], w3));
    }
  }
  console.log(`\nreproduce: npm run bench:catalog -- --commits ${args.commits} --rows ${args.rows} --catalogs ${args.catalogs} --writers ${args.writers} --concurrent-commits ${args['concurrent-commits']} --py-commits ${args['py-commits']}`);
}

await main();
