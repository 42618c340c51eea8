// Row-group copies: the footer writer's output reads back through floe's footer reader and
// parquet-wasm with the same values, statistics and offsets inside the file; the copying
// rewriter copies large row groups, re-encodes the rest (a file's small last row group, a file
// with deletes) into the same output file, and its metrics equal those of a full re-encode.
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { test } from 'node:test';
import { readParquetFooter } from '../../../src/format/parquet-footer.ts';
import { ParquetRowGroupCopyWriter, parquetFooterLayout, readFooterBytes } from '../../../src/format/parquet-row-group-copy.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import type { DataFile } from '../../../src/spec/data-file.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { rewriteDataFiles } from '../../../src/writer/data-file-rewriter.ts';
import { DataFileWriter } from '../../../src/writer/data-file-writer.ts';
import { rewriteDataFilesWithCopies } from '../../../src/writer/row-group-copy-rewriter.ts';

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
// Small row groups (arrow-rs's floor is 1,024 rows): 5,000 rows make 4 full groups and one of 904.
const PROPS = { 'write.parquet.row-group-size-bytes': '1024' };

const record = (i: number): Record<string, unknown> => ({
  id: i, name: i % 7 === 0 ? null : `name-${i}-${'x'.repeat(i % 13)}`,
  amount: i % 11 === 0 ? null : `${Math.floor(i / 3)}.${String(i % 100).padStart(2, '0')}`,
  ts: i % 17 === 0 ? null : new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
});

async function files(io: MemoryFileIO, counts: readonly number[]): Promise<DataFile[]> {
  const w = new DataFileWriter({ schema: SCHEMA, spec: SPEC, properties: PROPS, location: LOCATION, io }, { encoderPool: null });
  const out: DataFile[] = [];
  let next = 0;
  for (const n of counts) {
    out.push(...await w.write(Array.from({ length: n }, (_, i) => record(next + i))));
    next += n;
  }
  return out;
}

/** Every row of a Parquet file as plain JSON-able values. */
function rows(bytes: Uint8Array): unknown[][] {
  const t = arrow.tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
  return t.toArray().map((r) => SCHEMA.fields.map((f) => {
    const v = (r as Record<string, unknown>)[f.name];
    return v === null || v === undefined ? null : typeof v === 'object' ? String(v) : typeof v === 'bigint' ? v.toString() : v;
  }));
}

test('copied row groups read back with the same values, statistics and in-file offsets', async () => {
  const io = new MemoryFileIO();
  const [a, b] = await files(io, [5000, 3000]);
  const layoutA = parquetFooterLayout(await readFooterBytes(await io.openBlob(a!.filePath), 'a'), 'a');
  const layoutB = parquetFooterLayout(await readFooterBytes(await io.openBlob(b!.filePath), 'b'), 'b');
  assert.equal(layoutA.rowGroups.length, 5);
  const bytesA = await io.read(a!.filePath);
  const bytesB = await io.read(b!.filePath);
  // Pieces of 1,000 bytes: every chunk is read in several, the next while the last is written.
  const writer = new ParquetRowGroupCopyWriter(await io.createNew(`${LOCATION}/out.parquet`), layoutA, 'out', 1000);
  const reads: number[] = [];
  const from = (bytes: Uint8Array) => async (a: bigint, b: bigint): Promise<Uint8Array> => { reads.push(Number(b - a)); return bytes.slice(Number(a), Number(b)); };
  // Out of order and from two files: B's second group between A's third and first.
  await writer.appendFrom(layoutA.rowGroups[2]!, from(bytesA));
  await writer.append(layoutB.rowGroups[1]!, bytesB, 0n);
  await writer.appendFrom(layoutA.rowGroups[0]!, from(bytesA));
  assert.ok(reads.length > 8 && Math.max(...reads) === 1000, `${reads.length} reads of at most 1,000 bytes`);
  const size = await writer.close();
  const out = await io.read(`${LOCATION}/out.parquet`);
  assert.equal(out.length, size);

  const rowsA = rows(bytesA);
  const rowsB = rows(bytesB);
  const expected = [...rowsA.slice(2048, 3072), ...rowsB.slice(1024, 2048), ...rowsA.slice(0, 1024)];
  assert.deepStrictEqual(rows(out), expected, 'parquet-wasm reads the copied values');

  const footer = await readParquetFooter(await io.openBlob(`${LOCATION}/out.parquet`), 'out');
  const srcA = await readParquetFooter(await io.openBlob(a!.filePath), 'a');
  const srcB = await readParquetFooter(await io.openBlob(b!.filePath), 'b');
  assert.equal(footer.numRows, 3072n);
  assert.deepStrictEqual(footer.rowGroups.map((g) => g.numRows), [1024n, 1024n, 1024n]);
  assert.equal(footer.schemaKey, srcA.schemaKey);
  // Statistics travel with the chunks; offsets point into the new file, in order, without overlap.
  assert.deepStrictEqual(footer.rowGroups.map((g) => g.columns.map((c) => c.statistics)),
    [srcA.rowGroups[2]!, srcB.rowGroups[1]!, srcA.rowGroups[0]!].map((g) => g.columns.map((c) => c.statistics)));
  let at = 4n;
  for (const g of footer.rowGroups) {
    for (const c of g.columns) {
      assert.equal(c.startOffset, at, 'chunks follow one another from byte 4');
      at += c.compressedSize;
    }
  }
  assert.equal(at + BigInt(out.length) - at, BigInt(out.length));
  assert.ok(at < BigInt(out.length) - 8n);
});

