// The real `floe ingest` with an UPSERT route and a `wap:` gate on an NDJSON file: each batch is
// one MERGE commit staged on the audit branch, audited, then published or quarantined. A batch
// that fails its audit is quarantined and the next good one publishes; when another writer moves
// main while a batch is staged (the ingest killed between staging and its gate), the rerun
// re-applies the batch on the new main if the two touched different keys, and quarantines it if
// they touched the same key (the other writer's change wins on main; the batch waits on the
// quarantine branch) — the pipeline goes on, nothing is lost, applied twice or read again.
// every-2-batches: two MERGE batches are audited and published together.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { readLiveRows } from '../support/live-table-rows.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'name', required: false, type: 'string' },
  { name: 'seq', required: true, type: 'long' },
] }, { assignIds: true }), ['id']);
const ID = { namespace: ['wu'], name: 'people' };

interface Run { code: number | null; signal: NodeJS.Signals | null; log: Record<string, unknown>[] }
type Change = { id: number; op: 'c' | 'u' | 'd'; name?: string | null; seq: number };

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

const text = (changes: readonly Change[]): string => `${changes.map((c) => JSON.stringify(c)).join('\n')}\n`;

/** The table a sequence of changes must leave: the last change per key. */
function apply(model: Map<number, string | null>, changes: readonly Change[]): Map<number, string | null> {
  const out = new Map(model);
  for (const c of changes) {
    if (c.op === 'd') out.delete(c.id);
    else out.set(c.id, c.name ?? null);
  }
  return out;
}

/** Four changes per batch (maxRecords 4). */
let seq = 0;
const batch = (...cs: [number, 'c' | 'u' | 'd', (string | null)?][]): Change[] => {
  assert.equal(cs.length, 4);
  return cs.map(([id, op, name]) => (op === 'd' ? { id, op, seq: seq++ } : { id, op, name: name ?? null, seq: seq++ }));
};

