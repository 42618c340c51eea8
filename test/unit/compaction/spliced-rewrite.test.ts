// The spliced rewrite (a group's small files cut into slices, each decoded and encoded apart,
// the row groups spliced in order into one output): the output holds the same rows in the same
// order, and the same metrics, as the sequential rewrite of the whole group; deletes are applied;
// outputs roll at the target; a slice that fails leaves no file and names its input; inputs of
// two physical schemas are handed back to the sequential path. The slices run on this thread
// here (the worker pool is exercised by test/integration/compaction-spliced.test.ts).
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { test } from 'node:test';
import { plannerConfig } from '../../../compaction/planner.ts';
import type { RewriteJob } from '../../../compaction/rewrite-data-files.ts';
import { rewriteSpliced, splicedRewriteApplies } from '../../../compaction/spliced-rewrite.ts';
import { readParquetFooter } from '../../../src/format/parquet-footer.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import type { DataFile } from '../../../src/spec/data-file.ts';
import { schemaFromJson, schemaToJson, type Schema } from '../../../src/spec/schema.ts';
import { equalityKey } from '../../../src/reader/delete-index.ts';
import { rewriteDataFiles, type RewriteInput } from '../../../src/writer/data-file-rewriter.ts';
import { DataFileWriter } from '../../../src/writer/data-file-writer.ts';
import { encodeRowGroupSlice } from '../../../src/writer/row-group-slice-encoder.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'name', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(12, 2)' },
    { name: 'ts', required: false, type: 'timestamptz' },
  ],
}, { assignIds: true });
const SPEC = { specId: 0, fields: [] };
const LOCATION = 'mem://wh/t';
const PROPS = { 'write.parquet.compression-codec': 'zstd' };
// Small bounds so a few thousand rows make many slices and row groups.
const ROW_GROUP_BYTES = 48 * 1024;

const record = (i: number): Record<string, unknown> => ({
  id: i, name: i % 7 === 0 ? null : `name-${i}-${'x'.repeat(i % 13)}`,
  amount: i % 11 === 0 ? null : `${Math.floor(i / 3)}.${String(i % 100).padStart(2, '0')}`,
  ts: i % 17 === 0 ? null : new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
});

async function smallFiles(io: MemoryFileIO, files: number, rowsPerFile: number, schema: Schema = SCHEMA, from = 0): Promise<DataFile[]> {
  const w = new DataFileWriter({ schema, spec: SPEC, properties: PROPS, location: LOCATION, io }, { encoderPool: null });
  const out: DataFile[] = [];
  for (let f = 0; f < files; f++) out.push(...await w.write(Array.from({ length: rowsPerFile }, (_, i) => record(from + f * rowsPerFile + i))));
  return out;
}

function job(inputs: readonly RewriteInput[], targetFileSizeBytes = 64 * 1024 * 1024): RewriteJob {
  return {
    inputs, schemaJson: schemaToJson(SCHEMA), spec: SPEC, location: LOCATION, properties: PROPS,
    planner: plannerConfig({ targetFileSizeBytes }), rowGroupSizeBytes: ROW_GROUP_BYTES,
  };
}

/** Slices encoded on this thread, several at once (as on workers), recording each slice's inputs. */
function inThread(io: MemoryFileIO, slices: string[][] = []) {
  return (inputs: readonly RewriteInput[]) => {
    slices.push(inputs.map((i) => i.file.filePath));
    return encodeRowGroupSlice(inputs, { io, schema: SCHEMA, properties: PROPS, rowGroupSizeBytes: ROW_GROUP_BYTES });
  };
}

/** Every row of a Parquet file as plain JSON-able values. */
async function rows(io: MemoryFileIO, path: string): Promise<unknown[][]> {
  const t = arrow.tableFromIPC(parquet.readParquet(await io.read(path)).intoIPCStream());
  return t.toArray().map((r) => SCHEMA.fields.map((f) => {
    const v = (r as Record<string, unknown>)[f.name];
    return v === null || v === undefined ? null : typeof v === 'object' ? String(v) : typeof v === 'bigint' ? v.toString() : v;
  }));
}

const metricsOf = (f: DataFile) => ({
  recordCount: f.recordCount, valueCounts: f.valueCounts, nullValueCounts: f.nullValueCounts, nanValueCounts: f.nanValueCounts,
  lowerBounds: f.lowerBounds, upperBounds: f.upperBounds, partition: f.partition, specId: f.specId,
});

test('a spliced rewrite of 40 small files = the sequential rewrite: same rows in order, same metrics, row groups from several slices', async () => {
  const io = new MemoryFileIO();
  const inputs = (await smallFiles(io, 40, 300)).map((file) => ({ file }));
  const j = job(inputs);
  assert.ok(splicedRewriteApplies(j, 2));
  const slices: string[][] = [];
  let reported = 0;
  const spliced = await rewriteSpliced(io, j, inThread(io, slices), { slots: 2, spread: 2, onInputFileDone: (b) => { reported += b; } });
  assert.ok(spliced);
  assert.ok(slices.length >= 3, `${slices.length} slices`);
  assert.deepStrictEqual(slices.flat(), inputs.map((i) => i.file.filePath), 'slices are disjoint, consecutive and cover the group');
  assert.equal(reported, inputs.reduce((s, i) => s + Number(i.file.fileSizeInBytes), 0));
  assert.equal(spliced.files.length, 1);
  const sequential = await rewriteDataFiles(inputs, { io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024 });
  assert.equal(sequential.files.length, 1);
  const out = spliced.files[0]!;
  assert.deepStrictEqual(await rows(io, out.filePath), await rows(io, sequential.files[0]!.filePath));
  assert.equal((await rows(io, out.filePath)).length, 12_000);
  assert.deepStrictEqual(metricsOf(out), metricsOf(sequential.files[0]!));
  assert.equal(spliced.rowsRead, 12_000);
  assert.equal(spliced.rowsDeleted, 0);
  // The file is what its entry says: exact size, and split offsets at every row group.
  assert.equal(out.fileSizeInBytes, BigInt((await io.read(out.filePath)).length));
  const footer = await readParquetFooter(await io.openBlob(out.filePath), out.filePath);
  assert.ok(footer.rowGroups.length >= slices.length, `${footer.rowGroups.length} row groups from ${slices.length} slices`);
  assert.equal(out.splitOffsets?.length, footer.rowGroups.length);
  assert.equal(footer.rowGroups.reduce((s, rg) => s + Number(rg.numRows), 0), 12_000);
});

