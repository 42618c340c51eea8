// `floe merge` and `floe delete` SIGKILLed at every named phase (src/fault-points.ts): before
// the catalog swap nothing of the change is visible and the table is consistent (floe,
// pyiceberg and DuckDB agree); after it the whole change is. A rerun ends in the same state as
// one clean run: upserts and deletes by key are idempotent, so nothing is doubled or lost.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { assertTableHolds, rowsFor, type Row } from '../support/crash-checks.ts';
import { describeRun, runFloe } from '../support/crash-run.ts';
import { ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
] }, { assignIds: true }), ['id']);

const PRE_SWAP = ['merge.after-files', 'merge.after-manifest-list', 'commit.after-metadata-file'] as const;
const BASE = rowsFor(0, 60);
/** Updates ids 10–29, deletes 40–49, inserts 100–119. */
const CHANGES = [
  ...rowsFor(10, 20, 'updated').map((r) => ({ op: 'u', ...r, id: Number(r.id) })),
  ...rowsFor(40, 10).map((r) => ({ op: 'd', id: Number(r.id) })),
  ...rowsFor(100, 20, 'new').map((r) => ({ op: 'c', ...r, id: Number(r.id) })),
];
const MERGED: Row[] = [
  ...BASE.filter((r) => Number(r.id) < 10 || (Number(r.id) >= 30 && Number(r.id) < 40) || Number(r.id) >= 50),
  ...rowsFor(10, 20, 'updated'), ...rowsFor(100, 20, 'new'),
];

describe('crash during floe merge and floe delete', () => {
  let wh: TestWarehouse;
  let readers: ReaderServer | undefined;
  let n = 0;
  before(async () => {
    wh = await testWarehouse('floe-crash-merge-');
    await wh.catalog.createNamespace(['crash']);
    if (!readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  async function setup(mode: string): Promise<{ id: TableIdentifier; name: string; file: string }> {
    const id = { namespace: ['crash'], name: `t${++n}` };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: { 'write.merge.mode': mode, 'write.delete.mode': mode } });
    await appendRecords(wh.catalog, id, BASE.map((r) => ({ ...r })));
    const file = path.join(wh.dir, `${id.name}.ndjson`);
    writeFileSync(file, `${CHANGES.map((c) => JSON.stringify(c)).join('\n')}\n`);
    return { id, name: `crash.${id.name}`, file };
  }
  const headOf = async (id: TableIdentifier): Promise<bigint | undefined> => branchHead((await wh.catalog.loadTable(id)).metadata, 'main')?.snapshotId;

  for (const mode of ['merge-on-read', 'copy-on-write']) {
    for (const phase of PRE_SWAP) {
      test(`${mode}: floe merge killed at ${phase}: nothing visible; a rerun merges once`, async () => {
        const { id, name, file } = await setup(mode);
        const before = await headOf(id);
        const crashed = await runFloe(wh.dir, ['merge', name, file, '--op-field', 'op'], { faultAt: phase });
        assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
        assert.equal(await headOf(id), before, 'no new snapshot after a crash before the swap');
        await assertTableHolds(wh, id, BASE, readers, `after crash at ${phase}`);
        const rerun = await runFloe(wh.dir, ['merge', name, file, '--op-field', 'op']);
        assert.equal(rerun.code, 0, describeRun(rerun));
        await assertTableHolds(wh, id, MERGED, readers, `after rerun (${phase})`);
      });
    }
    test(`${mode}: floe merge killed after the catalog swap: all visible; a rerun changes nothing`, async () => {
      const { id, name, file } = await setup(mode);
      const crashed = await runFloe(wh.dir, ['merge', name, file, '--op-field', 'op'], { faultAt: 'commit.after-catalog-swap' });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      await assertTableHolds(wh, id, MERGED, readers, 'after crash at commit.after-catalog-swap');
      const rerun = await runFloe(wh.dir, ['merge', name, file, '--op-field', 'op']);
      assert.equal(rerun.code, 0, describeRun(rerun));
      await assertTableHolds(wh, id, MERGED, readers, 'after rerun (commit.after-catalog-swap)');
    });
    test(`${mode}: floe delete --where killed before the swap: nothing deleted; a rerun deletes once`, async () => {
      const { id, name } = await setup(mode);
      const crashed = await runFloe(wh.dir, ['delete', name, '--where', 'id >= 30 AND id < 45'], { faultAt: 'merge.after-manifest-list' });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      await assertTableHolds(wh, id, BASE, readers, 'after crash');
      const rerun = await runFloe(wh.dir, ['delete', name, '--where', 'id >= 30 AND id < 45']);
      assert.equal(rerun.code, 0, describeRun(rerun));
      await assertTableHolds(wh, id, BASE.filter((r) => Number(r.id) < 30 || Number(r.id) >= 45), readers, 'after rerun');
    });
  }
});
