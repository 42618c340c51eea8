// The CLI loads only what a command needs (issue 13, start-up): `floe --help` loads commander and
// the command table, no Parquet/Arrow/zod/Kafka/DuckDB/AWS/PostgreSQL code and nothing of
// catalog/ or compaction/; a `floe append` on the default SQLite catalog loads the Parquet
// writer but neither the AWS SDK, pg, the REST catalog, Kafka, DuckDB nor compaction/.
// Runs the real bin/floe.js (sources through tsx) with a module-resolution trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TRACE = path.join(REPO, 'test/support/trace-modules.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `floe ARGS` from the sources; returns its stdout and the packages and repo modules it loaded. */
function floeTraced(args: string[]): { stdout: string; packages: Set<string>; repoModules: string[] } {
  const traceFile = path.join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const env: NodeJS.ProcessEnv = { ...process.env, FLOE_TRACE_MODULES: traceFile };
  for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete env[k];
  const r = spawnSync(process.execPath, ['--import', TRACE, path.join(REPO, 'bin/floe.js'), ...args], { encoding: 'utf8', env });
  assert.equal(r.status, 0, `floe ${args.join(' ')} failed: ${r.stderr}`);
  const urls = [...new Set(readFileSync(traceFile, 'utf8').split('\n').filter(Boolean))];
  const packages = new Set(urls.flatMap((u) => {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return m ? [m[1]!] : [];
  }));
  const repoModules = urls.filter((u) => u.startsWith('file://') && !u.includes('/node_modules/'))
    .map((u) => path.relative(REPO, fileURLToPath(u)));
  return { stdout: r.stdout, packages, repoModules };
}

// Packages whose loading costs a command tens to hundreds of milliseconds, each only needed by some commands.
const HEAVY = ['zod', 'apache-arrow', 'parquet-wasm', 'kafkajs', '@duckdb/node-api', '@aws-sdk/client-s3', 'pg', 'better-sqlite3', 'pino', 'prom-client', 'yaml', 'croner'];

test('floe --help loads commander and the command table only', () => {
  const { stdout, packages, repoModules } = floeTraced(['--help']);
  assert.match(stdout, /^ {2}append \[options\] <table> <file>/m);
  assert.match(stdout, /^ {2}compact \[options\] \[tables\.\.\.\]/m);
  assert.deepEqual(HEAVY.filter((p) => packages.has(p)), []);
  assert.deepEqual(repoModules.filter((m) => m.startsWith('catalog/') || m.startsWith('compaction/')), []);
  assert.ok(packages.has('commander'));
});

test('floe append on a SQLite catalog loads the Parquet writer, not S3, PostgreSQL, REST, Kafka, DuckDB or compaction', () => {
  const wh = path.join(dir, 'wh');
  const schema = path.join(dir, 'schema.json');
  writeFileSync(schema, JSON.stringify({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'name', required: false, type: 'string' }] }));
  const rows = path.join(dir, 'rows.ndjson');
  writeFileSync(rows, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: i, name: `n${i}` })).join('\n'));
  floeTraced(['--warehouse', wh, 'namespace', 'create', 'db']);
  floeTraced(['--warehouse', wh, 'table', 'create', 'db.t', '--schema', schema]);
  const { stdout, packages, repoModules } = floeTraced(['--warehouse', wh, 'append', 'db.t', rows]);
  assert.match(stdout, /^appended 10 records in 1 file\(s\) to db\.t \(branch main\): snapshot \d+, sequence 1$/m);
  for (const needed of ['parquet-wasm', 'apache-arrow', 'better-sqlite3']) assert.ok(packages.has(needed), `append loads ${needed}`);
  assert.deepEqual(['@aws-sdk/client-s3', 'pg', 'kafkajs', '@duckdb/node-api', 'prom-client', 'croner'].filter((p) => packages.has(p)), []);
  assert.deepEqual(repoModules.filter((m) => m.startsWith('compaction/') || m.startsWith('catalog/rest/') || m === 'catalog/sql/postgres-driver.ts' || m === 'src/io/s3-file-io.ts'), []);
});
