// The encoder pool seen from a whole process: idle workers do not keep it alive (a process that
// appended exits on its own), and a compiled build runs its compiled worker module (no tsx).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readTableRows } from '../support/read-table.ts';
import { openCatalog } from '../../catalog/index.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(REPO, 'test/support/encoder-pool-child.mjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'floe-encpool-proc-'));
// The compiled build goes inside the repository (ignored), so its imports resolve node_modules.
const build = path.join(REPO, '.floe-test', `encpool-build-${process.pid}`);
after(() => {
  if (process.env.FLOE_KEEP_TEST_DATA) return;
  rmSync(work, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

/** Runs the child; an idle worker holding the process open shows as a timeout (signal). */
function runChild(nodeArgs: string[], root: string, ext: string, warehouse: string, rows: number, workers = '2') {
  const env: NodeJS.ProcessEnv = { ...process.env, FLOE_ENCODE_WORKERS: workers, FLOE_ENCODE_MIN_ROWS: '1000' };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...nodeArgs, CHILD, root, ext, warehouse, String(rows)], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(r.status, 0, `child exited ${r.status ?? r.signal} (a timeout means the process did not exit):\n${r.stderr.slice(-3000)}`);
  const exitedAt = Date.now();
  const line = r.stdout.trim().split('\n').at(-1)!;
  return { ...(JSON.parse(line) as { records: number; dataFiles: number; workers: number; at: number }), exitedAt };
}

async function rowsOf(warehouse: string) {
  const catalog = await openCatalog({ warehouse });
  try {
    return await readTableRows(catalog, { namespace: ['p'], name: 'events' });
  } finally {
    await catalog.close();
  }
}

test('a process that appended through the encoder pool exits on its own', async () => {
  const warehouse = path.join(work, 'source');
  const r = runChild(['--import', 'tsx'], REPO, 'ts', warehouse, 50_000);
  assert.equal(r.records, 50_000);
  assert.ok(r.workers >= 1, 'the append used the worker pool');
  // Generous for a loaded machine; a worker holding the process open would show as the timeout.
  assert.ok(r.exitedAt - r.at < 30_000, `exited ${r.exitedAt - r.at} ms after its last line`);
  const rows = await rowsOf(warehouse);
  assert.equal(rows.length, 50_000);
  assert.deepEqual(rows.find((x) => x.id === 49_999n || x.id === 49_999), { id: 49_999n, kind: 'k5', value: 49_999 / 3 });
});

test('FLOE_ENCODE_WORKERS=0 encodes on the main thread: no worker starts, same rows', async () => {
  const warehouse = path.join(work, 'off');
  const r = runChild(['--import', 'tsx'], REPO, 'ts', warehouse, 20_000, '0');
  assert.equal(r.workers, 0);
  const rows = await rowsOf(warehouse);
  assert.equal(rows.length, 20_000);
  assert.deepEqual(rows.find((x) => x.id === 19_999n || x.id === 19_999), { id: 19_999n, kind: 'k0', value: 19_999 / 3 });
});

test('a compiled build appends through compiled worker threads (no tsx)', async () => {
  mkdirSync(build, { recursive: true });
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO, 'tsconfig.build.json'),
    '--outDir', build, '--tsBuildInfoFile', path.join(build, '.tsbuildinfo')], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  assert.ok(existsSync(path.join(build, 'src/workers/parquet-encoder-worker.js')));
  const warehouse = path.join(work, 'compiled');
  const r = runChild([], build, 'js', warehouse, 50_000);
  assert.ok(r.workers >= 1, 'the compiled append used the worker pool');
  const rows = await rowsOf(warehouse);
  assert.equal(rows.length, 50_000);
  assert.deepEqual(rows.find((x) => x.id === 123n || x.id === 123), { id: 123n, kind: 'k4', value: 41 });
});
