// publishBranch / publishWapId / quarantineBranch against a real SQLite catalog and real
// Parquet files: fast-forward, re-apply on a moved main (values, summaries, one commit),
// branch reset, refusals (quarantined, failed audit, conflicts) that leave both refs alone,
// and quarantine moving ref + audit record in one commit.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import pino from 'pino';
import { NotFoundError, ValidationError } from '../../../src/errors.ts';
import { createBranch } from '../../../src/transaction/manage-refs.ts';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { snapshotById, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { tableFiles } from '../../../src/table/table-files.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { commitUpdateWithRetry } from '../../../src/transaction/commit-with-retry.ts';
import { CherryPickConflictError } from '../../../src/transaction/cherry-pick.ts';
import { auditPropertyKey, branchAuditRecord, encodeAuditRecord } from '../../../src/wap/branch-status.ts';
import { publishBranch, publishWapId } from '../../../src/wap/publish.ts';
import { isPublishRefusal, PublishRefusedError } from '../../../src/wap/publish-errors.ts';
import { quarantineBranch } from '../../../src/wap/quarantine.ts';
import { WapMetrics } from '../../../src/wap/wap-metrics.ts';
import { readLiveRows } from '../../support/live-table-rows.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['t'], name: 'x' };
const rows = (from: number, n = 3, tag = 'r') => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `${tag}${from + i}` }));

async function live(wh: TestWarehouse, branch = 'main'): Promise<string[]> {
  return (await readLiveRows(wh.catalog, ID, branch)).map((r) => `${r.id}:${r.v}`).sort();
}
const meta = async (wh: TestWarehouse): Promise<TableMetadata> => (await wh.catalog.loadTable(ID)).metadata;
const ref = (m: TableMetadata, name: string): bigint | undefined => m.refs[name]?.snapshotId;
const quietMetrics = (): WapMetrics => new WapMetrics(new Registry());

