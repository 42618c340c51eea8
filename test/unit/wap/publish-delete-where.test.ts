// Publishing a staged `floe delete --where` on a main that moved: the re-applied delete must
// give exactly the table a direct delete on the new main gives. Rows main added since the fork
// (appends, updates re-inserting a row) that match the predicate would survive a re-applied
// delete — refused as a conflict naming the snapshot, the predicate and the file; rows that do
// not match (or rows main moved out of the predicate) publish to the direct-delete table. Every
// expected table is a twin that got the same operations directly on main.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { bindPredicate } from '../../../src/expr/bind-predicate.ts';
import { evaluateRow } from '../../../src/expr/evaluate.ts';
import { parsePredicate } from '../../../src/expr/parse-predicate.ts';
import { DELETE_WHERE_SUMMARY, deleteWhere } from '../../../src/merge/delete-where.ts';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { Schema, schemaFromJson } from '../../../src/spec/schema.ts';
import { currentSchema, snapshotById, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { commitUpdateWithRetry } from '../../../src/transaction/commit-with-retry.ts';
import { CherryPickConflictError } from '../../../src/transaction/cherry-pick.ts';
import { publishBranch, publishWapId } from '../../../src/wap/publish.ts';
import { WapMetrics } from '../../../src/wap/wap-metrics.ts';
import { readLiveRows } from '../../support/live-table-rows.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const fields = [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'region', required: true, type: 'string' },
  { id: 3, name: 'v', required: false, type: 'string' },
];
const KEYED = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields }, { assignIds: true });
const KEYLESS = schemaFromJson({ type: 'struct', fields }, { assignIds: true });
const T: TableIdentifier = { namespace: ['t'], name: 'x' };
const W: TableIdentifier = { namespace: ['t'], name: 'twin' };
const INIT = [1, 2, 3, 4, 5, 6].map((id) => ({ id, region: id % 2 ? 'eu' : 'us', v: `init${id}` }));
const WHERE = "region = 'eu'";

type Op = (id: TableIdentifier, branch?: string) => Promise<unknown>;
const append = (recs: Record<string, unknown>[]): Op => (id, branch) => appendRecords(wh.catalog, id, recs, branch ? { branch } : {});
const merge = (recs: Record<string, unknown>[], mode: 'merge-on-read' | 'copy-on-write' = 'merge-on-read'): Op =>
  (id, branch) => mergeRecords(wh.catalog, id, recs, { opField: '_op', mode, ...(branch ? { branch } : {}) });
const del = (where: string, mode: 'merge-on-read' | 'copy-on-write' = 'merge-on-read'): Op =>
  (id, branch) => deleteWhere(wh.catalog, id, where, { mode, ...(branch ? { branch } : {}) });

let wh: TestWarehouse;
const meta = async (id = T): Promise<TableMetadata> => (await wh.catalog.loadTable(id)).metadata;
const live = async (id: TableIdentifier): Promise<string[]> => (await readLiveRows(wh.catalog, id)).map((r) => `${r.id}|${r.region}|${r.v}`).sort();

async function setup(schema: Schema, partitioned: boolean): Promise<void> {
  const spec = partitioned ? parsePartitionExpression('region', schema) : undefined;
  for (const id of [T, W]) {
    await wh.catalog.createTable(id, { schema, ...(spec ? { spec } : {}), properties: { 'commit.retry.min-wait-ms': '1', 'commit.retry.max-wait-ms': '5' } });
    await appendRecords(wh.catalog, id, INIT);
  }
}

/** The branch `b` gets `branchOps` after main forked, then main gets `mainOps`; the twin gets
 * main's then the branch's directly. Returns the refusal, or undefined once the published
 * table was checked against the twin (values). */
