// The real `floe ingest` with a `wap:` route on an NDJSON file: batches are staged on the audit
// branch, audited, published or quarantined (logged, counted in the metrics); killed between a
// batch's commit and its audit, or between its audit and its publish, the rerun gates the
// staged batch first and adds nothing twice; a finished file adds nothing on rerun even when
// its last batch was quarantined; lines appended later are ingested alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { divergence } from '../../src/table/ref-lineage.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'name', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['ing'], name: 'events' };

interface Run { code: number | null; signal: NodeJS.Signals | null; log: Record<string, unknown>[] }

function runIngest(wh: TestWarehouse, config: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, 'ingest', '--config', config], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let buf = '';
    child.stderr.on('data', (d: Buffer) => { buf += d.toString(); });
    child.stdout.resume();
    child.on('exit', (code, signal) => resolve({
      code, signal,
      log: buf.split('\n').filter((l) => l.trim() !== '').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return { msg: l }; } }),
    }));
  });
}

/** Ten lines per batch (maxRecords 10); batch `bad` has a null name. */
function lines(batch: number, bad: boolean): string {
  return `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: batch * 10 + i, name: bad && i === 4 ? null : `b${batch}-${i}` })).join('\n')}\n`;
}

describe('floe ingest with write-audit-publish (NDJSON)', () => {
  let wh: TestWarehouse;
  let input: string;
  let config: string;
  before(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    input = path.join(wh.dir, 'events.ndjson');
    config = path.join(wh.dir, 'pipeline.yaml');
    writeFileSync(path.join(wh.dir, 'checks.yaml'), 'checks:\n  - type: not_null\n    columns: [name]\n  - type: unique\n    columns: [id]\n    scope: branch\n');
    writeFileSync(config, [
      'source: { type: ndjson, path: events.ndjson }'.replace('events.ndjson', input),
      'routes:',
      '  - table: ing.events',
      '    wap: { branch: audit, checks: checks.yaml, publish: every-batch }',
      'batch: { maxRecords: 10, windowMs: 60000 }',
    ].join('\n'));
  });
  after(async () => { await wh?.cleanup(); });

  const ids = async (branch = 'main'): Promise<number[]> => (await readTableRows(wh.catalog, ID, branch)).map((r) => Number(r.id)).sort((a, b) => a - b);
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

  test('a failing batch is quarantined and logged, the others published; a rerun adds nothing', async () => {
    writeFileSync(input, lines(0, false) + lines(1, true) + lines(2, false));
    const run = await runIngest(wh, config);
    assert.equal(run.code, 0, JSON.stringify(run.log.slice(-3)));
    assert.deepStrictEqual(await ids(), [...range(0, 10), ...range(20, 30)]);
    const q = run.log.find((l) => typeof l.msg === 'string' && l.msg.startsWith('audit failed'));
    assert.ok(q, 'the quarantine is logged');
    assert.equal(q.level, 40);
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const qname = String(q.quarantineBranch);
    assert.ok(m.refs[qname], `${qname} exists`);
    assert.deepStrictEqual(await ids(qname), [...range(0, 20)], 'the quarantine branch holds main at the time plus the failed batch');
    assert.equal(run.log.filter((l) => l.msg === 'audit passed: batches published to main').length, 2);

    const again = await runIngest(wh, config);
    assert.equal(again.code, 0);
    assert.deepStrictEqual(await ids(), [...range(0, 10), ...range(20, 30)], 'a rerun of the finished file adds nothing');
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, m.snapshots.length, 'nor commits anything');
  });

  test('the last batch quarantined: a rerun adds nothing, new lines are ingested alone', async () => {
    appendFileSync(input, lines(3, true));
    assert.equal((await runIngest(wh, config)).code, 0);
    const before = await ids();
    assert.deepStrictEqual(before, [...range(0, 10), ...range(20, 30)]);
    assert.equal((await runIngest(wh, config)).code, 0);
    assert.deepStrictEqual(await ids(), before, 'the quarantined last batch is not read again');
    appendFileSync(input, lines(4, false));
    assert.equal((await runIngest(wh, config)).code, 0);
    assert.deepStrictEqual(await ids(), [...before, ...range(40, 50)]);
  });

  for (const point of ['wap.after-stage', 'wap.after-audit', 'commit.after-catalog-swap#2']) {
    test(`killed at ${point}: the rerun gates the staged batch first, nothing lost or doubled`, async () => {
      const first = Number((await ids()).at(-1)) + 1;
      const batch = Math.ceil(first / 10);
      appendFileSync(input, lines(batch, false));
      const killed = await runIngest(wh, config, { FLOE_FAULT_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `the run died at ${point}`);
      const m = (await wh.catalog.loadTable(ID)).metadata;
      const staged = m.refs.audit ? divergence(m, m.refs.audit.snapshotId).branchOnly.length : 0;
      const rerun = await runIngest(wh, config);
      assert.equal(rerun.code, 0, JSON.stringify(rerun.log.slice(-3)));
      const got = await ids();
      assert.deepStrictEqual(got.filter((x) => x >= batch * 10), range(batch * 10, batch * 10 + 10), `batch ${batch} once (staged before the rerun: ${staged})`);
      assert.equal(new Set(got).size, got.length, 'no id twice');
    });
  }
});
