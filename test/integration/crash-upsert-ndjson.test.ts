// `floe ingest` in upsert mode SIGKILLed at named phases (src/fault-points.ts) of its first or
// second batch, then rerun on the same NDJSON file: the table equals the last change per key of
// the whole file, and every bad record is in the dead-letter table exactly once — also when the
// crash fell between the dead-letter commit and the merge commit, or right after the merge
// commit landed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { readLiveRows } from '../support/live-table-rows.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: true, type: 'string' },
] }, { assignIds: true }), ['id']);
const ID = { namespace: ['cr'], name: 't' };
const DEAD = { namespace: ['cr'], name: 'dead_letters' };

/** 900 changes over 40 keys, one in 6 a delete, one in 50 without its key (a dead letter). */
function input(): { lines: string[]; model: Map<number, string>; bad: string[] } {
  const lines: string[] = [];
  const model = new Map<number, string>();
  const bad: string[] = [];
  for (let i = 0; i < 900; i++) {
    const id = (i * 7919) % 40;
    if (i % 50 === 49) { const l = JSON.stringify({ op: 'u', v: `nokey${i}` }); lines.push(l); bad.push(l); continue; }
    if (i % 6 === 5) { lines.push(JSON.stringify({ id, op: 'd' })); model.delete(id); continue; }
    lines.push(JSON.stringify({ id, v: `v${i}`, op: 'u' }));
    model.set(id, `v${i}`);
  }
  return { lines, model, bad };
}

function ingest(wh: TestWarehouse, config: string, faultAt?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOE_FAULT_AT;
  if (faultAt) env.FLOE_FAULT_AT = faultAt;
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', wh.dir, 'ingest', '--config', config], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('crash during upsert ingest (NDJSON)', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse('floe-crash-upsert-');
    await wh.catalog.createNamespace(['cr']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.merge.mode': 'merge-on-read', 'write.delete.mode': 'merge-on-read' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  // Per batch: the dead-letter commit, then the merge commit; commit.* points count both.
  const PHASES = ['ingest.after-dead-letters#1', 'merge.after-files#2', 'merge.after-manifest-list#2', 'commit.after-catalog-swap#2', 'commit.after-catalog-swap#3'];
  for (const phase of PHASES) {
    test(`killed at ${phase}: the rerun leaves the last change per key and each dead letter once`, { timeout: 3 * 60_000 }, async () => {
      const { lines, model, bad } = input();
      const file = path.join(wh.dir, 'changes.ndjson');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const config = path.join(wh.dir, 'ingest.json');
      writeFileSync(config, JSON.stringify({
        source: { type: 'ndjson', path: file },
        routes: [{ table: 'cr.t', upsert: { opField: 'op' } }],
        batch: { maxRecords: 300, windowMs: 60_000 },
        deadLetter: { table: 'cr.dead_letters' },
      }));
      const crashed = await ingest(wh, config, phase);
      assert.equal(crashed.signal, 'SIGKILL', `ingest should die at ${phase}: ${crashed.stderr}`);
      const rerun = await ingest(wh, config);
      assert.equal(rerun.code, 0, rerun.stderr);
      const rows = (await readLiveRows(wh.catalog, ID)).map((r) => `${String(r.id)}=${String(r.v)}`).sort();
      assert.deepEqual(rows, [...model].map(([k, v]) => `${k}=${v}`).sort());
      const dead = (await readTableRows(wh.catalog, DEAD)).map((d) => String(d.payload)).sort();
      assert.deepEqual(dead, [...bad].sort());
    });
  }
});
