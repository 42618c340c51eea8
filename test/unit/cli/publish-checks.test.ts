// `floe publish --branch B --checks FILE`: write-audit-publish in one command — a passing
// audit publishes (exit 0, report then result), a failing one quarantines (exit 1, main
// untouched, the rows on the quarantine branch), bad input changes nothing (exit 2).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { snapshotOwnChanges } from '../../../src/transaction/snapshot-own-changes.ts';
import { readTableRows } from '../../support/read-table.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];
const ID = { namespace: ['db'], name: 't' };
const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'v', required: false, type: 'string' },
] }, { assignIds: true });

describe('floe publish --checks', () => {
  let dir: string;
  let catalog: Catalog;
  let checks: string;
  const floe = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}) }),
      stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    });
    return { code, out, err };
  };
  const ids = async (branch = 'main') => (await readTableRows(catalog, ID, branch)).map((r) => Number(r.id)).sort((a, b) => a - b);
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'floe-publish-checks-'));
    catalog = await openCatalog({ warehouse: dir });
    await catalog.createNamespace(['db']);
    await catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(catalog, ID, [{ id: 1, v: 'a' }]);
    checks = path.join(dir, 'checks.yaml');
    await writeFile(checks, 'checks:\n  - type: not_null\n    columns: [v]\n  - type: unique\n    columns: [id]\n    scope: branch\n');
  });
  after(async () => { await catalog.close(); await rm(dir, { recursive: true, force: true }); });

  test('a passing audit publishes: the report, then the publish', async () => {
    await appendRecords(catalog, ID, [{ id: 2, v: 'b' }], { branch: 'audit' });
    const r = await floe('publish', 'db.t', '--branch', 'audit', '--checks', checks);
    assert.deepEqual([r.code, r.err], [0, []]);
    assert.match(r.out.join('\n'), /PASS/);
    assert.match(r.out.at(-1)!, /^published branch 'audit' of db\.t: fast-forward main/);
    assert.deepEqual(await ids(), [1, 2]);
  });

  test('a failing audit quarantines: exit 1, main untouched, the rows on the quarantine branch', async () => {
    await appendRecords(catalog, ID, [{ id: 3, v: null }, { id: 1, v: 'dup' }], { branch: 'audit' });
    const r = await floe('publish', 'db.t', '--branch', 'audit', '--checks', checks, '--json');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out[0]!) as { outcome: string; quarantineBranch: string; audit: { passed: boolean; checks: { name: string; passed: boolean; failing: number }[] } };
    assert.equal(j.outcome, 'quarantined');
    assert.deepEqual(j.audit.checks.map((c) => [c.passed, c.failing]), [[false, 1], [false, 1]]);
    assert.deepEqual(await ids(), [1, 2]);
    assert.deepEqual(await ids(j.quarantineBranch), [1, 1, 2, 3]);
    const m = (await catalog.loadTable(ID)).metadata;
    assert.equal(m.refs.audit, undefined, 'the audit branch name is free for the next batch');
    const again = await floe('publish', 'db.t', '--branch', j.quarantineBranch);
    assert.equal(again.code, 1, 'a quarantined branch is not published without --force');
    assert.match(again.err[0]!, /quarantined/);
  });

  test('bad input: a check file that names an unknown column changes nothing (exit 2)', async () => {
    await appendRecords(catalog, ID, [{ id: 4, v: 'd' }], { branch: 'audit' });
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'checks:\n  - type: not_null\n    columns: [nope]\n');
    const before = (await readdir(path.join(dir, 'db', 't', 'metadata'))).length;
    const r = await floe('publish', 'db.t', '--branch', 'audit', '--checks', bad);
    assert.equal(r.code, 2);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0]!, /nope/);
    assert.equal((await readdir(path.join(dir, 'db', 't', 'metadata'))).length, before);
    assert.deepEqual(await ids(), [1, 2]);
  });

  test('a data file that cannot be read: exit 3 (could not run), one line naming the file, nothing published or quarantined', async () => {
    const staged = await appendRecords(catalog, ID, [{ id: 5, v: 'e' }], { branch: 'audit' });
    const file = (await snapshotOwnChanges(catalog.io, staged.snapshot)).addedDataFiles[0]!.filePath;
    await rm(new URL(file));
    const before = (await catalog.loadTable(ID)).metadata;
    for (const args of [['audit', 'db.t', '--branch', 'audit', '--checks', checks], ['publish', 'db.t', '--branch', 'audit', '--checks', checks]]) {
      const r = await floe(...args);
      assert.equal(r.code, 3, `${args[0]}: ${r.err.join(' | ')}`);
      assert.equal(r.err.length, 1);
      assert.ok(r.err[0]!.includes(file), r.err[0]);
    }
    const after = (await catalog.loadTable(ID)).metadata;
    assert.deepEqual(Object.keys(after.refs).sort(), Object.keys(before.refs).sort());
    assert.equal(after.refs.main!.snapshotId, before.refs.main!.snapshotId);
  });
});