test('the copying rewriter copies large row groups, re-encodes the rest into the same file, with the metrics of a full re-encode', async () => {
  const io = new MemoryFileIO();
  const inputs = await files(io, [5000, 2500, 300, 4100]);
  const layout = parquetFooterLayout(await readFooterBytes(await io.openBlob(inputs[0]!.filePath), 'a'), 'a');
  const full = layout.rowGroups.slice(0, 4).map((g) => Number(g.compressedBytes));
  const last = Number(layout.rowGroups[4]!.compressedBytes);
  assert.ok(last < Math.min(...full), 'the 904-row group is the smallest');
  const target = {
    io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024,
    copyMinRowGroupBytes: Math.min(...full) - 1,
  };
  // The second file loses rows to a position delete: it is decoded whatever its row groups.
  const deleted = [0, 5, 1023, 1024, 2499];
  const inputsWithDeletes = inputs.map((file, i) => ({ file, ...(i === 1 ? { deletedPositions: deleted } : {}) }));
  const r = await rewriteDataFilesWithCopies(inputsWithDeletes, target);
  assert.equal(r.files.length, 1);
  // File 0: 4 of 5 copied; file 1 (deletes): none; file 2 (300 rows): none; file 3: 4 full groups, last of 4 rows.
  assert.equal(r.copiedRowGroups, 8);
  assert.equal(r.rowsRead, 11_900);
  assert.equal(r.rowsDeleted, deleted.length);
  const out = r.files[0]!;
  const footer = await readParquetFooter(await io.openBlob(out.filePath), 'out');
  assert.ok(footer.rowGroups.length > 8, 'copied and re-encoded row groups in one file');

  const expected = (await Promise.all(inputs.map(async (f, i) => rows(await io.read(f.filePath)).filter((_, pos) => i !== 1 || !deleted.includes(pos))))).flat();
  const got = rows(await io.read(out.filePath));
  const key = (r: unknown[]): number => Number(r[0]);
  assert.deepStrictEqual([...got].sort((x, y) => key(x) - key(y)), [...expected].sort((x, y) => key(x) - key(y)));

  // The same rows fully re-encoded: every metric the manifest gets is the same.
  const ref = await rewriteDataFiles(inputsWithDeletes, target);
  const m = (f: DataFile): unknown => ({
    recordCount: f.recordCount, valueCounts: f.valueCounts, nullValueCounts: f.nullValueCounts,
    lowerBounds: f.lowerBounds, upperBounds: f.upperBounds,
  });
  assert.deepStrictEqual(m(out), m(ref.files[0]!));
  assert.equal(out.splitOffsets?.length, footer.rowGroups.length);
});

test('below half of write.parquet.row-group-size-bytes nothing is copied: the copying rewriter decodes like the plain one', async () => {
  const io = new MemoryFileIO();
  const inputs = await files(io, [800, 900]);
  const size = Number(inputs[0]!.fileSizeInBytes);
  const run = (rowGroupBytes: number): ReturnType<typeof rewriteDataFilesWithCopies> => rewriteDataFilesWithCopies(inputs.map((file) => ({ file })), {
    io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: { 'write.parquet.row-group-size-bytes': String(rowGroupBytes) }, targetFileSizeBytes: 64 * 1024 * 1024,
  });
  // Each input is one row group smaller than its file: at a setting of 2× the file it is below half.
  const r = await run(2 * size);
  assert.equal(r.copiedRowGroups, 0);
  assert.equal(r.files[0]!.recordCount, 1700n);
  const copied = await run(Math.floor(size / 2));
  assert.equal(copied.copiedRowGroups, 2, 'at a setting of half the file both are copied');
  assert.equal(r.copiedRowGroups, 0);
  assert.equal(r.files[0]!.recordCount, 1700n);
});

