// Branches, tags and WAP staging read by every engine: floe writes main, a branch and a tag, and
// pyiceberg, DuckDB, Spark and Trino return exactly each ref's rows by name (Spark `VERSION AS OF
// 'b'`, Trino `FOR VERSION AS OF 'b'`, pyiceberg/DuckDB by the ref's snapshot id) with main
// unchanged. Then Spark publishes what floe staged: `cherrypick_snapshot` of a floe snapshot
// staged by wap.id, and `fast_forward` of main to a floe branch — after which every reader sees
// the rows on main and floe keeps writing on top of Spark's commits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { createBranch, createTag } from '../../src/transaction/manage-refs.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();
const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['wap'], name: 'orders' };
const TABLE = 'wap.orders';
const rows = (...ids: number[]) => ids.map((id) => ({ id, v: `v${id}` }));
const keys = (rs: readonly Record<string, unknown>[]) => rs.map((r) => `${String(r.id)}:${String(r.v)}`).sort();

describe('branches, tags and staged snapshots across readers', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  const spark = () => ({ catalog_db: wh.catalogDb, warehouse: wh.dir, catalog_name: 'floe' });

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['wap']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.wap.enabled': 'true' } });
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  async function readAll(opts: { ref?: string } = {}): Promise<Map<ReaderName, string[]>> {
    const out = new Map<ReaderName, string[]>();
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: TABLE, ...opts });
      out.set(reader, keys(res.rows));
    }
    return out;
  }

  async function expectEverywhere(want: readonly Record<string, unknown>[], opts: { ref?: string } = {}): Promise<void> {
    const expected = keys(want);
    for (const [reader, got] of await readAll(opts)) assert.deepStrictEqual(got, expected, `${reader} reading ${opts.ref ?? 'main'}`);
  }

  test('every reader returns exactly a branch\'s and a tag\'s rows by name; main unchanged', { timeout: 600_000 }, async () => {
    await appendRecords(wh.catalog, ID, rows(1, 2));
    await createTag(wh.catalog, ID, 'v1');
    await createBranch(wh.catalog, ID, 'b');
    await appendRecords(wh.catalog, ID, rows(10, 11), { branch: 'b' });
    await appendRecords(wh.catalog, ID, rows(3));
    await expectEverywhere(rows(1, 2, 10, 11), { ref: 'b' });
    await expectEverywhere(rows(1, 2), { ref: 'v1' });
    await expectEverywhere(rows(1, 2, 3));
  });

  test('Spark cherry-picks a floe snapshot staged by wap.id; every reader then sees it on main', { timeout: 600_000 }, async () => {
    const staged = await appendRecords(wh.catalog, ID, rows(20, 21), { wapId: 'nightly-7' });
    assert.equal(staged.snapshot.summary['wap.id'], 'nightly-7');
    // main moves on, so Spark must re-apply (not just fast-forward to) the staged snapshot.
    await appendRecords(wh.catalog, ID, rows(4));
    await expectEverywhere(rows(1, 2, 3, 4), {});
    await readers.sql('spark', `CALL floe.system.cherrypick_snapshot('${TABLE}', ${staged.snapshot.snapshotId})`, spark());
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const head = m.snapshots.find((s) => s.snapshotId === m.refs.main!.snapshotId)!;
    assert.equal(head.summary['published-wap-id'], 'nightly-7');
    assert.equal(head.summary['source-snapshot-id'], String(staged.snapshot.snapshotId));
    await expectEverywhere(rows(1, 2, 3, 4, 20, 21));
  });

  test('Spark fast-forwards main to a floe branch; floe appends on top of Spark\'s commit', { timeout: 600_000 }, async () => {
    await createBranch(wh.catalog, ID, 'ff');
    const ffHead = (await appendRecords(wh.catalog, ID, rows(30), { branch: 'ff' })).snapshot.snapshotId;
    await readers.sql('spark', `CALL floe.system.fast_forward('${TABLE}', 'main', 'ff')`, spark());
    assert.equal((await wh.catalog.loadTable(ID)).metadata.refs.main!.snapshotId, ffHead);
    await appendRecords(wh.catalog, ID, rows(40));
    await expectEverywhere(rows(1, 2, 3, 4, 20, 21, 30, 40));
    // The branch and the tag still read as before.
    await expectEverywhere(rows(1, 2, 10, 11), { ref: 'b' });
    await expectEverywhere(rows(1, 2), { ref: 'v1' });
  });
});
