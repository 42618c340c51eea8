// runAudit on a real table: every check kind passes on good rows and fails on crafted bad
// ones with exact counts and samples; scope `added` audits only what the branch adds over
// main (main's bad rows are not audited), scope `branch` the whole branch; warnings never
// fail an audit; the result is recorded as the branch's audit status property.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recordAuditResult, auditReportJson, formatAuditReport } from '../../../src/audit/audit-report.ts';
import { branchAuditRecord } from '../../../src/wap/branch-status.ts';
import { CUSTOMERS, NOW_MS, ORDERS, order, ordersTable, type OrdersTable } from './audit-fixtures.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';

describe('runAudit: check kinds on rows a branch adds', () => {
  let t: OrdersTable;
  before(async () => {
    t = await ordersTable();
    // main holds rows that would fail every check: under scope `added` they are never audited.
    await t.append([
      order(1, { region: null, amount: '-5.00', ts: '2020-01-01T00:00:00Z', customer: 99 }),
      order(1, { region: 'xx' }),
    ]);
    // The branch adds 4 rows: id 12 twice, a null region, a negative amount, an unknown customer.
    await t.append([
      order(10),
      order(11, { region: null }),
      order(12, { amount: '-0.01', customer: 7 }),
      order(12, { region: 'us', amount: '100.01', ts: '2026-06-01T11:59:59.123456Z' }),
    ], 'audit');
    await t.wh.catalog.createTable(CUSTOMERS, { schema: schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'cid', required: true, type: 'long' }] }) });
    await appendRecords(t.wh.catalog, CUSTOMERS, [{ cid: 1 }, { cid: 2 }]);
  });
  after(async () => t.cleanup());

  test('not_null: counts and samples the rows with a null, only among added rows', async () => {
    const c = await t.check([{ type: 'not_null', columns: ['id', 'region'] }]);
    assert.equal(c.name, 'not_null(id,region)');
    assert.deepEqual([c.passed, c.failing, c.total], [false, 1, 4]);
    assert.deepEqual(c.samples, [{ id: '11', region: null, amount: '10.00', ts: '2026-06-01T11:30:00.000000Z', customer: '1' }]);
    assert.equal(c.message, '1 of 4 rows have a null in id, region');
    const ok = await t.check([{ type: 'not_null', column: 'amount' }]);
    assert.deepEqual([ok.passed, ok.failing, ok.samples], [true, 0, []]);
  });

  test('unique: duplicated key values (default: the table key), dbt style', async () => {
    const c = await t.check([{ type: 'unique' }]);
    assert.equal(c.name, 'unique');
    assert.deepEqual([c.passed, c.failing, c.total], [false, 1, 4]);
    assert.deepEqual(c.samples, [{ id: '12', n: '2' }]);
    const ok = await t.check([{ type: 'unique', columns: ['id', 'region'] }]);
    assert.equal(ok.passed, true, 'null regions are ignored, (12,eu) and (12,us) differ');
  });

  test('accepted_values', async () => {
    const c = await t.check([{ type: 'accepted_values', column: 'region', values: ['eu'] }]);
    assert.deepEqual([c.passed, c.failing], [false, 1]);
    assert.equal(c.samples[0]!.region, 'us');
    assert.equal((await t.check([{ type: 'accepted_values', column: 'region', values: ['eu', 'us'] }])).passed, true);
  });

  test('accepted_values with a long list (kept in a table, not the SQL text): same answers, values cast to the column type', async () => {
    const many = (extra: (string | number)[]): (string | number)[] => [...Array.from({ length: 5000 }, (_, i) => `r${i}`), ...extra];
    const c = await t.check([{ type: 'accepted_values', column: 'region', values: many(['eu']) }]);
    assert.deepEqual([c.passed, c.failing, c.samples[0]!.region], [false, 1, 'us']);
    assert.match(c.message, /not in \["r0", "r1", .*, \.\.\.\]/);
    assert.equal((await t.check([{ type: 'accepted_values', column: 'region', values: many(['eu', 'us']) }])).passed, true);
    const amounts = await t.check([{ type: 'accepted_values', column: 'amount', values: [...Array.from({ length: 2000 }, (_, i) => i + 1000), '-0.01', 5] }]);
    assert.deepEqual(amounts.samples.map((s) => s.amount).sort(), (await t.check([{ type: 'accepted_values', column: 'amount', values: ['-0.01', 5] }])).samples.map((s) => s.amount).sort(), 'same offending rows as the inline list');
    await assert.rejects(t.check([{ type: 'accepted_values', column: 'amount', values: many([]) }]), /checks\[0\] \(accepted_values\(amount\)\) on db\.orders: cannot compile the check: Conversion Error/);
  });

  test('range: inclusive by default, exclusive on request, decimals compared exactly', async () => {
    const c = await t.check([{ type: 'range', column: 'amount', min: 0, max: '100.00' }]);
    assert.deepEqual([c.passed, c.failing], [false, 2]);
    assert.deepEqual(c.samples.map((s) => s.amount).sort(), ['-0.01', '100.01']);
    assert.equal((await t.check([{ type: 'range', column: 'amount', min: '-0.01', max: '100.01' }])).passed, true);
    const excl = await t.check([{ type: 'range', column: 'amount', min: '-0.01', max: '100.01', inclusive: false }]);
    assert.equal(excl.failing, 2);
    const ts = await t.check([{ type: 'range', column: 'ts', max: '2026-06-01T11:59:59Z' }]);
    assert.deepEqual([ts.failing, ts.samples[0]!.ts], [1, '2026-06-01T11:59:59.123456Z']);
  });

  test('row_count', async () => {
    const ok = await t.check([{ type: 'row_count', min: 1, max: 4 }]);
    assert.deepEqual([ok.passed, ok.failing, ok.total], [true, 0, 4]);
    const low = await t.check([{ type: 'row_count', min: 5 }]);
    assert.deepEqual([low.passed, low.failing, low.message], [false, 4, '4 rows, fewer than min 5']);
    const high = await t.check([{ type: 'row_count', max: 3, scope: 'branch' }]);
    assert.deepEqual([high.passed, high.total], [false, 6]);
  });

  test('freshness: the newest event time against now, max_age as a duration', async () => {
    const ok = await t.check([{ type: 'freshness', column: 'ts', max_age: '1h' }]);
    assert.equal(ok.passed, true, ok.message);
    assert.match(ok.message, /newest ts 2026-06-01T11:59:59.123456Z is 0s old/);
    const stale = await t.check([{ type: 'freshness', column: 'ts', max_age: '30m' }], { nowMs: NOW_MS + 3_600_000 });
    assert.equal(stale.passed, false);
    assert.equal(stale.failing, 3_600_877, 'the age in ms of the newest value');
    assert.deepEqual(stale.samples, [{ ts: '2026-06-01T11:59:59.123456Z' }]);
  });

  test('relationships: every non-null value exists in the other table (its main)', async () => {
    const c = await t.check([{ type: 'relationships', column: 'customer', to: { table: 'db.customers', column: 'cid' } }]);
    assert.deepEqual([c.passed, c.failing], [false, 1]);
    assert.equal(c.samples[0]!.customer, '7');
    assert.match(c.message, /not in db\.customers\.cid \(main at snapshot \d+\)/);
  });

  test('sql: the rows the query returns are the offending rows', async () => {
    const c = await t.check([{ type: 'sql', name: 'eu_amounts', sql: "SELECT id, amount FROM rows WHERE region = 'eu' AND amount < 0 ORDER BY id;" }]);
    assert.deepEqual([c.name, c.passed, c.failing, c.samples], ['eu_amounts', false, 1, [{ id: '12', amount: '-0.01' }]]);
    const ok = await t.check([{ type: 'sql', sql: 'SELECT * FROM rows WHERE id < 10' }]);
    assert.equal(ok.passed, true);
  });

  test('sql ending in a -- comment (a YAML block scalar with a note on its last line) runs', async () => {
    const c = await t.check([{ type: 'sql', name: 'noted', sql: "SELECT id, amount FROM rows\nWHERE region = 'eu' AND amount < 0 -- refunds are audited elsewhere\n" }]);
    assert.deepEqual([c.passed, c.failing, c.samples], [false, 1, [{ id: '12', amount: '-0.01' }]]);
  });

  test('scope branch audits main\'s rows too; added does not', async () => {
    const r = await t.audit([
      { type: 'not_null', column: 'region', name: 'added' },
      { type: 'not_null', column: 'region', name: 'all', scope: 'branch' },
    ]);
    assert.deepEqual(r.checks.map((c) => [c.name, c.failing, c.total]), [['added', 1, 4], ['all', 2, 6]]);
  });

  test('warn never fails the audit; the report names every check; the status is recorded', async () => {
    const r = await t.audit([
      { type: 'row_count', min: 1 },
      { type: 'unique', severity: 'warn' },
    ]);
    assert.equal(r.passed, true);
    assert.deepEqual(r.checks.map((c) => [c.passed, c.severity]), [[true, 'error'], [false, 'warn']]);
    const lines = formatAuditReport(r);
    assert.match(lines[0]!, /^audit PASSED: db\.orders branch audit at snapshot \d+ \(base main, forked at \d+\): 2 check\(s\), 0 failed, 1 warning\(s\)/);
    assert.match(lines[1]!, /^PASS {2}row_count {2}\[added\] {2}4 rows/);
    assert.match(lines[2]!, /^WARN {2}unique {5}\[added\] {2}1 duplicated value\(s\) of \(id\) among 4 rows/);
    assert.equal(lines[3], '      {"id":"12","n":"2"}');
    await recordAuditResult(t.wh.catalog, ORDERS, r);
    const failed = await t.audit([{ type: 'unique' }]);
    const json = auditReportJson(failed);
    assert.equal(json['snapshot-id'], failed.snapshotId.toString());
    await recordAuditResult(t.wh.catalog, ORDERS, failed);
    const m = (await t.wh.catalog.loadTable(ORDERS)).metadata;
    const rec = branchAuditRecord(m, 'audit')!;
    assert.deepEqual([rec.status, rec.snapshotId, rec.checks, rec.failed.map((f) => [f.name, f.failing])], ['failed', failed.snapshotId, 1, [['unique', 1]]]);
    assert.equal(m.snapshots.length, 2, 'recording adds no snapshot');
  });
});
