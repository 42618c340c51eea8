// Benchmark (not a test): how long the floe command takes to start (issue 13, start-up). Medians
// over N runs, whole process from spawn to exit, of
//   - `node -e 0`                      bare node: the floor
//   - `floe --help`                    parse arguments, print the command table
//   - `floe append db.t 10rows.ndjson` a 10-row append to a fresh table (SQLite catalog, temp warehouse)
// for the TypeScript sources through tsx (bin/floe.js, what the repository's tests run) and for the
// compiled package (dist/bin/floe-cli.js, what `npm install floe` runs; built first with
// `npm run build`). --before DIR adds a third launcher: DIR/bin/floe.js of another checkout (e.g.
// `git worktree add /tmp/floe-before <commit>` with node_modules linked), to compare with older code.
// The variants run in turn within each round, so a machine that slows down slows all of them.
//
//   npm run bench:startup
//   npm run bench:startup -- --runs 21 --before /tmp/floe-before
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    before: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

if (!args['no-build']) {
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-startup-bench-'));
const warehouse = path.join(dir, 'warehouse');
const rows = path.join(dir, 'rows.ndjson');
writeFileSync(rows, `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: i, name: `name-${i}`, ts: `2026-12-0${1 + (i % 9)}T10:00:00Z` })).join('\n')}\n`);
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [{ name: 'id', required: true, type: 'long' }, { name: 'name', required: false, type: 'string' }, { name: 'ts', required: false, type: 'timestamptz' }],
}, { assignIds: true });
const catalog = await openCatalog({ warehouse });
await catalog.createNamespace(['db']);
let tables = 0;
/** A fresh, empty table for each timed append (created here, not timed). */
async function freshTable(): Promise<string> {
  const name = `t${++tables}`;
  await catalog.createTable({ namespace: ['db'], name }, { schema: SCHEMA });
  return `db.${name}`;
}

interface Launcher { name: string; argv: string[] }
const launchers: Launcher[] = [
  { name: 'source (tsx, bin/floe.js)', argv: [path.join(REPO, 'bin/floe.js')] },
  { name: 'compiled (dist/bin/floe-cli.js)', argv: [path.join(REPO, 'dist/bin/floe-cli.js')] },
  ...(args.before ? [{ name: `before (${args.before}/bin/floe.js)`, argv: [path.join(path.resolve(args.before), 'bin/floe.js')] }] : []),
];

const env: NodeJS.ProcessEnv = { ...process.env };
for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME', 'NODE_OPTIONS']) delete env[k];

function timed(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const samples = new Map<string, number[]>();
const add = (key: string, ms: number): void => { samples.set(key, [...(samples.get(key) ?? []), ms]); };

// One warm-up round (file system cache, tsx's transform cache), not counted.
for (let round = -1; round < RUNS; round++) {
  const keep = round >= 0;
  const floor = timed(['-e', '0']);
  if (keep) add('node -e 0', floor);
  for (const l of launchers) {
    const help = timed([...l.argv, '--help']);
    const append = timed([...l.argv, '--warehouse', warehouse, 'append', await freshTable(), rows]);
    if (keep) { add(`${l.name}|help`, help); add(`${l.name}|append`, append); }
  }
}
await catalog.close();
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (ms: number): string => `${Math.round(ms)} ms`.padStart(8);
const floorMs = median(samples.get('node -e 0')!);
console.log(`\nfloe start-up, median of ${RUNS} runs (node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})\n`);
console.log(`${'launcher'.padEnd(44)}${'--help'.padStart(10)}${'over node'.padStart(11)}${'append 10 rows'.padStart(16)}`);
console.log(`${'node -e 0 (floor)'.padEnd(44)}${fmt(floorMs).padStart(10)}`);
for (const l of launchers) {
  const help = median(samples.get(`${l.name}|help`)!);
  const append = median(samples.get(`${l.name}|append`)!);
  console.log(`${l.name.padEnd(44)}${fmt(help).padStart(10)}${fmt(help - floorMs).padStart(11)}${fmt(append).padStart(16)}`);
}
const [src, compiled] = launchers.map((l) => ({ help: median(samples.get(`${l.name}|help`)!), append: median(samples.get(`${l.name}|append`)!) }));
console.log(`\nsource / compiled: --help ${(src!.help / compiled!.help).toFixed(1)}x, append ${(src!.append / compiled!.append).toFixed(1)}x`);
if (args.before) {
  const b = launchers[2]!;
  const before = { help: median(samples.get(`${b.name}|help`)!), append: median(samples.get(`${b.name}|append`)!) };
  console.log(`before / compiled: --help ${(before.help / compiled!.help).toFixed(1)}x, append ${(before.append / compiled!.append).toFixed(1)}x`);
}
console.log(`aims: --help within 100 ms of bare node (compiled: +${Math.round(compiled!.help - floorMs)} ms), 10-row append under 300 ms (compiled: ${Math.round(compiled!.append)} ms)`);
