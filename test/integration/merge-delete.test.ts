// MERGE and DELETE through floe's own API and CLI, read back with floe's reader-side pieces:
// the documented rules for duplicate keys, ordering and absent keys; clear errors for bad input
// with nothing committed; keys set later; both write modes; a rerun of the same batch changes
// nothing it has not already changed (upserts are idempotent).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { deleteWhere } from '../../src/merge/delete-where.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { scanLiveRows } from '../../src/merge/live-rows.ts';
import { loadRowLevelBase } from '../../src/merge/row-level-base.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { schemaWithKey, setTableKey } from '../../src/transaction/set-table-key.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const run = promisify(execFile);
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'v', required: false, type: 'string' },
    { name: 'seq', required: false, type: 'long' },
  ],
}, { assignIds: true });
const ID = { namespace: ['d'], name: 't' };

/** The table's live rows as {id, region, v, seq}, sorted by id — read with the same live-row
 * scan the merge uses (deletes applied). The interop tests check the same with real readers. */
async function rows(wh: TestWarehouse): Promise<Record<string, unknown>[]> {
  const t = await wh.catalog.loadTable(ID);
  const base = await loadRowLevelBase(wh.catalog.io, t.metadata, branchHead(t.metadata, 'main'));
  const out: Record<string, unknown>[] = [];
  for (const live of base.data) {
    await scanLiveRows(base, live, [1, 2, 3, 4], (_pos, col, row) => {
      out.push({ id: col(1)(row), region: col(2)(row), v: col(3)(row), seq: col(4)(row) });
    });
  }
  return out.sort((a, b) => (a.id as bigint) < (b.id as bigint) ? -1 : 1);
}

async function snapshotCount(wh: TestWarehouse): Promise<number> {
  return (await wh.catalog.loadTable(ID)).metadata.snapshots.length;
}

const FLOE = path.join(REPO_ROOT, 'bin/floe.js');