describe('publishBranch', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1', 'commit.retry.max-wait-ms': '5' } });
    await appendRecords(wh.catalog, ID, rows(1));
  });
  afterEach(async () => { await wh.cleanup(); });

  test('fast-forwards main when main is an ancestor of the branch head', async () => {
    await appendRecords(wh.catalog, ID, rows(10), { branch: 'b' });
    const b2 = await appendRecords(wh.catalog, ID, rows(20), { branch: 'b' });
    const metrics = quietMetrics();
    const r = await publishBranch(wh.catalog, ID, { branch: 'b', metrics });
    assert.equal(r.kind, 'fast-forward');
    assert.equal(r.mainSnapshotId, b2.snapshot.snapshotId);
    assert.equal(r.published.length, 2);
    const m = await meta(wh);
    assert.equal(ref(m, 'main'), b2.snapshot.snapshotId);
    assert.equal(m.currentSnapshotId, b2.snapshot.snapshotId);
    assert.equal(ref(m, 'b'), b2.snapshot.snapshotId);
    assert.deepEqual(await live(wh), [...rows(1), ...rows(10), ...rows(20)].map((x) => `${x.id}:${x.v}`).sort());
    assert.match(await metrics.registry.metrics(), /floe_wap_published_batches_total\{table="t.x",kind="fast-forward"\} 1/);
    // Publishing again finds nothing.
    const again = await publishBranch(wh.catalog, ID, { branch: 'b', metrics });
    assert.equal(again.kind, 'nothing');
    assert.equal(again.published.length, 0);
  });

  test('re-applies appends on a moved main in ONE commit, keeps main\'s rows, carries summary keys, resets the branch', async () => {
    const s1 = await appendRecords(wh.catalog, ID, rows(10), { branch: 'b', summary: { 'floe.offsets.src': '{"0":13}', 'wap.id': 'w1', 'my.key': 'x' } });
    const s2 = await appendRecords(wh.catalog, ID, rows(20), { branch: 'b', summary: { 'floe.offsets.src': '{"0":23}' } });
    const onMain = await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    const before = await meta(wh);
    const r = await publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() });
    assert.equal(r.kind, 'reapplied');
    assert.deepEqual(r.published.map((p) => p.sourceSnapshotId), [s1.snapshot.snapshotId, s2.snapshot.snapshotId]);
    const m = await meta(wh);
    assert.equal(m.metadataLog.length, before.metadataLog.length + 1, 'the whole publish is one metadata version');
    assert.equal(m.snapshotLog.length, before.snapshotLog.length + 1, 'main moved once');
    assert.equal(ref(m, 'main'), r.mainSnapshotId);
    assert.equal(ref(m, 'b'), r.mainSnapshotId, 'the branch is reset to main\'s new head');
    assert.deepEqual(await live(wh), [...rows(1), ...rows(10), ...rows(20), ...rows(100, 2, 'm')].map((x) => `${x.id}:${x.v}`).sort());
    const [p1, p2] = r.published.map((p) => snapshotById(m, p.snapshotId)!);
    assert.equal(p1!.parentSnapshotId, onMain.snapshot.snapshotId);
    assert.equal(p2!.parentSnapshotId, p1!.snapshotId);
    assert.equal(p1!.summary['source-snapshot-id'], s1.snapshot.snapshotId.toString());
    assert.equal(p1!.summary['published-wap-id'], 'w1');
    assert.equal(p1!.summary['wap.id'], undefined);
    assert.equal(p1!.summary['my.key'], 'x');
    assert.equal(p1!.summary['floe.offsets.src'], '{"0":13}');
    assert.equal(p2!.summary['floe.offsets.src'], '{"0":23}');
    assert.equal(p2!.summary['added-records'], '3');
    assert.equal(p2!.summary['total-records'], '11');
    assert.equal(p2!.summary.operation, 'append');
    // The next batch on the branch carries only itself.
    await appendRecords(wh.catalog, ID, rows(30), { branch: 'b' });
    const r2 = await publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() });
    assert.equal(r2.kind, 'fast-forward');
    assert.equal(r2.published.length, 1);
    assert.equal((await live(wh)).length, 3 + 3 + 3 + 2 + 3);
  });

  test('a branch forked from an EMPTY main re-applies on the main another writer filled since (before: refused, no fork point)', async () => {
    const t = { namespace: ['t'], name: 'fresh' };
    await wh.catalog.createTable(t, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1', 'commit.retry.max-wait-ms': '5' } });
    await appendRecords(wh.catalog, t, rows(10), { branch: 'b' });
    await appendRecords(wh.catalog, t, rows(100, 2, 'm'));
    const r = await publishBranch(wh.catalog, t, { branch: 'b', metrics: quietMetrics() });
    assert.equal(r.kind, 'reapplied');
    const got = (await readLiveRows(wh.catalog, t)).map((x) => `${x.id}:${x.v}`).sort();
    assert.deepEqual(got, [...rows(10), ...rows(100, 2, 'm')].map((x) => `${x.id}:${x.v}`).sort());
  });

  test('dropBranch removes the branch and its audit record in the same commit', async () => {
    await appendRecords(wh.catalog, ID, rows(10), { branch: 'b' });
    await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    await setAudit(wh, 'b', 'passed');
    const r = await publishBranch(wh.catalog, ID, { branch: 'b', dropBranch: true, metrics: quietMetrics() });
    assert.equal(r.kind, 'reapplied');
    const m = await meta(wh);
    assert.equal(m.refs.b, undefined);
    assert.equal(m.properties[auditPropertyKey('b')], undefined);
  });

  test('re-applies a merge-on-read MERGE batch: same table as the merge applied directly on the new main', async () => {
    await mergeRecords(wh.catalog, ID, [{ id: 1, v: 'b-upd' }, { id: 50, v: 'b-new' }], { branch: 'b', mode: 'merge-on-read' });
    await mergeRecords(wh.catalog, ID, [{ id: 2, _op: 'd' }], { branch: 'b', opField: '_op', mode: 'merge-on-read' });
    await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    const r = await publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() });
    assert.equal(r.kind, 'reapplied');
    assert.deepEqual(await live(wh), ['1:b-upd', '3:r3', '50:b-new', '100:m100', '101:m101'].sort());
  });

  test('a MERGE batch touching a key main changed since the fork is refused; both refs unchanged', async () => {
    await mergeRecords(wh.catalog, ID, [{ id: 1, v: 'branch' }], { branch: 'b', mode: 'merge-on-read' });
    await mergeRecords(wh.catalog, ID, [{ id: 1, v: 'main' }], { mode: 'merge-on-read' });
    const before = await meta(wh);
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() }), (e: unknown) => {
      assert.ok(e instanceof CherryPickConflictError, String(e));
      assert.ok(isPublishRefusal(e));
      assert.match(e.message, /^cannot publish branch 'b' of t\.x: snapshot \d+ \((overwrite|delete)\) changes key id=1, which main also changed since the fork \(snapshot \d+\)/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    const after = await meta(wh);
    assert.equal(ref(after, 'main'), ref(before, 'main'));
    assert.equal(ref(after, 'b'), ref(before, 'b'));
    assert.equal(after.metadataLog.length, before.metadataLog.length);
  });

  test('a MERGE that only INSERTED a key (nothing to delete on the branch) is key-validated: main appended that key since the fork → refused', async () => {
    // On the branch key 50 is new, so the MERGE commits an append; a MERGE on the new main would
    // replace main's row 50 instead of adding a second one.
    const staged = await mergeRecords(wh.catalog, ID, [{ id: 50, v: 'b-new' }], { branch: 'b', mode: 'merge-on-read' });
    assert.equal(staged.snapshot?.summary.operation, 'append');
    await appendRecords(wh.catalog, ID, [{ id: 50, v: 'm50' }]);
    const before = await meta(wh);
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() }), (e: unknown) => {
      assert.ok(e instanceof CherryPickConflictError, String(e));
      assert.match(e.message, /snapshot \d+ \(append\) changes key id=50, which main also changed since the fork/);
      return true;
    });
    assert.equal(ref(await meta(wh), 'main'), ref(before, 'main'));
    // A plain append of the same key is not validated (Java cherry-picks appends as they are).
    await appendRecords(wh.catalog, ID, [{ id: 60, v: 'b60' }], { branch: 'c' });
    await appendRecords(wh.catalog, ID, [{ id: 60, v: 'm60' }]);
    assert.equal((await publishBranch(wh.catalog, ID, { branch: 'c', metrics: quietMetrics() })).kind, 'reapplied');
    assert.deepEqual((await live(wh)).filter((r) => r.startsWith('60:')), ['60:b60', '60:m60']);
  });

  test('a branch forked from a published branch does not publish the already-published snapshots again (source-snapshot-id)', async () => {
    await appendRecords(wh.catalog, ID, rows(10, 1, 'b'), { branch: 'b' });
    await createBranch(wh.catalog, ID, 'c', { from: 'b' });
    const c2 = await appendRecords(wh.catalog, ID, rows(20, 1, 'c'), { branch: 'c' });
    await appendRecords(wh.catalog, ID, rows(100, 1, 'm'));
    assert.equal((await publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() })).kind, 'reapplied');
    const r = await publishBranch(wh.catalog, ID, { branch: 'c', metrics: quietMetrics() });
    assert.deepEqual(r.published.map((p) => p.sourceSnapshotId), [c2.snapshot.snapshotId], 'only c\'s own snapshot');
    assert.deepEqual(await live(wh), ['1:r1', '2:r2', '3:r3', '10:b10', '20:c20', '100:m100'].sort());
    // Everything on a branch already published: nothing to do.
    await createBranch(wh.catalog, ID, 'd', { from: c2.snapshot.snapshotId });
    assert.equal((await publishBranch(wh.catalog, ID, { branch: 'd', metrics: quietMetrics() })).kind, 'nothing');
    assert.deepEqual(await live(wh), ['1:r1', '2:r2', '3:r3', '10:b10', '20:c20', '100:m100'].sort());
  });

  test('a copy-on-write batch whose file main compacted away is refused (validateDataFilesExist)', async () => {
    await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'cow' }], { branch: 'b', mode: 'copy-on-write' });
    // main rewrites the same file: a copy-on-write delete of another key in it.
    await mergeRecords(wh.catalog, ID, [{ id: 3, _op: 'd' }], { opField: '_op', mode: 'copy-on-write' });
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() }),
      /CherryPickConflictError: cannot publish branch 'b' of t\.x: snapshot \d+ \(overwrite\) removes data file \S+\.parquet, which main no longer has \(removed or rewritten since the fork\); main and the branch are unchanged/);
  });

  test('a publish that loses a race is rebuilt on the newer main; the lost attempt leaves no file', async () => {
    await appendRecords(wh.catalog, ID, rows(10), { branch: 'b' });
    await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'b-upd' }], { branch: 'b', mode: 'merge-on-read' });
    await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    const r = await publishBranch(wh.catalog, ID, {
      branch: 'b', metrics: quietMetrics(),
      hooks: { beforeSwap: async (attempt) => { if (attempt === 1) await appendRecords(wh.catalog, ID, rows(200, 1, 'race')); } },
    });
    assert.equal(r.kind, 'reapplied');
    assert.equal(r.attempts, 2);
    assert.deepEqual(await live(wh), ['1:r1', '2:b-upd', '3:r3', '10:r10', '11:r11', '12:r12', '100:m100', '101:m101', '200:race200'].sort());
    assert.deepEqual(await strayAvro(wh), [], 'manifests and manifest lists of the lost attempt are removed');
  });

  for (const dropBranch of [false, true]) {
    test(`two publishes of the same branch at once${dropBranch ? ' (--drop-branch)' : ''}: one re-applies, the other finds it on main — no refusal, nothing twice`, async () => {
      await appendRecords(wh.catalog, ID, rows(10, 2), { branch: 'b' });
      await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'b-upd' }], { branch: 'b', mode: 'merge-on-read' });
      await appendRecords(wh.catalog, ID, rows(100, 1, 'm'));
      let other: Awaited<ReturnType<typeof publishBranch>> | undefined;
      const r = await publishBranch(wh.catalog, ID, {
        branch: 'b', dropBranch, metrics: quietMetrics(),
        hooks: { beforeSwap: async (attempt) => { if (attempt === 1) other = await publishBranch(wh.catalog, ID, { branch: 'b', dropBranch, metrics: quietMetrics() }); } },
      });
      assert.equal(other?.kind, 'reapplied');
      assert.equal(r.kind, 'nothing', 'the loser publishes nothing and is not refused');
      assert.equal(r.mainSnapshotId, other!.mainSnapshotId);
      assert.deepEqual(await live(wh), ['1:r1', '2:b-upd', '3:r3', '10:r10', '11:r11', '100:m100'].sort());
      assert.deepEqual(await strayAvro(wh), [], 'the loser\'s manifests are removed');
    });
  }

  test('a conflict that appears during the race is found on the retry: refused, nothing committed, no stray files', async () => {
    await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'b-upd' }], { branch: 'b', mode: 'merge-on-read' });
    await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    await assert.rejects(publishBranch(wh.catalog, ID, {
      branch: 'b', metrics: quietMetrics(),
      hooks: { beforeSwap: async (attempt) => { if (attempt === 1) await mergeRecords(wh.catalog, ID, [{ id: 2, v: 'main-upd' }], { mode: 'merge-on-read' }); } },
    }), /changes key id=2, which main also changed since the fork/);
    assert.deepEqual(await strayAvro(wh), [], 'no manifest or manifest list of the refused publish is left');
    assert.deepEqual(await live(wh), ['1:r1', '2:main-upd', '3:r3', '100:m100', '101:m101'].sort());
  });

  test('refuses a quarantined branch and a branch whose audit of its head failed, unless forced', async () => {
    const s = await appendRecords(wh.catalog, ID, rows(10), { branch: 'b' });
    await setAudit(wh, 'b', 'failed', s.snapshot.snapshotId);
    const before = await meta(wh);
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'b', metrics: quietMetrics() }),
      (e: unknown) => e instanceof PublishRefusedError && e.reason === 'audit-failed' && /audit of its head \d+ failed \(not-null-id\)/.test(e.message));
    assert.equal(ref(await meta(wh), 'main'), ref(before, 'main'));
    const q = await quarantineBranch(wh.catalog, ID, { branch: 'b', record: { checkedAtMs: 1, checks: 1, failed: [{ name: 'not-null-id', type: 'not-null', failing: 1, message: 'x' }] }, metrics: quietMetrics(), log: pino({ level: 'silent' }) });
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: q.quarantineBranch, metrics: quietMetrics() }),
      (e: unknown) => e instanceof PublishRefusedError && e.reason === 'quarantined');
    const forced = await publishBranch(wh.catalog, ID, { branch: q.quarantineBranch, force: true, metrics: quietMetrics() });
    assert.equal(forced.kind, 'fast-forward');
    assert.equal((await live(wh)).length, 6);
  });

  test('a branch that does not exist: one-line NotFoundError naming it', async () => {
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'nope', metrics: quietMetrics() }), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /^t\.x has no branch 'nope' to publish \(the table has: main\)$/);
      return true;
    });
  });

  test('publishWapId cherry-picks a staged wap.id snapshot once', async () => {
    const staged = await appendRecords(wh.catalog, ID, rows(10), { branch: 'stage', summary: { 'wap.id': 'job-7' } });
    await commitUpdateWithRetry(wh.catalog, ID, { prepare: async () => ({ updates: [{ action: 'remove-snapshot-ref', refName: 'stage' }], requirements: [], attemptFiles: [] }) });
    await appendRecords(wh.catalog, ID, rows(100, 2, 'm'));
    const r = await publishWapId(wh.catalog, ID, 'job-7', { metrics: quietMetrics() });
    assert.equal(r.kind, 'reapplied');
    const m = await meta(wh);
    const s = snapshotById(m, r.mainSnapshotId!)!;
    assert.equal(s.summary['published-wap-id'], 'job-7');
    assert.equal(s.summary['source-snapshot-id'], staged.snapshot.snapshotId.toString());
    assert.deepEqual(await live(wh), [...rows(1), ...rows(10), ...rows(100, 2, 'm')].map((x) => `${x.id}:${x.v}`).sort());
    await assert.rejects(publishWapId(wh.catalog, ID, 'job-7', { metrics: quietMetrics() }),
      (e: unknown) => e instanceof PublishRefusedError && e.reason === 'already-published');
    await assert.rejects(publishWapId(wh.catalog, ID, 'nope', { metrics: quietMetrics() }), NotFoundError);
  });
});

