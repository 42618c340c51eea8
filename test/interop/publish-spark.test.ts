// Spark stages, floe publishes: Spark writes to a branch (`ALTER TABLE … CREATE BRANCH`, then
// `INSERT INTO t.branch_b` and a MERGE-on-read DELETE there), floe appends to main meanwhile,
// and `floe publish` re-applies Spark's branch snapshots on main. Every reader then sees exactly
// main's rows plus the branch's, and the published snapshots name Spark's as their source.
// Spark also stages a `spark.wap.id` snapshot, which `floe publish --wap-id` cherry-picks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { runCli } from '../../src/cli/main.ts';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { snapshotById } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { publishWapId } from '../../src/wap/publish.ts';
import { WapMetrics } from '../../src/wap/wap-metrics.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];
const SCHEMA = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: [
  { id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['sp'], name: 't' };

describe('Spark-staged branch published by floe', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  before(async () => {
    wh = await testWarehouse('floe-publish-spark-');
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['sp']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.wap.enabled': 'true' } });
    await appendRecords(wh.catalog, ID, [{ id: 1, v: 'main-1' }, { id: 2, v: 'main-2' }, { id: 3, v: 'main-3' }]);
  });
  after(async () => { await readers?.close(); await wh?.cleanup(); });

  const spark = () => ({ catalog_db: wh.catalogDb, warehouse: wh.dir, catalog_name: 'floe' });
  const readAll = async (expected: string[]): Promise<void> => {
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'sp.t' });
      assert.deepEqual(res.rows.map((r) => `${String(r.id)}:${String(r.v)}`).sort(), [...expected].sort(), reader);
    }
  };

  test('INSERT INTO t.branch_b and a DELETE on the branch, floe appends to main, floe publish re-applies', async () => {
    await readers.sql('spark', 'ALTER TABLE floe.sp.t CREATE BRANCH b', spark());
    await readers.sql('spark', "INSERT INTO floe.sp.t.branch_b VALUES (10, 'spark-10'), (11, 'spark-11')", spark());
    await readers.sql('spark', "ALTER TABLE floe.sp.t SET TBLPROPERTIES ('write.delete.mode'='merge-on-read')", spark());
    await readers.sql('spark', 'DELETE FROM floe.sp.t.branch_b WHERE id = 2', spark());
    await appendRecords(wh.catalog, ID, [{ id: 20, v: 'floe-20' }]);
    await readAll(['1:main-1', '2:main-2', '3:main-3', '20:floe-20']);

    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', wh.dir, 'publish', 'sp.t', '--branch', 'b', '--json'], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }), stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    });
    assert.deepEqual([code, err], [0, []]);
    assert.equal((JSON.parse(out[0]!) as { kind: string; published: unknown[] }).kind, 'reapplied');
    await readAll(['1:main-1', '3:main-3', '10:spark-10', '11:spark-11', '20:floe-20']);
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const head = snapshotById(m, m.refs.main!.snapshotId)!;
    assert.ok(head.summary['source-snapshot-id'] !== undefined);
    assert.equal(m.refs.b!.snapshotId, m.refs.main!.snapshotId);
  });

  test('a spark.wap.id staged snapshot is published by floe publishWapId', async () => {
    await readers.sql('spark', "SET spark.wap.id = spark-job-1", spark());
    await readers.sql('spark', "INSERT INTO floe.sp.t VALUES (30, 'wap-30')", spark());
    await readers.sql('spark', 'RESET spark.wap.id', spark());
    await appendRecords(wh.catalog, ID, [{ id: 40, v: 'floe-40' }]);
    const r = await publishWapId(wh.catalog, ID, 'spark-job-1', { metrics: new WapMetrics(new Registry()) });
    assert.equal(r.kind, 'reapplied');
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const published = snapshotById(m, r.mainSnapshotId!)!;
    assert.equal(published.summary['published-wap-id'], 'spark-job-1');
    assert.equal(published.summary['engine-name'], 'floe');
    assert.equal(published.summary['iceberg-version'], undefined, 'the engine keys describe the publishing writer');
    await readAll(['1:main-1', '3:main-3', '10:spark-10', '11:spark-11', '20:floe-20', '30:wap-30', '40:floe-40']);
  });
});
