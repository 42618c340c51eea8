// `floe compact` SIGKILLed while it copies row groups into an output file: the output was never
// published nor committed, the table holds every row exactly once (floe, pyiceberg and DuckDB
// agree, doctor --deep is clean), and a rerun copies the row groups and finishes the job.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { assertTableHolds, rowsFor, type Row } from '../support/crash-checks.ts';
import { describeRun, runFloe } from '../support/crash-run.ts';
import { ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['crash'], name: 'copy' };

let wh: TestWarehouse;
let readers: ReaderServer | undefined;
before(async () => {
  wh = await testWarehouse('floe-crash-copy-');
  await wh.catalog.createNamespace(['crash']);
  if (!readersUnavailable()) readers = new ReaderServer();
});
after(async () => {
  await readers?.close();
  await wh?.cleanup();
});

test('floe compact killed in the middle of a row-group copy: rows unchanged, nothing committed; rerun copies and finishes', async () => {
  // Row groups of 1,024 rows: each 2,500-row file has two full ones and a partial one.
  await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.parquet.row-group-size-bytes': '1024' } });
  const rows: Row[] = [];
  for (let c = 0; c < 3; c++) {
    const batch = rowsFor(c * 10_000, 2500, `c${c}-`);
    await appendRecords(wh.catalog, ID, batch);
    rows.push(...batch);
  }
  const head = async () => branchHead((await wh.catalog.loadTable(ID)).metadata, 'main')!;
  const start = await head();
  const args = ['compact', 'crash.copy', '--min-input-files', '2', '--copy-row-groups-from', '1KiB', '--json'];
  const crashed = await runFloe(wh.dir, args, { faultAt: 'compaction.mid-row-group-copy#2' });
  assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
  assert.equal((await head()).snapshotId, start.snapshotId, 'nothing committed');
  await assertTableHolds(wh, ID, rows, readers, 'after a crash mid-copy');
  const rerun = await runFloe(wh.dir, args);
  assert.equal(rerun.code, 0, describeRun(rerun));
  const report = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as { copiedRowGroups: number; addedFiles: number };
  assert.ok(report.copiedRowGroups >= 6, `${report.copiedRowGroups} row groups copied on the rerun`);
  assert.equal(Number((await head()).summary['total-data-files']), 1);
  await assertTableHolds(wh, ID, rows, readers, 'after the rerun');
});
