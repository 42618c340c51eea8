// Write-audit-publish by id (Iceberg/Spark `wap.id`): with write.wap.enabled=true an append,
// merge or delete given a wap id adds its snapshot on top of main's head with summary wap.id and
// moves no ref; without the property, or together with a branch, it is refused before any file
// is written. The CLI's --wap-id and the `wap-id` column of `floe snapshots` are checked too.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { ValidationError } from '../../../src/errors.ts';
import { deleteWhere } from '../../../src/merge/delete-where.ts';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { schemaWithKey } from '../../../src/transaction/set-table-key.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true }), ['id']);
const ID: TableIdentifier = { namespace: ['w'], name: 't' };
const OFF: TableIdentifier = { namespace: ['w'], name: 'off' };

let wh: TestWarehouse;
let head: bigint;

beforeEach(async () => {
  wh = await testWarehouse('floe-wap-');
  await wh.catalog.createNamespace(['w']);
  await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.wap.enabled': 'true' } });
  await wh.catalog.createTable(OFF, { schema: SCHEMA });
  head = (await appendRecords(wh.catalog, ID, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }])).snapshot.snapshotId;
  await appendRecords(wh.catalog, OFF, [{ id: 1, v: 'a' }]);
});
afterEach(async () => { await wh.cleanup(); });

const ids = (rows: Record<string, unknown>[]) => rows.map((r) => `${Number(r.id)}:${String(r.v)}`).sort();
const files = async (t: string): Promise<string[]> => (await readdir(path.join(wh.dir, 'w', t), { recursive: true })).sort();

describe('staging by wap id', () => {
  test('an append is staged on main\'s head: wap.id in the summary, no ref moves', async () => {
    const before = (await wh.catalog.loadTable(ID)).metadata;
    const r = await appendRecords(wh.catalog, ID, [{ id: 3, v: 'c' }], { wapId: 'job-42' });
    const m = r.table.metadata;
    assert.deepEqual(m.refs, before.refs, 'no ref moved');
    assert.equal(m.currentSnapshotId, head);
    const s = m.snapshots.find((x) => x.snapshotId === r.snapshot.snapshotId)!;
    assert.equal(s.parentSnapshotId, head);
    assert.equal(s.summary['wap.id'], 'job-42');
    assert.equal(s.summary.operation, 'append');
    assert.equal(s.summary['total-records'], '3');
    assert.deepEqual(ids(await readTableRows(wh.catalog, ID)), ['1:a', '2:b'], 'main unchanged');
    assert.deepEqual(ids(await readTableRows(wh.catalog, ID, s.snapshotId)), ['1:a', '2:b', '3:c'], 'the staged snapshot holds main + the new rows');
  });

  test('a merge and a delete are staged the same way, planned on main\'s head', async () => {
    const merged = await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'B' }, { id: 5, v: 'e' }], { wapId: 'm1' });
    const deleted = await deleteWhere(wh.catalog, ID, 'id = 1', { wapId: 'd1' });
    const m = (await wh.catalog.loadTable(ID)).metadata;
    assert.equal(m.refs.main?.snapshotId, head);
    assert.equal(merged.snapshot?.summary['wap.id'], 'm1');
    assert.equal(deleted.snapshot?.summary['wap.id'], 'd1');
    // Both stand on main's head, independently (the delete does not see the staged merge).
    assert.equal(merged.snapshot?.parentSnapshotId, head);
    assert.equal(deleted.snapshot?.parentSnapshotId, head);
    assert.deepEqual(ids(await readTableRows(wh.catalog, ID, merged.snapshot!.snapshotId)), ['1:a', '2:B', '5:e']);
    assert.deepEqual(ids(await readTableRows(wh.catalog, ID, deleted.snapshot!.snapshotId)), ['2:b']);
  });

  test('a staged commit racing a commit to main is rebuilt on main\'s new head and never moves main', async () => {
    let moved: bigint | undefined;
    const r = await appendRecords(wh.catalog, ID, [{ id: 9, v: 'z' }], {
      wapId: 'race',
      hooks: { beforeSwap: async (attempt) => { if (attempt === 1) moved = (await appendRecords(wh.catalog, ID, [{ id: 8, v: 'y' }])).snapshot.snapshotId; } },
    });
    assert.ok(moved !== undefined);
    assert.equal(r.table.metadata.refs.main?.snapshotId, moved, 'main kept the other writer\'s commit');
    assert.equal(r.snapshot.parentSnapshotId, moved, 'the retry staged on the new head');
    assert.deepEqual(ids(await readTableRows(wh.catalog, ID, r.snapshot.snapshotId)), ['1:a', '2:b', '8:y', '9:z']);
    assert.equal(r.table.metadata.snapshots.filter((s) => s.summary['wap.id'] === 'race').length, 1, 'staged once');
  });

  test('refused without write.wap.enabled, with a branch, or an empty id — before any file is written', async () => {
    const before = await files('off');
    const metaBefore = (await wh.catalog.loadTable(OFF)).metadataLocation;
    await assert.rejects(appendRecords(wh.catalog, OFF, [{ id: 2 }], { wapId: 'x' }),
      (e: Error) => e instanceof ValidationError && /cannot stage a snapshot with wap id 'x': WAP is not enabled on w\.off \(set table property write\.wap\.enabled=true\)/.test(e.message));
    await assert.rejects(mergeRecords(wh.catalog, OFF, [{ id: 2 }], { wapId: 'x' }), /WAP is not enabled on w\.off/);
    await assert.rejects(deleteWhere(wh.catalog, OFF, 'id = 1', { wapId: 'x' }), /WAP is not enabled on w\.off/);
    assert.deepEqual(await files('off'), before, 'no file written');
    assert.equal((await wh.catalog.loadTable(OFF)).metadataLocation, metaBefore);
    await assert.rejects(appendRecords(wh.catalog, ID, [{ id: 2 }], { wapId: 'x', branch: 'dev' }), /cannot stage with wap id 'x' and write to branch 'dev' of w\.t at once/);
    await assert.rejects(appendRecords(wh.catalog, ID, [{ id: 2 }], { wapId: ' ' }), /a wap id must not be empty/);
  });
});

