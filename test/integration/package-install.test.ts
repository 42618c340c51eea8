// The package people install (issue 13, item 1): `npm pack` of a copy of the sources (its
// prepack compiles them to dist/), `npm install <tarball> --omit=dev` into an empty folder, then
// there, with no tsx, TypeScript or other devDependency installed:
//   - `npx floe --help`, `npx floe demo` (read back through DuckDB when a reader venv exists:
//     always under CI=true) and `npx floe compact --concurrency 2` (compiled worker threads);
//   - an ESM TypeScript program importing `floe`, `floe/compaction` and `floe/ingest`, compiled
//     by the repository's tsc against the installed package's declarations and run by plain node.
// The sources are copied so that the test never touches the repository's own dist/.
//
// Native code: better-sqlite3's install script downloads a prebuilt binary, which this machine's
// network cannot reach, and falls back to compiling SQLite (minutes on two cores). The install
// therefore runs with --ignore-scripts (floe itself has none) and puts the repository's own build
// of the same better-sqlite3 version where that script would; FLOE_PACK_TEST_NATIVE_BUILD=1 runs
// the real install scripts instead.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VENV_PYTHON } from '../support/readers.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(os.tmpdir(), 'floe-pack-'));
const app = path.join(work, 'app');
const warehouse = path.join(work, 'warehouse');
after(() => { if (!process.env.FLOE_KEEP_TEST_DATA) rmSync(work, { recursive: true, force: true }); });

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { cwd: string }): string {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // The app folder must see only what it installed: no FLOE_* defaults, no tsx loader inherited.
  for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME', 'NODE_OPTIONS']) if (!opts.env || !(k in opts.env)) delete env[k];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts, env });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.status ?? r.signal}:\n${String(r.stderr).slice(-3000)}\n${String(r.stdout).slice(-2000)}`);
  return String(r.stdout);
}
const npm = (args: string[], cwd: string): string => run('npm', [...args, '--no-audit', '--no-fund'], { cwd });
const floe = (args: string[], env: NodeJS.ProcessEnv = {}): string => run('npx', ['--no', '--', 'floe', '--warehouse', warehouse, ...args], { cwd: app, env });

let tarball = '';