describe('merge and delete', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['d']);
    const keyed = schemaWithKey(SCHEMA, ['id']);
    await wh.catalog.createTable(ID, { schema: keyed, spec: parsePartitionExpression('region', keyed), properties: { 'commit.retry.min-wait-ms': '1' } });
    await appendRecords(wh.catalog, ID, [
      { id: 1, region: 'eu', v: 'a', seq: 1 }, { id: 2, region: 'us', v: 'b', seq: 1 }, { id: 3, region: 'eu', v: 'c', seq: 1 },
    ]);
  });
  afterEach(async () => { await wh.cleanup(); });

  for (const mode of ['merge-on-read', 'copy-on-write'] as const) {
    test(`${mode}: upsert replaces by key, inserts new keys, moves a row across partitions`, async () => {
      const r = await mergeRecords(wh.catalog, ID, [{ id: 2, region: 'eu', v: 'B', seq: 2 }, { id: 4, region: 'ap', v: 'd', seq: 1 }], { mode });
      assert.equal(r.inserted, 1);
      assert.equal(r.updated, 1);
      assert.equal(r.snapshot?.summary.operation, 'overwrite');
      if (mode === 'merge-on-read') assert.equal(r.snapshot?.summary['added-position-deletes'], '1');
      else assert.equal(r.snapshot?.summary['added-delete-files'], undefined);
      assert.deepStrictEqual(await rows(wh), [
        { id: 1n, region: 'eu', v: 'a', seq: 1n }, { id: 2n, region: 'eu', v: 'B', seq: 2n },
        { id: 3n, region: 'eu', v: 'c', seq: 1n }, { id: 4n, region: 'ap', v: 'd', seq: 1n },
      ]);
      // The same batch again: same rows (the replaced rows are replaced again, never doubled).
      await mergeRecords(wh.catalog, ID, [{ id: 2, region: 'eu', v: 'B', seq: 2 }, { id: 4, region: 'ap', v: 'd', seq: 1 }], { mode });
      assert.equal((await rows(wh)).length, 4);
    });

    test(`${mode}: delete by key and by predicate; absent keys are harmless`, async () => {
      const r = await mergeRecords(wh.catalog, ID, [{ id: 1 }, { id: 99 }], { deleteOnly: true, mode });
      assert.equal(r.deleted, 1);
      assert.equal(r.absentDeletes, 1);
      // Copy-on-write rewrites the file the row was in (rows added back): Iceberg labels that overwrite.
      assert.equal(r.snapshot?.summary.operation, mode === 'merge-on-read' ? 'delete' : 'overwrite');
      const d = await deleteWhere(wh.catalog, ID, "region = 'us' OR v IS NULL", { mode });
      assert.equal(d.deletedRows, 1);
      assert.deepStrictEqual((await rows(wh)).map((x) => x.id), [3n]);
      const none = await deleteWhere(wh.catalog, ID, 'id > 100', { mode });
      assert.equal(none.snapshot, undefined, 'no row matched: nothing committed');
    });
  }

  test('duplicate keys in a batch without ordering: the last one wins (stream order)', async () => {
    await mergeRecords(wh.catalog, ID, [{ id: 5, region: 'eu', v: 'first' }, { id: 5, region: 'us', v: 'second' }]);
    assert.deepStrictEqual((await rows(wh)).filter((x) => x.id === 5n), [{ id: 5n, region: 'us', v: 'second', seq: null }]);
  });

  test('with --order-by a table column, an older change never overwrites a newer row', async () => {
    const r = await mergeRecords(wh.catalog, ID, [
      { id: 1, region: 'eu', v: 'old', seq: 0 }, // older than the table's seq 1: kept out
      { id: 2, region: 'us', v: 'new', seq: 5 }, { id: 2, region: 'us', v: 'newest', seq: 7 }, { id: 2, region: 'us', v: 'late', seq: 6 },
      { op: 'd', id: 3, region: 'eu', seq: 0 },
    ].map((x) => ({ op: 'u', ...x })), { opField: 'op', orderBy: 'seq' });
    assert.equal(r.stale, 2);
    assert.deepStrictEqual((await rows(wh)).map((x) => x.v), ['a', 'newest', 'c']);
  });

  test('bad input: a clear error naming the record, nothing committed', async () => {
    const before = await snapshotCount(wh);
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ id: 7, region: 'eu' }, { region: 'eu', v: 'no key' }]), /record 1: .*id/);
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ op: 'x', id: 7, region: 'eu' }], { opField: 'op' }), /record 0: .*op.*'?x'?/);
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ id: 'seven', region: 'eu' }]), /record 0: .*id/);
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ id: 8, region: null }]), /record 0: .*region/);
    await assert.rejects(deleteWhere(wh.catalog, ID, 'regoin = 1'), /regoin/);
    await assert.rejects(deleteWhere(wh.catalog, ID, "id = 'x'"), /id/);
    await assert.rejects(deleteWhere(wh.catalog, ID, 'id = '), /--where|position|expected/);
    assert.equal(await snapshotCount(wh), before);
    assert.equal((await rows(wh)).length, 3);
  });

  test('a table without a key refuses merge and delete by key, naming the fix; set-key enables them', async () => {
    const plain = { namespace: ['d'], name: 'nokey' };
    await wh.catalog.createTable(plain, { schema: SCHEMA });
    await appendRecords(wh.catalog, plain, [{ id: 1, region: 'eu' }]);
    await assert.rejects(mergeRecords(wh.catalog, plain, [{ id: 1 }], { deleteOnly: true }), /has no key.*floe table set-key d\.nokey/);
    await setTableKey(wh.catalog, plain, ['id']);
    const r = await mergeRecords(wh.catalog, plain, [{ id: 1 }], { deleteOnly: true });
    assert.equal(r.deleted, 1);
  });

  test('CLI: floe merge names the input line of a bad record; floe delete --where reports rows', async () => {
    const file = path.join(wh.dir, 'changes.ndjson');
    writeFileSync(file, '{"id": 1, "region": "eu", "v": "A", "op": "u"}\n\n{"id": 2, "region": "us", "v": "B", "op": "zap"}\n');
    const env = { ...process.env, FLOE_WAREHOUSE: wh.dir, FLOE_CATALOG: `sqlite:${wh.catalogDb}` };
    const bad = await run('node', [FLOE, 'merge', 'd.t', file, '--op-field', 'op'], { env }).catch((e: { stderr: string; code: number }) => e);
    assert.equal((bad as { code: number }).code, 1);
    assert.match((bad as { stderr: string }).stderr, /changes\.ndjson line 3: .*op/);
    writeFileSync(file, '{"id": 1, "region": "eu", "v": "A"}\n{"id": 9, "region": "ap", "v": "Z"}\n');
    const ok = await run('node', [FLOE, 'merge', 'd.t', file], { env });
    assert.match(ok.stdout, /1 inserted, 1 updated, 0 deleted/);
    const del = await run('node', [FLOE, 'delete', 'd.t', '--where', "region IN ('ap', 'us')"], { env });
    assert.match(del.stdout, /deleted 2 row\(s\)/);
    assert.deepStrictEqual((await rows(wh)).map((x) => x.id), [1n, 3n]);
  });

  test('Debezium envelopes: c/u/d by source.lsn, wrapped or bare, tombstones skipped; the newest change wins', async () => {
    const ev = (op: string, lsn: number, before: object | null, after: object | null) => ({ op, ts_ms: 1_700_000_000_000 + lsn, source: { lsn }, before, after });
    const r = await mergeRecords(wh.catalog, ID, [
      { schema: {}, payload: ev('u', 12, { id: 1 }, { id: 1, region: 'eu', v: 'lsn12', seq: 1 }) },
      ev('u', 11, { id: 1 }, { id: 1, region: 'eu', v: 'lsn11', seq: 1 }), // older: loses in the batch
      ev('d', 20, { id: 2, region: 'us' }, null),
      null, // Kafka tombstone after a delete
      ev('c', 21, null, { id: 7, region: 'ap', v: 'new', seq: 1 }),
    ], { format: 'debezium' });
    assert.deepStrictEqual([r.inserted, r.updated, r.deleted, r.superseded], [1, 1, 1, 1]);
    assert.deepStrictEqual((await rows(wh)).map((x) => [x.id, x.v]), [[1n, 'lsn12'], [3n, 'c'], [7n, 'new']]);
    await assert.rejects(mergeRecords(wh.catalog, ID, [ev('t', 30, null, null)], { format: 'debezium' }), /record 0: .*truncate|record 0: .*'t'/);
  });

  test('write.upsert.enabled (equality deletes) refuses a partition column outside the key, naming it', async () => {
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { 'write.upsert.enabled': 'true' } }]);
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ id: 1, region: 'eu' }]), /write\.upsert\.enabled=true .*'region' is not a key column/);
    // --mode picks a reading strategy explicitly and works on the same table.
    const r = await mergeRecords(wh.catalog, ID, [{ id: 1, region: 'eu', v: 'x' }], { mode: 'merge-on-read' });
    assert.equal(r.updated, 1);
  });

  test('CLI: a merged file is never re-applied (old values would come back); a grown file merges only its new lines', async () => {
    const env = { ...process.env, FLOE_WAREHOUSE: wh.dir, FLOE_CATALOG: `sqlite:${wh.catalogDb}` };
    const a = path.join(wh.dir, 'a.ndjson');
    const b = path.join(wh.dir, 'b.ndjson');
    writeFileSync(a, '{"id": 1, "region": "eu", "v": "from-a"}\n');
    writeFileSync(b, '{"id": 1, "region": "eu", "v": "from-b"}\n');
    await run('node', [FLOE, 'merge', 'd.t', a], { env });
    await run('node', [FLOE, 'merge', 'd.t', b], { env });
    const rerun = await run('node', [FLOE, 'merge', 'd.t', a], { env });
    assert.match(rerun.stdout, /nothing to merge: .*already merged .* up to its end/);
    assert.equal((await rows(wh)).find((x) => x.id === 1n)?.v, 'from-b', 'the rerun did not put the old value back');
    writeFileSync(a, '{"id": 1, "region": "eu", "v": "from-a"}\n{"id": 2, "region": "us", "v": "a-line-2"}\n');
    const grown = await run('node', [FLOE, 'merge', 'd.t', a], { env });
    assert.match(grown.stdout, /0 inserted, 1 updated.*resumed at line 2/);
    assert.deepStrictEqual((await rows(wh)).map((x) => x.v), ['from-b', 'a-line-2', 'c']);
    await run('node', [FLOE, 'merge', 'd.t', a, '--allow-rerun'], { env });
    assert.equal((await rows(wh)).find((x) => x.id === 1n)?.v, 'from-a', '--allow-rerun re-applies the file');
  });

  test('delete --keys: a record\'s own fields (even one named like the internal op field) never turn its delete into an upsert', async () => {
    const r = await mergeRecords(wh.catalog, ID, [{ id: 1, region: 'eu', v: 'x', __floe_op: 'u' }], { deleteOnly: true });
    assert.equal(r.deleted, 1);
    assert.equal(r.upserted, 0);
    assert.deepStrictEqual((await rows(wh)).map((x) => x.id), [2n, 3n]);
  });

  test('--order-by reads only the record\'s own fields (an inherited name such as constructor is absent)', async () => {
    await assert.rejects(mergeRecords(wh.catalog, ID, [{ id: 1, region: 'eu' }], { orderBy: 'constructor' }), /record 0: .*constructor/);
  });
});