describe('quarantineBranch', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(wh.catalog, ID, rows(1));
  });
  afterEach(async () => { await wh.cleanup(); });

  test('moves the ref and the audit record in one commit; main untouched; metric and log line', async () => {
    const s = await appendRecords(wh.catalog, ID, rows(10), { branch: 'audit' });
    await setAudit(wh, 'audit', 'failed', s.snapshot.snapshotId);
    const before = await meta(wh);
    const metrics = quietMetrics();
    const lines: string[] = [];
    const log = pino({ base: null }, { write: (l: string) => { lines.push(l); } });
    const r = await quarantineBranch(wh.catalog, ID, {
      branch: 'audit', metrics, log,
      record: { checkedAtMs: 5, checks: 2, failed: [{ name: 'ids-unique', type: 'unique', failing: 3, message: '3 duplicate ids' }] },
    });
    assert.equal(r.quarantineBranch, `quarantine/audit/${s.snapshot.snapshotId}`);
    const m = await meta(wh);
    assert.equal(m.metadataLog.length, before.metadataLog.length + 1);
    assert.equal(m.refs.audit, undefined);
    assert.equal(ref(m, r.quarantineBranch), s.snapshot.snapshotId);
    assert.equal(ref(m, 'main'), ref(before, 'main'));
    assert.equal(m.properties[auditPropertyKey('audit')], undefined);
    const rec = branchAuditRecord(m, r.quarantineBranch)!;
    assert.equal(rec.status, 'quarantined');
    assert.equal(rec.quarantinedFrom, 'audit');
    assert.equal(rec.snapshotId, s.snapshot.snapshotId);
    assert.equal(rec.failed[0]!.name, 'ids-unique');
    assert.deepEqual((await live(wh, r.quarantineBranch)).length, 6);
    assert.match(await metrics.registry.metrics(), /floe_wap_quarantined_batches_total\{table="t.x"\} 1/);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as { branch: string; failedChecks: { name: string }[]; msg: string };
    assert.equal(line.branch, 'audit');
    assert.equal(line.failedChecks[0]!.name, 'ids-unique');
    assert.match(line.msg, /quarantined branch 'audit' of t\.x as 'quarantine\/audit\/\d+': failed ids-unique; main untouched/);
    // The name is free for the next batch, which forks from main again.
    const next = await appendRecords(wh.catalog, ID, rows(20), { branch: 'audit' });
    assert.equal(next.snapshot.parentSnapshotId, ref(m, 'main'));
  });

  test('a branch re-created at a head already quarantined: one clear refusal, not a retried conflict', async () => {
    await appendRecords(wh.catalog, ID, rows(10), { branch: 'b' });
    const quiet = { metrics: quietMetrics(), log: pino({ level: 'silent' }) };
    const q = await quarantineBranch(wh.catalog, ID, { branch: 'b', record: { checkedAtMs: 1, checks: 0, failed: [] }, ...quiet });
    await createBranch(wh.catalog, ID, 'b', { from: q.quarantineBranch });
    const before = (await wh.catalog.loadTable(ID)).metadataLocation;
    await assert.rejects(quarantineBranch(wh.catalog, ID, { branch: 'b', record: { checkedAtMs: 1, checks: 0, failed: [] }, ...quiet }),
      (e: Error) => e instanceof ValidationError && e.message === `cannot quarantine branch 'b' of t.x: '${q.quarantineBranch}' already exists (the same head was quarantined before); drop one of the two branches`);
    assert.equal((await wh.catalog.loadTable(ID)).metadataLocation, before);
  });

  test('a missing branch fails naming it, nothing changed', async () => {
    await assert.rejects(quarantineBranch(wh.catalog, ID, { branch: 'gone', record: { checkedAtMs: 1, checks: 0, failed: [] }, metrics: quietMetrics(), log: pino({ level: 'silent' }) }), /no branch or tag 'gone'/);
  });
});

/** Avro files in metadata/ that no snapshot references (what a failed attempt must not leave). */
async function strayAvro(wh: TestWarehouse): Promise<string[]> {
  const t = await wh.catalog.loadTable(ID);
  const referenced = await tableFiles(wh.catalog.io, t.metadata, t.metadataLocation);
  return (await wh.catalog.io.list(`${t.metadata.location}/metadata/`)).map((f) => f.uri).filter((u) => u.endsWith('.avro') && !referenced.has(u));
}

async function setAudit(wh: TestWarehouse, branch: string, status: 'passed' | 'failed', snapshotId?: bigint): Promise<void> {
  const m = await meta(wh);
  const head = snapshotId ?? m.refs[branch]!.snapshotId;
  await commitUpdateWithRetry(wh.catalog, ID, { prepare: async () => ({
    updates: [{ action: 'set-properties', updates: { [auditPropertyKey(branch)]: encodeAuditRecord({ status, snapshotId: head, checkedAtMs: 1, checks: 1, failed: status === 'failed' ? [{ name: 'not-null-id', type: 'not-null', failing: 1, message: 'id is null' }] : [] }) } }],
    requirements: [], attemptFiles: [],
  }) });
}