before(() => {
  // A clean copy of what a checkout has (no dist/, no node_modules of its own but a link to the
  // repository's, which prepack's tsc needs).
  const src = path.join(work, 'src');
  mkdirSync(src);
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) copyFileSync(path.join(REPO, f), path.join(src, f));
  for (const d of ['src', 'catalog', 'compaction', 'api', 'bin', 'scripts']) cpSync(path.join(REPO, d), path.join(src, d), { recursive: true });
  rmSync(path.join(src, 'bin', 'floe.js'));  // the tsx launcher is for the repository only; the package must not need it
  // NOTE: symlink, not a copy: tsc and the prepack script read it only.
  spawnSync('ln', ['-s', path.join(REPO, 'node_modules'), path.join(src, 'node_modules')]);
  const packed = npm(['pack', '--pack-destination', work, '--json'], src);
  const [{ filename, files }] = JSON.parse(packed.slice(packed.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  tarball = path.join(work, filename);
  const paths = files.map((f) => f.path);
  for (const p of ['dist/api/index.js', 'dist/api/index.d.ts', 'dist/api/ingest.js', 'dist/api/compaction.js', 'dist/bin/floe-cli.js', 'dist/compaction/rewrite-worker.js', 'scripts/duckdb_query.py', 'package.json']) {
    assert.ok(paths.includes(p), `the tarball holds ${p}`);
  }
  assert.deepEqual(paths.filter((p) => p.startsWith('test/') || p === 'bin/floe.js' || p.endsWith('.tsbuildinfo') || p.startsWith('node_modules/')), []);

  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'floe-user', private: true, type: 'module' }));
  const native = process.env.FLOE_PACK_TEST_NATIVE_BUILD === '1';
  npm(['install', tarball, '--omit=dev', '--prefer-offline', ...(native ? [] : ['--ignore-scripts'])], app);
  if (!native) {
    const version = (dir: string): string => (JSON.parse(readFileSync(path.join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
    if (version(app) === version(REPO)) {
      const built = path.join(app, 'node_modules/better-sqlite3/build/Release');
      mkdirSync(built, { recursive: true });
      copyFileSync(path.join(REPO, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), path.join(built, 'better_sqlite3.node'));
    } else {
      npm(['rebuild', 'better-sqlite3'], app);
    }
  }
});

test('the installed package has no devDependency and its floe command runs compiled JavaScript', () => {
  const installed = readdirSync(path.join(app, 'node_modules'));
  assert.deepEqual(['tsx', 'typescript', 'avsc', 'esbuild', 'fast-check', 'typedoc', '@biomejs'].filter((p) => installed.includes(p)), []);
  const help = floe(['--help']);
  assert.match(help, /^Usage: floe \[options\] \[command\]/m);
  for (const cmd of ['append', 'demo', 'compact', 'ingest', 'publish']) assert.match(help, new RegExp(`^ {2}${cmd} `, 'm'));
});

test('npx floe demo appends micro-batches and reads them back; npx floe compact rewrites them on worker threads', () => {
  const venv = existsSync(VENV_PYTHON);
  if (!venv && process.env.CI === 'true') assert.fail(`CI=true: reader venv missing (${VENV_PYTHON}); run: bash scripts/setup-readers.sh`);
  const out = floe(['demo', '--batches', '2', '--records', '1000'], venv ? { FLOE_VENV: path.dirname(path.dirname(VENV_PYTHON)) } : { FLOE_VENV: path.join(work, 'no-venv') });
  assert.match(out, /^created table demo\.events \(partitioned by day\(ts\)\)/m);
  assert.match(out, /^micro-batch 1 \(count\): 1000 events committed/m);
  assert.match(out, /^micro-batch 2 \(count\): 1000 events committed/m);
  // 2 × 1000, then a trickle of 100 flushed on time and 50 on shutdown.
  assert.match(out, /^table now holds 2150 records;/m);
  const counted = new Map([...out.matchAll(/^ {2}(\w+) +(\d+) events {2}amount (\S+)$/gm)].map((m) => [m[1]!, { events: Number(m[2]), amount: m[3]! }]));
  assert.deepEqual([...counted.keys()].sort(), ['click', 'purchase', 'signup', 'view']);
  assert.equal([...counted.values()].reduce((n, c) => n + c.events, 0), 2150);
  if (venv) {
    // DuckDB's rows (event_type, events, amount) equal floe's own count.
    const duck = out.slice(out.indexOf('the same rows read back by DuckDB'));
    const rows = new Map([...duck.matchAll(/^ {2}(click|purchase|signup|view) +(\d+) +(\S+)$/gm)].map((m) => [m[1]!, { events: Number(m[2]), amount: m[3]! }]));
    assert.deepEqual(rows, counted);
  } else {
    assert.match(out, /DuckDB is not installed .*: set FLOE_VENV to a Python virtualenv/);
  }
  // The demo's day(ts) partitions hold 4 small files each: three groups on two worker threads,
  // each loading the compiled rewrite-worker.js (no tsx in this folder).
  const compact = floe(['compact', 'demo.events', '--concurrency', '2', '--min-input-files', '2', '--json'], { NO_COLOR: '1' });
  const report = JSON.parse(compact.slice(compact.indexOf('{'))) as Record<string, unknown>;
  assert.equal(report.failedGroups ?? 0, 0, compact);
  assert.ok(Number(report.groups) >= 2, `compacted ${String(report.groups)} groups in parallel: ${compact}`);
  assert.equal(report.rewrittenFiles, Number(report.groups) * 4, compact);
  const snapshots = floe(['snapshots', 'demo.events']);
  assert.match(snapshots.trim().split('\n').at(-1)!, /replace/);
});

test('an ESM TypeScript program importing floe compiles against the installed types and runs on plain node', () => {
  writeFileSync(path.join(app, 'main.ts'), `
import { appendRecords, openCatalog, parseTableIdentifier, schemaFromJson } from 'floe';
import { compactTable } from 'floe/compaction';
import { TableIngestor } from 'floe/ingest';

const warehouse = process.argv[2];
if (!warehouse) throw new Error('usage: node main.js WAREHOUSE');
const catalog = await openCatalog({ warehouse });
const id = parseTableIdentifier('shop.orders');
await catalog.createNamespace(id.namespace);
const schema = schemaFromJson({
  type: 'struct',
  fields: [{ name: 'id', required: true, type: 'long' }, { name: 'item', required: true, type: 'string' }, { name: 'qty', required: false, type: 'int' }],
}, { assignIds: true });
await catalog.createTable(id, { schema });
let appended = 0;
for (let batch = 0; batch < 3; batch++) {
  const rows = Array.from({ length: 4 }, (_, i) => ({ id: batch * 4 + i, item: \`item-\${batch}-\${i}\`, qty: i + 1 }));
  appended += (await appendRecords(catalog, id, rows)).records;
}
const report = await compactTable(catalog, id, { minInputFiles: 2 });
const table = await catalog.loadTable(id);
const head = table.metadata.snapshots.find((s) => s.snapshotId === table.metadata.currentSnapshotId);
console.log(JSON.stringify({
  appended, rewrittenFiles: report.rewrittenFiles, addedFiles: report.addedFiles,
  operation: head?.summary['operation'], totalRecords: head?.summary['total-records'], ingestorOpen: typeof TableIngestor.open,
}));
await catalog.close();
`);
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', skipLibCheck: false,
      types: ['node'], typeRoots: [path.join(app, 'node_modules/@types'), path.join(REPO, 'node_modules/@types')],
    },
    files: ['main.ts'],
  }));
  const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
  // The declarations are real types, not `any`: a wrong use of a result does not compile.
  writeFileSync(path.join(app, 'wrong.ts'), `
import { appendRecords, openCatalog } from 'floe';
import { compactTable } from 'floe/compaction';
const catalog = await openCatalog({ warehouse: 'unused' });
const records: string = (await appendRecords(catalog, { namespace: ['shop'], name: 'orders' }, [])).records;
const files: string = (await compactTable(catalog, { namespace: ['shop'], name: 'orders' })).rewrittenFiles;
export { records, files };
`);
  const typed = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node',
    '--typeRoots', `${path.join(app, 'node_modules/@types')},${path.join(REPO, 'node_modules/@types')}`, 'wrong.ts'], { cwd: app, encoding: 'utf8' });
  assert.notEqual(typed.status, 0, 'wrong.ts must not compile');
  assert.deepEqual(typed.stdout.trim().split('\n').map((l) => l.replace(/^wrong\.ts\(\d+,\d+\): /, '')), [
    "error TS2322: Type 'number' is not assignable to type 'string'.",
    "error TS2322: Type 'number' is not assignable to type 'string'.",
  ]);
  const result = JSON.parse(run(process.execPath, [path.join(app, 'out/main.js'), warehouse], { cwd: app })) as Record<string, unknown>;
  assert.deepEqual(result, { appended: 12, rewrittenFiles: 3, addedFiles: 1, operation: 'replace', totalRecords: '12', ingestorOpen: 'function' });
});