test('a read that fails in the middle of a copy fails the rewrite and leaves no file behind', async () => {
  class FailingIO extends MemoryFileIO {
    reads = 0;
    async readRange(uri: string, start: number, end: number): Promise<Uint8Array> {
      if (++this.reads === 3) throw new Error(`disk gone while reading ${uri}`);
      return (await this.read(uri)).slice(start, end);
    }
  }
  const io = new FailingIO();
  const inputs = await files(io, [5000, 5000]);
  const before = [...io.files.keys()].sort();
  await assert.rejects(rewriteDataFilesWithCopies(inputs.map((file) => ({ file })), {
    io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024, copyMinRowGroupBytes: 1,
  }), /disk gone while reading/);
  assert.ok(io.reads >= 3, 'the copy read through readRange');
  assert.deepStrictEqual([...io.files.keys()].sort(), before);
});

/** Input `file` rewritten with every row group copied, except that the footer places the first
 * column chunk of row group `group` at `start` (`start(dataEnd, chunkLength)`), as a damaged or
 * hostile footer would. */
async function withMisplacedChunk(io: MemoryFileIO, file: DataFile, group: number, start: (dataEnd: bigint, length: bigint) => bigint): Promise<DataFile> {
  const layout = parquetFooterLayout(await readFooterBytes(await io.openBlob(file.filePath), 'src'), 'src');
  const bytes = await io.read(file.filePath);
  const path = `${LOCATION}/data/misplaced-${group}.parquet`;
  const writer = new ParquetRowGroupCopyWriter(await io.createNew(path), layout, path);
  for (const rg of layout.rowGroups) await writer.append(rg, bytes, 0n);
  const placed = (writer as unknown as { placed: { starts: bigint[] }[] }).placed;
  placed[group]!.starts[0] = start(BigInt(writer.bytesWritten), layout.rowGroups[group]!.chunks[0]!.length);
  const size = await writer.close();
  return { ...file, filePath: path, fileSizeInBytes: BigInt(size) };
}

test('a footer that places a column chunk over the footer or past the end of its file is never copied: the rewrite fails naming that input', async () => {
  const io = new MemoryFileIO();
  const [a, b] = await files(io, [5000, 5000]);
  // Half of the chunk in the data, half in the footer: every byte read exists, so only a check
  // of where the data ends tells the copy that these are not the chunk's pages.
  const overFooter = await withMisplacedChunk(io, a!, 3, (end, length) => end - length / 2n);
  const pastEnd = await withMisplacedChunk(io, a!, 1, (end) => end + 1_000_000n);
  for (const bad of [overFooter, pastEnd]) {
    const before = [...io.files.keys()].sort();
    await assert.rejects(rewriteDataFilesWithCopies([{ file: b! }, { file: bad }], {
      io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024, copyMinRowGroupBytes: 1,
    }), (err: Error) => err.message.includes(bad.filePath), bad.filePath);
    assert.deepStrictEqual([...io.files.keys()].sort(), before, 'no output left behind');
  }
});

test('damaged pages in a small file\'s row group that is decoded (not copied) fail the rewrite naming the file, without ending the process', async () => {
  const io = new MemoryFileIO();
  const [a, b] = await files(io, [5000, 5000]);
  const layout = parquetFooterLayout(await readFooterBytes(await io.openBlob(b!.filePath), 'b'), 'b');
  const bytes = (await io.read(b!.filePath)).slice();
  // The 904-row last group stays below the copy threshold: it is decoded. Its second column's
  // pages are overwritten (the chunk stays where the footer says).
  const c = layout.rowGroups[4]!.chunks[1]!;
  bytes.fill(0xff, Number(c.start) + 10, Number(c.start + c.length) - 5);
  io.files.delete(b!.filePath);
  await io.writeNew(b!.filePath, bytes);
  const before = [...io.files.keys()].sort();
  await assert.rejects(rewriteDataFilesWithCopies([{ file: a! }, { file: b! }], {
    io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: PROPS, targetFileSizeBytes: 64 * 1024 * 1024,
    copyMinRowGroupBytes: Number(layout.rowGroups[4]!.compressedBytes) + 1,
  }), (err: Error) => err.message.includes(b!.filePath));
  assert.deepStrictEqual([...io.files.keys()].sort(), before, 'no output left behind');
});