describe('floe ingest: upsert route with write-audit-publish (NDJSON)', () => {
  let wh: TestWarehouse;
  let input: string;
  let every: string;
  let pairs: string;
  let model = new Map<number, string | null>();
  before(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['wu']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1' } });
    input = path.join(wh.dir, 'changes.ndjson');
    writeFileSync(input, '');
    writeFileSync(path.join(wh.dir, 'checks.yaml'), 'checks:\n  - type: not_null\n    columns: [name]\n  - type: unique\n    columns: [id]\n    scope: branch\n');
    const cfg = (publish: string): string => [
      `source: { type: ndjson, path: ${JSON.stringify(input)} }`,
      'routes:',
      '  - table: wu.people',
      '    upsert: { opField: op }',
      `    wap: { branch: audit, checks: checks.yaml, publish: ${publish} }`,
      'batch: { maxRecords: 4, windowMs: 60000 }',
    ].join('\n');
    every = path.join(wh.dir, 'every.yaml');
    pairs = path.join(wh.dir, 'pairs.yaml');
    writeFileSync(every, cfg('every-batch'));
    writeFileSync(pairs, cfg('every-2-batches'));
  });
  after(async () => { await wh?.cleanup(); });

  const rows = async (branch = 'main'): Promise<[number, string | null][]> =>
    (await readLiveRows(wh.catalog, ID, branch)).map((r) => [Number(r.id), r.name as string | null] as [number, string | null]).sort((a, b) => a[0] - b[0]);
  const expected = (m: Map<number, string | null>): [number, string | null][] => [...m].sort((a, b) => a[0] - b[0]);
  const logged = (run: Run, prefix: string): Record<string, unknown>[] => run.log.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));

  test('MERGE batches are staged, audited, published; a failing one is quarantined with its changes findable; a rerun applies nothing again', async () => {
    const b0 = batch([0, 'c', 'a0'], [1, 'c', 'a1'], [2, 'c', 'a2'], [3, 'c', 'a3']);
    const b1 = batch([0, 'u', 'x0'], [1, 'u', null], [5, 'c', 'x5'], [3, 'd']); // null name: fails not_null
    const b2 = batch([0, 'u', 'c0'], [3, 'd'], [4, 'c', 'c4'], [2, 'u', 'c2']);
    writeFileSync(input, text([...b0, ...b1, ...b2]));
    const run = await runIngest(wh, every);
    assert.equal(run.code, 0, JSON.stringify(run.log.slice(-3)));
    model = apply(apply(model, b0), b2);
    assert.deepStrictEqual(await rows(), expected(model), 'main: batches 0 and 2 applied, batch 1 not');
    const q = logged(run, 'audit failed');
    assert.equal(q.length, 1, 'one quarantine logged');
    const qname = String(q[0]!.quarantineBranch);
    assert.deepStrictEqual(await rows(qname), expected(apply(apply(new Map(), b0), b1)), 'the quarantine branch holds batch 1 applied on main at the time');
    assert.equal(logged(run, 'audit passed').length, 2);

    const snapshots = (await wh.catalog.loadTable(ID)).metadata.snapshots.length;
    const again = await runIngest(wh, every);
    assert.equal(again.code, 0);
    assert.deepStrictEqual(await rows(), expected(model), 'a rerun applies nothing again');
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, snapshots, 'nor commits anything');
  });

  test('main moved by another writer on other keys while a batch was staged: the rerun re-applies it on the new main', async () => {
    const b3 = batch([0, 'u', 'd0'], [4, 'd'], [6, 'c', 'd6'], [7, 'c', 'd7']);
    appendFileSync(input, text(b3));
    const killed = await runIngest(wh, every, { FLOE_FAULT_AT: 'wap.after-stage' });
    assert.equal(killed.signal, 'SIGKILL');
    assert.deepStrictEqual(await rows(), expected(model), 'main does not see the staged batch');
    // Another writer: a new key and an update of a key the batch does not touch.
    await mergeRecords(wh.catalog, ID, [{ id: 100, name: 'other', seq: 1000 }, { id: 2, name: 'other2', seq: 1001 }]);
    model = apply(model, [{ id: 100, op: 'c', name: 'other', seq: 0 }, { id: 2, op: 'u', name: 'other2', seq: 0 }]);
    const rerun = await runIngest(wh, every);
    assert.equal(rerun.code, 0, JSON.stringify(rerun.log.slice(-3)));
    model = apply(model, b3);
    assert.deepStrictEqual(await rows(), expected(model), 'the batch re-applied on the moved main; the other writer\'s rows kept');
    const published = logged(rerun, 'audit passed');
    assert.equal(published.length, 1);
    assert.equal(published[0]!.publish, 'reapplied', JSON.stringify(published[0]));
  });

  test('main changed a key the staged batch also changed: the batch is quarantined, the other writer wins, the next batch publishes', async () => {
    const b4 = batch([6, 'u', 'e6'], [7, 'u', 'e7'], [8, 'c', 'e8'], [0, 'u', 'e0']);
    appendFileSync(input, text(b4));
    const killed = await runIngest(wh, every, { FLOE_FAULT_AT: 'wap.after-stage' });
    assert.equal(killed.signal, 'SIGKILL');
    const stagedOn = model;
    await mergeRecords(wh.catalog, ID, [{ id: 6, name: 'mine', seq: 2000 }]);
    const mainAtConflict = apply(model, [{ id: 6, op: 'u', name: 'mine', seq: 0 }]);
    const b5 = batch([9, 'c', 'f9'], [8, 'c', 'f8'], [7, 'u', 'f7'], [100, 'd']);
    appendFileSync(input, text(b5));
    const rerun = await runIngest(wh, every);
    assert.equal(rerun.code, 0, JSON.stringify(rerun.log.slice(-3)));
    const q = logged(rerun, 'audit failed');
    assert.equal(q.length, 1, JSON.stringify(rerun.log.slice(-4)));
    assert.deepStrictEqual(q[0]!.failedChecks, ['publish'], 'quarantined as a publish conflict');
    model = apply(mainAtConflict, b5);
    assert.deepStrictEqual(await rows(), expected(model), 'main: the other writer\'s change of key 6, batch 5 applied, batch 4 not');
    assert.deepStrictEqual(await rows(String(q[0]!.quarantineBranch)), expected(apply(stagedOn, b4)), 'the quarantine branch holds batch 4 applied where it was staged');
    const snapshots = (await wh.catalog.loadTable(ID)).metadata.snapshots.length;
    assert.equal((await runIngest(wh, every)).code, 0);
    assert.deepStrictEqual(await rows(), expected(model), 'neither batch 4 nor 5 is read again');
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, snapshots);
  });

  test('every-2-batches: two MERGE batches staged then published together; a restart after the first counts it and publishes after the second', async () => {
    const b6 = batch([9, 'u', 'g9'], [10, 'c', 'g10'], [11, 'c', 'g11'], [8, 'd']);
    const b7 = batch([10, 'u', 'h10'], [12, 'c', 'h12'], [9, 'd'], [11, 'u', 'h11']);
    appendFileSync(input, text(b6));
    const first = await runIngest(wh, pairs);
    assert.equal(first.code, 0, JSON.stringify(first.log.slice(-3)));
    assert.deepStrictEqual(await rows(), expected(model), 'one batch staged: not published yet');
    assert.deepStrictEqual(await rows('audit'), expected(apply(model, b6)), 'the audit branch shows it');
    appendFileSync(input, text(b7));
    const second = await runIngest(wh, pairs);
    assert.equal(second.code, 0, JSON.stringify(second.log.slice(-3)));
    model = apply(apply(model, b6), b7);
    assert.deepStrictEqual(await rows(), expected(model), 'both batches published together');
    const published = logged(second, 'audit passed');
    assert.equal(published.length, 1);
    assert.equal(published[0]!.snapshots, 2);
  });

  // A restart gates the staged batch before reading: the publish is that run's first commit.
  for (const point of ['commit.after-metadata-file', 'commit.after-catalog-swap']) {
    test(`killed at ${point} while re-applying a MERGE batch on a moved main: the rerun publishes it once`, async () => {
      const b = batch([10, 'u', `k${seq}`], [12, 'd'], [20 + seq, 'c', 'new'], [11, 'u', `k${seq}`]);
      appendFileSync(input, text(b));
      // Stage first (killed after the stage), then move main, then kill inside the publish.
      assert.equal((await runIngest(wh, every, { FLOE_FAULT_AT: 'wap.after-stage' })).signal, 'SIGKILL');
      await mergeRecords(wh.catalog, ID, [{ id: 500 + seq, name: 'other', seq: 5000 + seq }]);
      model = apply(model, [{ id: 500 + seq, op: 'c', name: 'other', seq: 0 }]);
      const killed = await runIngest(wh, every, { FLOE_FAULT_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `died at ${point}`);
      const rerun = await runIngest(wh, every);
      assert.equal(rerun.code, 0, JSON.stringify(rerun.log.slice(-3)));
      model = apply(model, b);
      assert.deepStrictEqual(await rows(), expected(model), 'applied once on the moved main');
      const m = (await wh.catalog.loadTable(ID)).metadata;
      const onMain = [...(function* () { let s = m.snapshots.find((x) => x.snapshotId === m.refs.main!.snapshotId); while (s) { yield s; s = m.snapshots.find((x) => x.snapshotId === s!.parentSnapshotId); } })()];
      const sources = onMain.map((x) => x.summary['source-snapshot-id']).filter((x) => x !== undefined);
      assert.equal(new Set(sources).size, sources.length, 'no staged snapshot re-applied twice');
    });
  }
});
