// The spliced rewrite on real worker threads (compactTable with concurrency 2, one group): one
// output file whose row groups came from several slices, with the same rows
// as the one-worker rewrite of the same table and the same metrics; a slice whose input is
// damaged fails the run naming that file, leaving the table and its data directory as they were;
// and a group of two physical schemas goes to the one-worker path with progress still adding up.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { evolveSchemaFor } from '../../src/ingest/schema-evolution.ts';
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'v', required: false, type: 'double' },
    { name: 'note', required: false, type: 'string' },
  ],
}, { assignIds: true });
const A = { namespace: ['c'], name: 'spliced' };
const B = { namespace: ['c'], name: 'sequential' };
// Small row groups and slices, so 40 small files make several of each.
const OPTIONS = { targetFileSizeBytes: 64 * 1024 * 1024, minInputFiles: 2, rowGroupSizeBytes: 96 * 1024 };

const batch = (first: number, n: number): Record<string, unknown>[] => Array.from({ length: n }, (_, i) => {
  const id = first + i;
  return { id, ts: new Date(Date.UTC(2026, 10, 1) + id * 1000).toISOString(), v: id % 7 === 0 ? null : id / 3, note: id % 5 === 0 ? null : `note-${id}-${'x'.repeat(id % 50)}` };
});

async function liveFiles(catalog: Catalog, id: TableIdentifier): Promise<DataFile[]> {
  const t = await catalog.loadTable(id);
  const out: DataFile[] = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile);
  }
  return out;
}

const metricsOf = (f: DataFile) => ({
  recordCount: f.recordCount, valueCounts: f.valueCounts, nullValueCounts: f.nullValueCounts, nanValueCounts: f.nanValueCounts,
  lowerBounds: f.lowerBounds, upperBounds: f.upperBounds,
});

describe('spliced compaction on worker threads', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['c']);
    for (const id of [A, B]) {
      await wh.catalog.createTable(id, { schema: SCHEMA, properties: { 'write.parquet.compression-codec': 'zstd' } });
      for (let b = 0; b < 40; b++) await appendRecords(wh.catalog, id, batch(b * 500, 500));
    }
  });
  afterEach(async () => { await wh.cleanup(); });

  test('two workers, one output file: same rows in the same order and same metrics as one worker', async () => {
    let slices = 0;
    const spliced = await compactTable(wh.catalog, A, { ...OPTIONS, concurrency: 2, onEvent: (e) => { if (e.type === 'group-rewritten') slices += e.splicedSlices; } });
    const sequential = await compactTable(wh.catalog, B, { ...OPTIONS, concurrency: 1 });
    assert.ok(slices >= 2, `${slices} slices`);
    assert.equal(spliced.rewrittenFiles, 40);
    assert.equal(spliced.addedFiles, 1);
    assert.equal(sequential.addedFiles, 1);
    const [a] = await liveFiles(wh.catalog, A);
    const [b] = await liveFiles(wh.catalog, B);
    assert.deepStrictEqual(metricsOf(a!), metricsOf(b!));
    assert.ok(a!.splitOffsets!.length >= slices, `${a!.splitOffsets!.length} row groups`);
    const rowsA = await readTableRows(wh.catalog, A);
    assert.equal(rowsA.length, 20_000);
    // (Row order follows the planner's file order, which is not id order; the unit test
    // compares the order with the sequential rewrite of the same inputs.)
    const byId = (rows: Record<string, unknown>[]): Record<string, unknown>[] => [...rows].sort((x, y) => Number(x.id) - Number(y.id));
    assert.deepStrictEqual(byId(rowsA).map((r) => Number(r.id)), Array.from({ length: 20_000 }, (_, i) => i));
    assert.deepStrictEqual(byId(rowsA), byId(await readTableRows(wh.catalog, B)));
  });

  test('a damaged input fails the run naming it; no output file stays and the table is unchanged', async () => {
    const files = await liveFiles(wh.catalog, A);
    const bad = files.find((f) => f.filePath.includes('/data/') && files.indexOf(f) === 29)!.filePath;
    const local = bad.startsWith('file:') ? fileURLToPath(bad) : bad;
    const bytes = readFileSync(local);
    bytes.fill(0xff, 4, Math.floor(bytes.length / 2));
    writeFileSync(local, bytes);
    const dataDir = local.slice(0, local.lastIndexOf('/'));
    const before = readdirSync(dataDir).sort();
    const head = branchHead((await wh.catalog.loadTable(A)).metadata, 'main')!.snapshotId;
    await assert.rejects(compactTable(wh.catalog, A, { ...OPTIONS, concurrency: 2 }), (err: Error) => {
      assert.ok(err.message.includes(bad.slice(bad.lastIndexOf('/') + 1)), err.message);
      return true;
    });
    assert.deepStrictEqual(readdirSync(dataDir).sort(), before, 'no output file left in the data directory');
    assert.equal(branchHead((await wh.catalog.loadTable(A)).metadata, 'main')!.snapshotId, head);
  });

  test('files of two schemas: the group is rewritten by one worker instead, rows kept, progress adds up to the input', async () => {
    const extra = (first: number, n: number): Record<string, unknown>[] => batch(first, n).map((r) => ({ ...r, extra: `e${String(r.id)}` }));
    await evolveSchemaFor(wh.catalog, A, extra(0, 1));
    for (let b = 0; b < 20; b++) await appendRecords(wh.catalog, A, extra(20_000 + b * 500, 500));
    let progress = 0;
    let slices = 0;
    const r = await compactTable(wh.catalog, A, {
      ...OPTIONS, concurrency: 2,
      onEvent: (e) => { if (e.type === 'input-bytes') progress += e.bytes; if (e.type === 'group-rewritten') slices += e.splicedSlices; },
    });
    assert.equal(r.rewrittenFiles, 60);
    assert.equal(slices, 0, 'not spliced');
    assert.equal(progress, r.rewrittenBytes);
    const rows = (await readTableRows(wh.catalog, A)).sort((x, y) => Number(x.id) - Number(y.id));
    assert.deepStrictEqual(rows.map((x) => Number(x.id)), Array.from({ length: 30_000 }, (_, i) => i));
    assert.equal(rows[19_999]!.extra ?? null, null);
    assert.equal(rows[20_000]!.extra, 'e20000');
  });
});
