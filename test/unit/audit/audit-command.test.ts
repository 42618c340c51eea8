// `floe audit` through runCli on a real warehouse, and bad check files through the API:
// exit 0 passed (warnings allowed), 1 a check failed, 2 bad input with a one-line error that
// names the file, the key path or the check and column, and nothing changed (no property, no
// metadata file); --json's shape; --no-record; the recorded status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../catalog/index.ts';
import { loadAuditChecks, parseAuditChecks } from '../../../src/audit/audit-checks.ts';
import { runAudit, validateAuditChecks } from '../../../src/audit/run-audit.ts';
import { runCli } from '../../../src/cli/main.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { branchAuditRecord } from '../../../src/wap/branch-status.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { ORDERS, ORDERS_SCHEMA, order } from './audit-fixtures.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

interface Run { code: number; out: string[]; err: string[] }

describe('floe audit', () => {
  let dir: string;
  const floe = async (...args: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }),
      stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    });
    return { code, out, err };
  };
  const file = async (name: string, text: string): Promise<string> => {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  };
  const withCatalog = async <T>(fn: (c: Catalog) => Promise<T>): Promise<T> => {
    const c = await openCatalog({ warehouse: dir });
    try { return await fn(c); } finally { await c.close(); }
  };
  const metadataFiles = async (): Promise<string[]> => (await readdir(path.join(dir, 'db', 'orders', 'metadata'))).sort();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'floe-audit-cli-'));
    await withCatalog(async (c) => {
      await c.createNamespace(['db']);
      await c.createTable(ORDERS, { schema: ORDERS_SCHEMA });
      await appendRecords(c, ORDERS, [order(1)]);
      await appendRecords(c, ORDERS, [order(2), order(3, { region: null, amount: '-2.50' })], { branch: 'etl' });
    });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('exit 0 with warnings, the report a line per check, the status recorded', async () => {
    const checks = await file('ok.yaml', 'checks:\n  - type: not_null\n    columns: [id]\n  - type: range\n    column: amount\n    min: 0\n    severity: warn\n');
    const r = await floe('audit', 'db.orders', '--branch', 'etl', '--checks', checks);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0]!, /^audit PASSED: db\.orders branch etl at snapshot (\d+) /);
    assert.match(r.out[1]!, /^PASS {2}not_null\(id\) {3}\[added\] {2}0 of 2 rows have a null in id$/);
    assert.match(r.out[2]!, /^WARN {2}range\(amount\) {2}\[added\] {2}1 of 2 rows have amount outside \[0, ∞\]$/);
    assert.equal(r.out[3], '      {"id":"3","region":null,"amount":"-2.50","ts":"2026-06-01T11:30:00.000000Z","customer":"1"}');
    const rec = await withCatalog(async (c) => branchAuditRecord((await c.loadTable(ORDERS)).metadata, 'etl'));
    assert.equal(rec?.status, 'passed');
  });

  test('exit 1 when a check fails; --json shape; --no-record leaves the table alone', async () => {
    const checks = await file('bad.json', JSON.stringify({ checks: [{ type: 'not_null', column: 'region' }, { type: 'row_count', min: 1 }] }));
    const before = await metadataFiles();
    const r = await floe('audit', 'db.orders', '--branch', 'etl', '--checks', checks, '--json', '--no-record');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out.join('\n'));
    assert.deepEqual(Object.keys(j), ['table', 'branch', 'base-branch', 'snapshot-id', 'fork-snapshot-id', 'checked-at-ms', 'passed', 'duration-ms', 'checks']);
    assert.equal(j.passed, false);
    assert.equal(typeof j['snapshot-id'], 'string');
    assert.deepEqual(j.checks[0], {
      name: 'not_null(region)', type: 'not_null', scope: 'added', severity: 'error', passed: false, failing: 1, total: 2,
      message: '1 of 2 rows have a null in region',
      samples: [{ id: '3', region: null, amount: '-2.50', ts: '2026-06-01T11:30:00.000000Z', customer: '1' }],
    });
    assert.deepEqual(await metadataFiles(), before, '--no-record commits nothing');
    const recorded = await floe('audit', 'db.orders', '--branch', 'etl', '--checks', checks);
    assert.equal(recorded.code, 1);
    const rec = await withCatalog(async (c) => branchAuditRecord((await c.loadTable(ORDERS)).metadata, 'etl'));
    assert.deepEqual([rec?.status, rec?.failed.map((f) => f.name)], ['failed', ['not_null(region)']]);
  });

  const badInputs: [string, string, RegExp][] = [
    ['unknown.yaml', 'checks:\n  - type: not_null\n    column: id\n  - type: no_dupes\n', /unknown\.yaml: checks\[1\]\.type: unknown check type 'no_dupes' \(known: not_null, unique, accepted_values, range, row_count, freshness, relationships, sql\)$/],
    ['missing.yaml', 'checks:\n  - type: not_null\n    column: id\n  - type: row_count\n    min: 1\n  - type: range\n    min: 0\n', /missing\.yaml: checks\[2\]\.column: required$/],
    ['column.yaml', 'checks:\n  - type: accepted_values\n    column: regoin\n    values: [eu]\n', /column\.yaml: checks\[0\] \(accepted_values\(regoin\)\) on db\.orders: column 'regoin' is not in the table \(columns: id, region, amount, ts, customer\)$/],
    ['parse.yaml', 'checks:\n  - type: sql\n    name: neg\n    sql: SELEC * FROM rows\n', /parse\.yaml: checks\[0\]\.sql \(neg\): SQL does not parse: Parser Error: syntax error at or near "SELEC"/],
    ['bind.yaml', 'checks:\n  - type: sql\n    name: neg\n    sql: SELECT * FROM rows WHERE amont < 0\n', /bind\.yaml: checks\[0\] \(neg\) on db\.orders: SQL is invalid: Binder Error: .*amont/],
    ['notselect.yaml', 'checks:\n  - type: sql\n    name: drop\n    sql: DROP TABLE rows\n', /notselect\.yaml: checks\[0\] \(drop\) on db\.orders: SQL is invalid: the query must be a SELECT/],
    ['files.yaml', "checks:\n  - type: sql\n    name: peek\n    sql: SELECT * FROM read_text('/etc/hostname')\n", /files\.yaml: checks\[0\] \(peek\) on db\.orders: SQL is invalid: Permission Error: Cannot access file "\/etc\/hostname"/],
    ['yaml.yaml', 'checks:\n  - type: not_null\n   column: [id\n', /yaml\.yaml: not valid YAML\/JSON: /],
    ['extra.yaml', 'checks:\n  - type: unique\n    colums: [id]\n', /extra\.yaml: checks\[0\]: unknown key 'colums'$/],
    ['ref.yaml', 'checks:\n  - type: relationships\n    column: customer\n    to: { table: db.nope, column: id }\n', /ref\.yaml: checks\[0\] \(relationships\(customer\)\) on db\.orders: cannot load table 'db\.nope': /],
    ['fresh.yaml', 'checks:\n  - type: freshness\n    column: amount\n    max_age: 1h\n', /fresh\.yaml: checks\[0\] \(freshness\(amount\)\) on db\.orders: column 'amount' is decimal; freshness needs a timestamp/],
    ['age.yaml', 'checks:\n  - type: freshness\n    column: ts\n    max_age: an hour\n', /age\.yaml: checks\[0\]\.max_age: duration 'an hour' is not like 90s/],
    ['root.yaml', 'defaults: &d { scope: branch }\nchecks:\n  - type: unique\n', /root\.yaml: \(root\): unknown key 'defaults'$/],
    ['bomb.yaml', `a: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`).join('\n')}\nchecks: []\n`, /bomb\.yaml: not valid YAML\/JSON: Excessive alias count/],
  ];
  for (const [name, text, expected] of badInputs) {
    test(`exit 2, one line, nothing changed: ${name}`, async () => {
      const checks = await file(name, text);
      const before = await metadataFiles();
      const r = await floe('audit', 'db.orders', '--branch', 'etl', '--checks', checks);
      assert.equal(r.code, 2, r.out.join('\n') + r.err.join('\n'));
      assert.deepEqual(r.out, []);
      assert.equal(r.err.length, 1);
      assert.match(r.err[0]!, /^floe: /);
      assert.match(r.err[0]!, expected);
      assert.doesNotMatch(r.err[0]!, /\n/);
      assert.deepEqual(await metadataFiles(), before);
    });
  }

  test('exit 2 for a missing branch, table or check file', async () => {
    const checks = await file('ok2.yaml', 'checks: [{ type: row_count, min: 1 }]');
    const branch = await floe('audit', 'db.orders', '--branch', 'nope', '--checks', checks);
    assert.deepEqual([branch.code, branch.err], [2, ["floe: table db.orders: no branch or tag 'nope' (the table has: etl, main)"]]);
    const table = await floe('audit', 'db.nope', '--branch', 'etl', '--checks', checks);
    assert.equal(table.code, 2);
    assert.match(table.err[0]!, /db\.nope/);
    const missing = await floe('audit', 'db.orders', '--branch', 'etl', '--checks', path.join(dir, 'absent.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.err[0]!, /^floe: cannot read check file .*absent\.yaml/);
    const snap = await floe('audit', 'db.orders', '--branch', 'etl', '--snapshot', '12x', '--checks', checks);
    assert.deepEqual([snap.code, snap.err], [2, ["floe: --snapshot must be a snapshot id (an integer), got '12x'"]]);
  });

  test('--help explains the check file with an example', async () => {
    const r = await floe('audit', '--help');
    assert.equal(r.code, 0);
    const text = r.out.join('\n');
    for (const s of ['type: not_null', 'type: relationships', 'scope', 'severity', 'Exit codes', 'floe.wap.audit.<branch>']) assert.ok(text.includes(s), s);
  });

  test('validateAuditChecks and loadAuditChecks work without reading data; duplicate names refused', async () => {
    // YAML merge keys reuse a check's settings.
    const merged = await loadAuditChecks(await file('merge.yaml', 'checks:\n  - &nn { type: not_null, column: id, scope: branch, severity: warn }\n  - <<: *nn\n    column: region\n'));
    assert.deepEqual(merged.checks.map((c) => [c.name, c.scope, c.severity]), [['not_null(id)', 'branch', 'warn'], ['not_null(region)', 'branch', 'warn']]);
    const checks = await loadAuditChecks(await file('v.yaml', '[{ type: unique }, { type: not_null, column: id }]'));
    await withCatalog((c) => validateAuditChecks(c, ORDERS, checks));
    await assert.rejects(parseAuditChecks({ checks: [{ type: 'unique' }, { type: 'unique' }] }, 'dup.yaml'), /^ValidationError: dup\.yaml: checks\[1\]\.name: 'unique' is used by an earlier check/);
    await assert.rejects(parseAuditChecks({ checks: [{ type: 'row_count', min: 5, max: 1 }] }, 'rc.yaml'), /rc\.yaml: checks\[0\]\.max: min must not be above max/);
    await assert.rejects(parseAuditChecks({ nope: 1 }, 'top.yaml'), /top\.yaml: checks: required/);
    const c = await parseAuditChecks({ checks: [{ type: 'sql', sql: 'SELECT 1' }] }, 'x');
    await assert.rejects(withCatalog((cat) => runAudit(cat, ORDERS, { branch: 'etl', checks: c, snapshotId: 42n })), /table db\.orders has no snapshot 42/);
  });
});