test('position and equality deletes are applied in the slices: the same rows as the sequential rewrite', async () => {
  const io = new MemoryFileIO();
  const files = await smallFiles(io, 12, 500);
  const idField = SCHEMA.findFieldByName('id')!;
  const inputs: RewriteInput[] = files.map((file, f) => ({
    file,
    ...(f % 3 === 0 ? { deletedPositions: [0, 17, 499] } : {}),
    // Equality delete on id: rows 1,000..1,049 (in files 2) and 5,500 (file 11).
    ...(f === 2 || f === 11 ? { equalityDeletes: [{ fieldIds: [idField.id], keys: new Set([...Array.from({ length: 50 }, (_, i) => 1000 + i), 5500].map((v) => equalityKey([BigInt(v)]))) }] } : {}),
  }));
  const spliced = await rewriteSpliced(io, job(inputs), inThread(io), { slots: 2, spread: 2 });
  const sequential = await rewriteDataFiles(inputs, { io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024 });
  assert.ok(spliced);
  const got = (await Promise.all(spliced.files.map((f) => rows(io, f.filePath)))).flat();
  const want = (await Promise.all(sequential.files.map((f) => rows(io, f.filePath)))).flat();
  assert.deepStrictEqual(got, want);
  assert.equal(spliced.rowsDeleted, sequential.rowsDeleted);
  const ids = got.map((r) => Number(r[0]));
  assert.ok(!ids.includes(0) && !ids.includes(17) && !ids.includes(1017) && !ids.includes(1500));
  assert.equal(spliced.files[0]!.recordCount, BigInt(want.length));
  assert.deepStrictEqual(metricsOf(spliced.files[0]!), metricsOf(sequential.files[0]!));
});

test('outputs roll at the target between spliced row groups, rows still in input order', async () => {
  const io = new MemoryFileIO();
  const inputs = (await smallFiles(io, 40, 300)).map((file) => ({ file }));
  const total = inputs.reduce((s, i) => s + Number(i.file.fileSizeInBytes), 0);
  const target = Math.floor(total / 4);
  const spliced = await rewriteSpliced(io, job(inputs, target), inThread(io), { slots: 2, spread: 2 });
  assert.ok(spliced);
  assert.ok(spliced.files.length >= 2, `${spliced.files.length} files`);
  const got = (await Promise.all(spliced.files.map((f) => rows(io, f.filePath)))).flat();
  assert.deepStrictEqual(got.map((r) => Number(r[0])), Array.from({ length: 12_000 }, (_, i) => i));
  for (const f of spliced.files.slice(0, -1)) assert.ok(Number(f.fileSizeInBytes) <= 1.8 * target, `${f.fileSizeInBytes} vs target ${target}`);
  assert.equal(spliced.files.reduce((s, f) => s + f.recordCount, 0n), 12_000n);
});

test('a slice that fails mid-way leaves no output file and names the input it failed on', async () => {
  const io = new MemoryFileIO();
  const inputs = (await smallFiles(io, 40, 300)).map((file) => ({ file }));
  const bad = inputs[29]!.file.filePath;
  // Damage the data pages, keep the footer: the file opens and fails while decoding.
  const bytes = await io.read(bad);
  const damaged = bytes.slice();
  damaged.fill(0xff, 4, Math.floor(bytes.length / 2));
  io.files.get(bad)!.bytes = damaged;
  const before = new Set(io.files.keys());
  const slices: string[][] = [];
  await assert.rejects(rewriteSpliced(io, job(inputs, 4096), inThread(io, slices), { slots: 2, spread: 2 }), (err: Error) => {
    assert.match(err.message, new RegExp(bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return true;
  });
  assert.ok(slices.length >= 2, 'the failure came after earlier slices were spliced');
  assert.deepStrictEqual([...io.files.keys()].filter((k) => !before.has(k)), [], 'no output file is left behind');
});

test('inputs of two physical schemas go back to the sequential path, with nothing written', async () => {
  const io = new MemoryFileIO();
  const wider = schemaFromJson({ ...schemaToJson(SCHEMA), fields: [...(schemaToJson(SCHEMA).fields as unknown[]), { id: 5, name: 'extra', required: false, type: 'int' }] });
  const inputs = [...await smallFiles(io, 20, 300), ...await smallFiles(io, 20, 300, wider, 6000)].map((file) => ({ file }));
  const before = new Set(io.files.keys());
  assert.equal(await rewriteSpliced(io, job(inputs), inThread(io), { slots: 2, spread: 2 }), undefined);
  assert.deepStrictEqual([...io.files.keys()].filter((k) => !before.has(k)), []);
});
