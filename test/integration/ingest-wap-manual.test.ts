// `publish: manual` end to end with the real `floe ingest` and `floe publish --checks`
// processes on an NDJSON file: batches accumulate on the audit branch across runs (restarts
// neither gate nor lose them), `floe publish --checks` then audits them together and publishes
// (exit 0) or quarantines (exit 1); the next ingest run goes on from where the quarantined
// batches ended: no record read twice, none lost. every-3-batches: a restart after two staged
// batches counts them, and the third publishes all three.
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
const ID = { namespace: ['man'], name: 'events' };

interface Run { code: number | null; out: string; err: string }

function floe(wh: TestWarehouse, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** Five lines per batch (maxRecords 5); `bad` puts a null name in it. */
const lines = (batch: number, bad = false): string =>
  `${Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: batch * 5 + i, name: bad && i === 2 ? null : `b${batch}` })).join('\n')}\n`;
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('write-audit-publish ingest: manual and every-N-batches policies', () => {
  let wh: TestWarehouse;
  let input: string;
  let checks: string;
  const config = (publish: string): string => {
    const file = path.join(wh.dir, `${publish}.yaml`);
    writeFileSync(file, [
      `source: { type: ndjson, path: ${JSON.stringify(input)} }`,
      'routes:',
      '  - table: man.events',
      `    wap: { branch: audit, checks: checks.yaml, publish: ${publish} }`,
      'batch: { maxRecords: 5, windowMs: 60000 }',
    ].join('\n'));
    return file;
  };
  before(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['man']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    input = path.join(wh.dir, 'events.ndjson');
    writeFileSync(input, '');
    checks = path.join(wh.dir, 'checks.yaml');
    writeFileSync(checks, 'checks:\n  - type: not_null\n    columns: [name]\n  - type: unique\n    columns: [id]\n    scope: branch\n');
  });
  after(async () => { await wh?.cleanup(); });

  const ids = async (branch = 'main'): Promise<number[]> => (await readTableRows(wh.catalog, ID, branch)).map((r) => Number(r.id)).sort((a, b) => a - b);
  const staged = async (): Promise<number> => {
    const m = (await wh.catalog.loadTable(ID)).metadata;
    return m.refs.audit ? divergence(m, m.refs.audit.snapshotId).branchOnly.length : 0;
  };

  test('manual: batches accumulate across restarts; floe publish --checks publishes them together', async () => {
    const manual = config('manual');
    appendFileSync(input, lines(0) + lines(1));
    assert.equal((await floe(wh, ['ingest', '--config', manual])).code, 0);
    appendFileSync(input, lines(2));
    assert.equal((await floe(wh, ['ingest', '--config', manual])).code, 0);
    assert.equal((await floe(wh, ['ingest', '--config', manual])).code, 0, 'a run with nothing new');
    assert.deepStrictEqual(await ids(), [], 'manual: nothing published by the ingest');
    assert.equal(await staged(), 3, 'three batches staged, none twice');
    assert.deepStrictEqual(await ids('audit'), range(0, 15));
    const pub = await floe(wh, ['publish', 'man.events', '--branch', 'audit', '--checks', checks]);
    assert.equal(pub.code, 0, pub.err);
    assert.match(pub.out, /published branch 'audit' of man\.events: fast-forward/);
    assert.deepStrictEqual(await ids(), range(0, 15));
  });

  test('manual: a failing publish --checks quarantines every staged batch; the next run reads on after them', async () => {
    const manual = config('manual');
    appendFileSync(input, lines(3) + lines(4, true));
    assert.equal((await floe(wh, ['ingest', '--config', manual])).code, 0);
    const q = await floe(wh, ['publish', 'man.events', '--branch', 'audit', '--checks', checks, '--json']);
    assert.equal(q.code, 1, q.err);
    const j = JSON.parse(q.out) as { outcome: string; quarantineBranch: string };
    assert.equal(j.outcome, 'quarantined');
    assert.deepStrictEqual(await ids(j.quarantineBranch), range(0, 25), 'batches 3 and 4 wait on the quarantine branch');
    assert.deepStrictEqual(await ids(), range(0, 15), 'main untouched');
    appendFileSync(input, lines(5));
    assert.equal((await floe(wh, ['ingest', '--config', manual])).code, 0);
    assert.deepStrictEqual(await ids('audit'), [...range(0, 15), ...range(25, 30)], 'only batch 5 is staged: the quarantined ones are not read again');
    assert.equal((await floe(wh, ['publish', 'man.events', '--branch', 'audit', '--checks', checks])).code, 0);
    assert.deepStrictEqual(await ids(), [...range(0, 15), ...range(25, 30)]);
  });

  test('every-3-batches: a restart after two staged batches counts them; the third publishes all three', async () => {
    const three = config('every-3-batches');
    appendFileSync(input, lines(6) + lines(7));
    assert.equal((await floe(wh, ['ingest', '--config', three])).code, 0);
    assert.equal(await staged(), 2);
    assert.deepStrictEqual(await ids(), [...range(0, 15), ...range(25, 30)], 'two of three: not published');
    assert.equal((await floe(wh, ['ingest', '--config', three])).code, 0, 'a restart with nothing new');
    assert.equal(await staged(), 2, 'a restart neither gates nor adds');
    appendFileSync(input, lines(8));
    assert.equal((await floe(wh, ['ingest', '--config', three])).code, 0);
    assert.equal(await staged(), 0);
    assert.deepStrictEqual(await ids(), [...range(0, 15), ...range(25, 45)]);
  });

  test('killed during publish --checks (after the audit, at the catalog swap): a rerun publishes once', async () => {
    appendFileSync(input, lines(9));
    assert.equal((await floe(wh, ['ingest', '--config', config('manual')])).code, 0);
    for (const point of ['wap.after-audit', 'commit.after-metadata-file']) {
      const killed = await floe(wh, ['publish', 'man.events', '--branch', 'audit', '--checks', checks], { FLOE_FAULT_AT: point });
      assert.equal(killed.code, null, `died at ${point}`);
      assert.deepStrictEqual(await ids(), [...range(0, 15), ...range(25, 45)], `main untouched after a kill at ${point}`);
    }
    const pub = await floe(wh, ['publish', 'man.events', '--branch', 'audit', '--checks', checks]);
    assert.equal(pub.code, 0, pub.err);
    assert.deepStrictEqual(await ids(), [...range(0, 15), ...range(25, 50)]);
  });

  for (const point of ['wap.after-stage', 'wap.after-audit', 'commit.after-metadata-file#2', 'commit.after-catalog-swap#2']) {
    test(`every-batch: killed at ${point} (a failing batch, before or at its quarantine): the rerun quarantines the batch once, the next batch publishes`, async () => {
      const every = config('every-batch');
      const before = await ids();
      const first = before.at(-1)! + 1;
      const batch = first / 5;
      appendFileSync(input, lines(batch, true));
      const killed = await floe(wh, ['ingest', '--config', every], { FLOE_FAULT_AT: point });
      assert.equal(killed.code, null, `died at ${point}: ${killed.err.slice(-300)}`);
      appendFileSync(input, lines(batch + 1));
      const rerun = await floe(wh, ['ingest', '--config', every]);
      assert.equal(rerun.code, 0, rerun.err.slice(-500));
      assert.deepStrictEqual(await ids(), [...before, ...range(first + 5, first + 10)], 'the bad batch is not on main, the next one is');
      const m = (await wh.catalog.loadTable(ID)).metadata;
      const holding = [];
      for (const name of Object.keys(m.refs).filter((n) => n.startsWith('quarantine/audit/'))) {
        if ((await ids(name)).includes(first)) holding.push(name);
      }
      assert.equal(holding.length, 1, `exactly one quarantine branch holds the bad batch: ${holding.join(', ')}`);
      assert.deepStrictEqual((await ids(holding[0]!)).filter((x) => x >= first), range(first, first + 5), 'once');
    });
  }
});