async function publishAgainstTwin(branchOps: Op[], mainOps: Op[]): Promise<CherryPickConflictError | undefined> {
  for (const op of branchOps) await op(T, 'b');
  for (const op of mainOps) await op(T);
  for (const op of [...mainOps, ...branchOps]) await op(W);
  const before = await meta();
  try {
    const r = await publishBranch(wh.catalog, T, { branch: 'b', metrics: new WapMetrics(new Registry()) });
    assert.equal(r.kind, 'reapplied');
  } catch (e) {
    if (!(e instanceof CherryPickConflictError)) throw e;
    assert.doesNotMatch(e.message, /\n/);
    const after = await meta();
    assert.equal(after.refs.main?.snapshotId, before.refs.main?.snapshotId, 'main unchanged after a refusal');
    assert.equal(after.refs.b?.snapshotId, before.refs.b?.snapshotId, 'branch unchanged after a refusal');
    assert.equal(after.metadataLog.length, before.metadataLog.length, 'no commit after a refusal');
    return e;
  }
  assert.deepEqual(await live(T), await live(W), 'published table = the same operations applied directly on main');
  return undefined;
}

describe('publish of a delete by predicate on a moved main', () => {
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
  });
  afterEach(async () => { await wh.cleanup(); });

  test('deleteWhere records its predicate in canonical text that parses and binds back to the same predicate', async () => {
    await setup(KEYED, false);
    const r = await deleteWhere(wh.catalog, T, "region = 'eu' and not (v in ('init1', 'x''y'))", { branch: 'b' });
    const text = r.snapshot!.summary[DELETE_WHERE_SUMMARY];
    assert.equal(text, "(region = 'eu' AND (NOT v IN ('init1', 'x''y')))");
    const bound = bindPredicate(parsePredicate(text!), currentSchema(await meta()));
    assert.deepEqual(INIT.filter((row) => evaluateRow(bound, (f) => (f === 1 ? BigInt(row.id) : f === 2 ? row.region : row.v))).map((x) => x.id), [3, 5]);
  });

  for (const partitioned of [false, true]) {
    const layout = partitioned ? 'partitioned by region' : 'unpartitioned';
    test(`main appends a NEW key matching the predicate: refused naming snapshot, predicate and file (keyed, ${layout})`, async () => {
      await setup(KEYED, partitioned);
      const err = await publishAgainstTwin([del(WHERE)], [append([{ id: 7, region: 'eu', v: 'm7' }])]);
      assert.ok(err, 'a re-applied delete would keep main\'s new eu row 7');
      const staged = (await meta()).refs.b!.snapshotId;
      assert.match(err.message, new RegExp(`branch 'b' of t\\.x: snapshot ${staged} \\(delete\\) deletes rows where \\(region = 'eu'\\), and main added matching rows since the fork in data file \\S+\\.parquet`));
    });
  }

  test('main appends rows NOT matching the predicate: published, the direct-delete table (keyed)', async () => {
    await setup(KEYED, true);
    assert.equal(await publishAgainstTwin([del(WHERE)], [append([{ id: 7, region: 'us', v: 'm7' }, { id: 8, region: 'us', v: 'm8' }])]), undefined);
    assert.deepEqual(await live(T), ['2|us|init2', '4|us|init4', '6|us|init6', '7|us|m7', '8|us|m8']);
  });

  test('table without a key: a matching append is refused, a non-matching one publishes the direct-delete table', async () => {
    await setup(KEYLESS, false);
    assert.ok(await publishAgainstTwin([del(WHERE)], [append([{ id: 1, region: 'eu', v: 'again' }])]));
    await wh.cleanup();
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await setup(KEYLESS, false);
    assert.equal(await publishAgainstTwin([del(WHERE)], [append([{ id: 1, region: 'us', v: 'again' }])]), undefined);
    assert.deepEqual(await live(T), ['1|us|again', '2|us|init2', '4|us|init4', '6|us|init6']);
  });

  test('main UPDATES a row into the predicate (position delete + insert): refused', async () => {
    await setup(KEYED, false);
    // Key 2 was 'us' when the branch deleted eu rows; main moves it to 'eu'.
    const err = await publishAgainstTwin([del(WHERE)], [merge([{ _op: 'u', id: 2, region: 'eu', v: 'moved' }])]);
    assert.ok(err);
    assert.match(err.message, /deletes rows where \(region = 'eu'\)/);
  });

  test('main updates a deleted row OUT of the predicate: published, the row stays as main updated it', async () => {
    await setup(KEYED, false);
    assert.equal(await publishAgainstTwin([del(WHERE)], [merge([{ _op: 'u', id: 1, region: 'us', v: 'moved' }])]), undefined);
    assert.deepEqual(await live(T), ['1|us|moved', '2|us|init2', '4|us|init4', '6|us|init6']);
  });

  test('copy-on-write delete with an earlier branch append: matching main row refused, non-matching published', async () => {
    await setup(KEYED, false);
    assert.ok(await publishAgainstTwin([append([{ id: 20, region: 'eu', v: 'b20' }]), del(WHERE, 'copy-on-write')], [append([{ id: 9, region: 'eu', v: 'm9' }])]));
    await wh.cleanup();
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['t']);
    await setup(KEYED, false);
    assert.equal(await publishAgainstTwin([append([{ id: 20, region: 'eu', v: 'b20' }]), del(WHERE, 'copy-on-write')], [append([{ id: 9, region: 'us', v: 'm9' }])]), undefined);
    assert.deepEqual(await live(T), ['2|us|init2', '4|us|init4', '6|us|init6', '9|us|m9']);
  });

  test('the recorded predicate is bound by field id with the schema the delete used: a column renamed on main since is still checked', async () => {
    await setup(KEYED, false);
    await deleteWhere(wh.catalog, T, WHERE, { branch: 'b' });
    const renamed = async (): Promise<void> => {
      const m = await meta();
      const now = currentSchema(m);
      const next = new Schema(now.schemaId + 1, now.fields.map((f) => (f.name === 'region' ? { ...f, name: 'area' } : f)), now.identifierFieldIds);
      await commitUpdateWithRetry(wh.catalog, T, { prepare: async () => ({
        updates: [{ action: 'add-schema', schema: next, lastColumnId: m.lastColumnId }, { action: 'set-current-schema', schemaId: next.schemaId }],
        requirements: [], attemptFiles: [],
      }) });
    };
    await renamed();
    await appendRecords(wh.catalog, T, [{ id: 8, area: 'us', v: 'm8' }]);
    assert.equal((await publishBranch(wh.catalog, T, { branch: 'b', metrics: new WapMetrics(new Registry()) })).kind, 'reapplied');
    assert.deepEqual((await readLiveRows(wh.catalog, T)).map((r) => `${r.id}|${r.area}`).sort(), ['2|us', '4|us', '6|us', '8|us']);
    await deleteWhere(wh.catalog, T, "area = 'us' AND id < 3", { branch: 'b' });
    await appendRecords(wh.catalog, T, [{ id: 0, area: 'us', v: 'm0' }]);
    await assert.rejects(publishBranch(wh.catalog, T, { branch: 'b', metrics: new WapMetrics(new Registry()) }),
      /deletes rows where \(area = 'us' AND id < 3\), and main added matching rows since the fork in data file \S+ \(snapshot \d+, e\.g\. id=0,area=us\)/);
  });

  test('a delete by keys (delete-only MERGE) stays validated by key', async () => {
    await setup(KEYED, false);
    const err = await publishAgainstTwin([merge([{ _op: 'd', id: 3, region: 'eu' }])], [merge([{ _op: 'u', id: 3, region: 'eu', v: 'm3' }])]);
    assert.ok(err);
    assert.match(err.message, /changes key id=3, which main also changed/);
  });

  test('publishWapId re-validates a staged delete by predicate the same way', async () => {
    await wh.catalog.createTable(T, { schema: KEYED, properties: { 'write.wap.enabled': 'true' } });
    await appendRecords(wh.catalog, T, INIT);
    const staged = await deleteWhere(wh.catalog, T, WHERE, { wapId: 'd1' });
    assert.equal(staged.snapshot!.summary[DELETE_WHERE_SUMMARY], "region = 'eu'");
    await appendRecords(wh.catalog, T, [{ id: 7, region: 'eu', v: 'm7' }]);
    const before = await meta();
    await assert.rejects(publishWapId(wh.catalog, T, 'd1', { metrics: new WapMetrics(new Registry()) }), (e: Error) =>
      e instanceof CherryPickConflictError && /wap\.id d1' of t\.x: snapshot \d+ \(delete\) deletes rows where \(region = 'eu'\)/.test(e.message));
    assert.equal((await meta()).refs.main?.snapshotId, before.refs.main?.snapshotId);
    assert.ok(snapshotById(await meta(), staged.snapshot!.snapshotId));
  });
});