test('damaged pages in a large file\'s row group that is decoded (not copied) fail the rewrite naming the file, without ending the process', async () => {
  // Above 16 MiB a file's other row groups were decoded by parquet-wasm's async reader, which
  // panics on damaged pages outside any promise.
  const io = new MemoryFileIO();
  const schema = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 's', required: true, type: 'string' }] }, { assignIds: true });
  const props = { 'write.parquet.compression-codec': 'uncompressed', 'write.parquet.row-group-size-bytes': String(4 * 1024 * 1024) };
  const w = new DataFileWriter({ schema, spec: SPEC, properties: props, location: LOCATION, io }, { encoderPool: null });
  const [big] = await w.write(Array.from({ length: 90_000 }, (_, i) => ({ id: i, s: `${i}${'x'.repeat(200)}` })));
  assert.ok(big!.fileSizeInBytes > 16n * 1024n * 1024n, `${big!.fileSizeInBytes} bytes`);
  const layout = parquetFooterLayout(await readFooterBytes(await io.openBlob(big!.filePath), 'big'), 'big');
  const groups = layout.rowGroups;
  const bytes = (await io.read(big!.filePath)).slice();
  const c = groups[groups.length - 1]!.chunks[1]!;
  bytes.fill(0xff, Number(c.start) + 10, Number(c.start + c.length) - 5);
  io.files.delete(big!.filePath);
  await io.writeNew(big!.filePath, bytes);
  const before = [...io.files.keys()].sort();
  await assert.rejects(rewriteDataFilesWithCopies([{ file: big! }], {
    io, schema, spec: SPEC, location: LOCATION, properties: props, targetFileSizeBytes: 64 * 1024 * 1024,
    copyMinRowGroupBytes: Math.min(...groups.slice(0, -1).map((g) => Number(g.compressedBytes))),
  }), (err: Error) => err.message.includes(big!.filePath));
  assert.deepStrictEqual([...io.files.keys()].sort(), before, 'no output left behind');
});

test('the decoding rewriter: damaged pages in a file above 16 MiB fail the rewrite naming the file, without ending the process; an intact one rewrites every row', async () => {
  // Files of 16 MiB or more were streamed through parquet-wasm's async reader, which panics on
  // damaged pages outside any promise ("RuntimeError: unreachable" ended the process). They are
  // now decoded row group by row group by the synchronous reader.
  const io = new MemoryFileIO();
  const schema = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 's', required: true, type: 'string' }] }, { assignIds: true });
  const props = { 'write.parquet.compression-codec': 'uncompressed', 'write.parquet.row-group-size-bytes': String(4 * 1024 * 1024) };
  const w = new DataFileWriter({ schema, spec: SPEC, properties: props, location: LOCATION, io }, { encoderPool: null });
  const [big] = await w.write(Array.from({ length: 90_000 }, (_, i) => ({ id: i, s: `${i}${'x'.repeat(200)}` })));
  assert.ok(big!.fileSizeInBytes > 16n * 1024n * 1024n, `${big!.fileSizeInBytes} bytes`);
  const target = { io, schema, spec: SPEC, location: LOCATION, properties: props, targetFileSizeBytes: 64 * 1024 * 1024 };

  const intact = await rewriteDataFiles([{ file: big! }], target);
  assert.equal(intact.rowsRead, 90_000);
  let ids = 0n;
  for (const f of intact.files) {
    const t = parquet.readParquet(await io.read(f.filePath));
    const table = arrow.tableFromIPC(t.intoIPCStream());
    for (const v of table.getChild('id')!) ids += v as bigint;
  }
  assert.equal(ids, BigInt((90_000 * 89_999) / 2), 'every id once');
  for (const f of intact.files) io.files.delete(f.filePath);

  const groups = parquetFooterLayout(await readFooterBytes(await io.openBlob(big!.filePath), 'big'), 'big').rowGroups;
  assert.ok(groups.length > 2);
  const bytes = (await io.read(big!.filePath)).slice();
  const c = groups[1]!.chunks[1]!;
  bytes.fill(0xff, Number(c.start) + 10, Number(c.start + c.length) - 5);
  io.files.delete(big!.filePath);
  await io.writeNew(big!.filePath, bytes);
  const before = [...io.files.keys()].sort();
  await assert.rejects(rewriteDataFiles([{ file: big! }], target), (err: Error) => err.message.includes(big!.filePath));
  assert.deepStrictEqual([...io.files.keys()].sort(), before, 'no output left behind');
});
