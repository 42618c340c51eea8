// `floe compact --copy-row-groups-from`: the flag reaches the rewriter (row groups at least that
// large are copied, the report counts them), `0` turns copying off, and both runs keep every row.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { scanColumns } from '../../src/reader/data-file-reader.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const run = promisify(execFile);
const FLOE = path.join(REPO_ROOT, 'bin/floe.js');
const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 's', required: false, type: 'string' }] }, { assignIds: true });

let wh: TestWarehouse;
before(async () => {
  wh = await testWarehouse('floe-copy-cli-');
  await wh.catalog.createNamespace(['n']);
  for (const name of ['copied', 'decoded']) {
    const id = { namespace: ['n'], name };
    // Row groups of 1,024 rows: each 2,500-row file has two full ones and a partial one.
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: { 'write.parquet.row-group-size-bytes': '1024' } });
    for (let f = 0; f < 3; f++) await appendRecords(wh.catalog, id, Array.from({ length: 2500 }, (_, i) => ({ id: f * 2500 + i, s: i % 3 === 0 ? null : `s${i}` })));
  }
});
after(async () => { await wh?.cleanup(); });

async function compact(table: string, from: string, ...extra: string[]): Promise<{ copiedRowGroups: number; rewrittenFiles: number; addedFiles: number }> {
  const { stdout } = await run(process.execPath, [FLOE, '--warehouse', wh.dir, 'compact', table, '--min-input-files', '2', '--copy-row-groups-from', from, '--json', ...extra]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { copiedRowGroups: number; rewrittenFiles: number; addedFiles: number };
}

async function ids(name: string): Promise<number[]> {
  const t = await wh.catalog.loadTable({ namespace: ['n'], name });
  const idField = SCHEMA.findFieldByName('id')!.id;
  const out: number[] = [];
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      await scanColumns(wh.catalog.io, e.dataFile, [idField], (_, n, column) => { for (let i = 0; i < n; i++) out.push(Number(column(idField)(i))); });
    }
  }
  return out.sort((a, b) => a - b);
}

test('--copy-row-groups-from copies large row groups; 0 re-encodes everything; every row stays', async () => {
  const copied = await compact('n.copied', '1KiB');
  assert.equal(copied.rewrittenFiles, 3);
  assert.equal(copied.addedFiles, 1);
  assert.ok(copied.copiedRowGroups >= 6, `${copied.copiedRowGroups} row groups copied`);
  const decoded = await compact('n.decoded', '0');
  assert.equal(decoded.copiedRowGroups, 0);
  const all = Array.from({ length: 7500 }, (_, i) => i);
  assert.deepStrictEqual(await ids('copied'), all);
  assert.deepStrictEqual(await ids('decoded'), all);
});

test('on worker threads (--concurrency 2, one group per partition) row groups are copied too', async () => {
  const schema = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'p', required: true, type: 'int' }] }, { assignIds: true });
  const id = { namespace: ['n'], name: 'pooled' };
  await wh.catalog.createTable(id, { schema, spec: parsePartitionExpression('p', schema), properties: { 'write.parquet.row-group-size-bytes': '1024' } });
  for (let f = 0; f < 3; f++) await appendRecords(wh.catalog, id, Array.from({ length: 5000 }, (_, i) => ({ id: f * 5000 + i, p: i % 2 })));
  const r = await compact('n.pooled', '1KiB', '--concurrency', '2');
  assert.equal(r.rewrittenFiles, 6);
  assert.equal(r.addedFiles, 2);
  assert.ok(r.copiedRowGroups >= 6, `${r.copiedRowGroups} row groups copied on the workers`);
  assert.deepStrictEqual(await ids('pooled'), Array.from({ length: 15_000 }, (_, i) => i));
});
