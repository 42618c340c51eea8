// `floe publish` / `floe quarantine` in-process: output text and JSON with ids, exit codes
// (0 published, 1 refused, 2 bad input), one-line errors, and nothing changed on refusal.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];
const ID = { namespace: ['db'], name: 't' };
const SCHEMA = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: [
  { id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'v', required: false, type: 'string' },
] }, { assignIds: true });

describe('floe publish / quarantine', () => {
  let dir: string;
  let catalog: Catalog;
  const floe = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}) }),
      stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    });
    return { code, out, err };
  };
  const heads = async () => { const m = (await catalog.loadTable(ID)).metadata; return Object.fromEntries(Object.entries(m.refs).map(([k, r]) => [k, r.snapshotId])); };
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'floe-publish-cli-'));
    catalog = await openCatalog({ warehouse: dir });
    await catalog.createNamespace(['db']);
    await catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(catalog, ID, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
  });
  after(async () => { await catalog.close(); await rm(dir, { recursive: true, force: true }); });

  test('fast-forward, re-apply, nothing, with ids in text and JSON', async () => {
    const b1 = await appendRecords(catalog, ID, [{ id: 3, v: 'c' }], { branch: 'audit' });
    let r = await floe('publish', 'db.t', '--branch', 'audit');
    assert.deepEqual([r.code, r.err], [0, []]);
    assert.deepEqual(r.out, [`published branch 'audit' of db.t: fast-forward main to snapshot ${b1.snapshot.snapshotId} (1 snapshot(s): ${b1.snapshot.snapshotId})`]);
    const b2 = await appendRecords(catalog, ID, [{ id: 4, v: 'd' }], { branch: 'audit' });
    await appendRecords(catalog, ID, [{ id: 5, v: 'e' }]);
    r = await floe('publish', 'db.t', '--branch', 'audit', '--json');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out[0]!) as { kind: string; branch: string; mainSnapshotId: number; published: { sourceSnapshotId: number; snapshotId: number }[] };
    assert.equal(j.kind, 'reapplied');
    assert.equal(j.branch, 'audit');
    assert.equal(BigInt(r.out[0]!.match(/"sourceSnapshotId":(\d+)/)![1]!), b2.snapshot.snapshotId);
    assert.equal((await heads()).audit, (await heads()).main);
    r = await floe('publish', 'db.t', '--branch', 'audit');
    assert.deepEqual([r.code, r.out[0]!.startsWith(`nothing to publish: branch 'audit' of db.t`)], [0, true]);
  });

  test('a conflict exits 1 with one line; bad input exits 2; nothing changed', async () => {
    await mergeRecords(catalog, ID, [{ id: 1, v: 'branch' }], { branch: 'c', mode: 'merge-on-read' });
    await mergeRecords(catalog, ID, [{ id: 1, v: 'main' }], { mode: 'merge-on-read' });
    const before = await heads();
    let r = await floe('publish', 'db.t', '--branch', 'c');
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0]!, /^floe: cannot publish branch 'c' of db\.t: snapshot \d+ \(overwrite\) changes key id=1, which main also changed since the fork/);
    assert.deepEqual(await heads(), before);
    r = await floe('publish', 'db.t', '--branch', 'nope');
    assert.deepEqual([r.code, r.err], [2, ["floe: db.t has no branch 'nope' to publish (the table has: audit, c, main)"]]);
    r = await floe('publish', 'db.t');
    assert.deepEqual([r.code, r.err], [2, ['floe: give --branch NAME or --wap-id ID']]);
    r = await floe('publish', 'db.t', '--wap-id', 'none');
    assert.deepEqual([r.code, r.err], [2, ["floe: db.t has no snapshot staged with wap.id 'none'"]]);
    assert.deepEqual(await heads(), before);
  });

  test('quarantine by hand, then publish of the quarantine branch is refused (1) unless --force', async () => {
    const s = await appendRecords(catalog, ID, [{ id: 9, v: 'bad' }], { branch: 'q' });
    let r = await floe('quarantine', 'db.t', '--branch', 'q', '--reason', 'late data');
    assert.equal(r.code, 0);
    assert.deepEqual(r.out, [`quarantined branch 'q' of db.t as 'quarantine/q/${s.snapshot.snapshotId}' (snapshot ${s.snapshot.snapshotId}); main untouched`]);
    const before = await heads();
    assert.equal(before.q, undefined);
    r = await floe('publish', 'db.t', '--branch', `quarantine/q/${s.snapshot.snapshotId}`);
    assert.equal(r.code, 1);
    assert.match(r.err[0]!, /is quarantined \(from 'q'\): it is not published without --force/);
    assert.deepEqual(await heads(), before);
    r = await floe('quarantine', 'db.t', '--branch', 'q');
    assert.equal(r.code, 2);
    assert.match(r.err[0]!, /no branch or tag 'q'/);
  });
});