test('every compiled module loads in the installed folder (lazy branches too: S3, PostgreSQL, REST, Kafka, DuckDB)', () => {
  // Worker and command entry points run on import (a worker's parentPort, the CLI's argv): their
  // imports are loaded through the modules they import and through the tests above.
  const entryPoints = new Set(['bin/floe-cli.js', 'compaction/rewrite-worker.js', 'src/workers/parquet-encoder-worker.js']);
  writeFileSync(path.join(app, 'load-all.mjs'), `
import { readdirSync } from 'node:fs';
import path from 'node:path';
const dist = path.resolve('node_modules/floe/dist');
const skip = new Set(${JSON.stringify([...entryPoints])});
const files = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.js') && !skip.has(f.split(path.sep).join('/')));
const failed = [];
for (const f of files) {
  try { await import(path.join(dist, f)); } catch (e) { failed.push(f + ': ' + e.message.split('\\n')[0]); }
}
console.log(JSON.stringify({ loaded: files.length - failed.length, failed }));
`);
  const r = JSON.parse(run(process.execPath, ['load-all.mjs'], { cwd: app })) as { loaded: number; failed: string[] };
  assert.deepEqual(r.failed, []);
  const compiledSources = ['src', 'catalog', 'compaction', 'api', 'bin'].flatMap((d) => readdirSync(path.join(REPO, d), { recursive: true }).map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => `${d}/${f}`));
  assert.equal(r.loaded, compiledSources.length - entryPoints.size);
});