describe('floe --wap-id', () => {
  async function floe(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const c = await runCli(['--warehouse', wh.dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }),
      stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    });
    return { code: c, out, err };
  }

  test('append, merge and delete stage; snapshots and describe show the wap id', async () => {
    const f = path.join(wh.dir, 'in.ndjson');
    await writeFile(f, '{"id": 7, "v": "g"}\n');
    const a = await floe('append', 'w.t', f, '--wap-id', 'nightly-1');
    assert.equal(a.code, 0, a.err.join('|'));
    assert.match(a.out[0]!, /^appended 1 records in 1 file\(s\) to w\.t \(staged with wap\.id=nightly-1, no branch moved\): snapshot (\d+)/);
    const staged = BigInt(/snapshot (\d+)/.exec(a.out[0]!)![1]!);
    const mf = path.join(wh.dir, 'm.ndjson');
    await writeFile(mf, '{"id": 1, "v": "A"}\n');
    const mr = await floe('merge', 'w.t', mf, '--wap-id', 'nightly-2');
    assert.equal(mr.code, 0, mr.err.join('|'));
    assert.match(mr.out[0]!, /staged with wap\.id=nightly-2: no branch moved/);
    const d = await floe('delete', 'w.t', '--where', 'id = 2', '--wap-id', 'nightly-3');
    assert.equal(d.code, 0, d.err.join('|'));
    assert.match(d.out[0]!, /staged with wap\.id=nightly-3/);
    assert.equal((await wh.catalog.loadTable(ID)).metadata.refs.main?.snapshotId, head);

    const s = await floe('snapshots', 'w.t');
    const rows = s.out.join('\n').split('\n').map((l) => l.split(/\s{2,}/));
    assert.equal(rows[0]!.at(-1), 'wap-id');
    const stagedRow = rows.find((r) => r[0] === String(staged))!;
    assert.equal(stagedRow.at(-1), 'nightly-1');
    const desc = (await floe('describe', 'w.t')).out.join('\n');
    assert.match(desc, new RegExp(`staged \\(write-audit-publish, not on any branch\\):\\n  ${staged} wap\\.id=nightly-1 \\(append, 1 records added, parent ${head}\\)`));
  });

  test('--wap-id on a table without write.wap.enabled: one-line error, nothing written', async () => {
    const f = path.join(wh.dir, 'in2.ndjson');
    await writeFile(f, '{"id": 7}\n');
    const before = await files('off');
    for (const args of [['append', 'w.off', f], ['merge', 'w.off', f], ['delete', 'w.off', '--where', 'id = 1']]) {
      const r = await floe(...args, '--wap-id', 'x');
      assert.equal(r.code, 1);
      assert.deepEqual(r.err, ["floe: cannot stage a snapshot with wap id 'x': WAP is not enabled on w.off (set table property write.wap.enabled=true)"]);
    }
    assert.deepEqual(await files('off'), before);
    const both = await floe('append', 'w.t', f, '--wap-id', 'x', '--branch', 'dev');
    assert.equal(both.code, 1);
    assert.match(both.err[0]!, /cannot stage with wap id 'x' and write to branch 'dev' of w\.t at once/);
  });
});
