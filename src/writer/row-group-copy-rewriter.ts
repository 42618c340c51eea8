// Compaction's rewrite with row-group copies: where an input row group is already large (at
// least COPY_ROW_GROUP_FRACTION of `write.parquet.row-group-size-bytes`, compressed) and its file
// has the run's physical schema, the table's codec, no deletes and chunk null counts, its column
// chunks are copied into the output byte for byte (parquet-row-group-copy.ts); the other row
// groups are decoded, have their deletes applied, and are encoded into row groups that are
// spliced into the same output file. Outputs roll at the run's split size as in the decoding
// rewriter. A run with nothing to copy is rewritten by data-file-rewriter.ts unchanged.
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { UnsupportedError } from '../errors.ts';
import { faultPoint } from '../fault-points.ts';
import { highCardinalityColumns } from '../format/dictionary-choice.ts';
import { parseParquetFooter } from '../format/parquet-footer.ts';
import {
  checkChunksInData, footerBytesOf, rowGroupAlone, PARQUET_CODEC_IDS, ParquetRowGroupCopyWriter, parquetFooterLayout, readFooterBytes, rowGroupCopyable,
  type ParquetFooterLayout,
} from '../format/parquet-row-group-copy.ts';
import { parseCodec, parquetWriterProperties } from '../format/parquet-writer.ts';
import { FLOE_CREATED_BY } from '../format/parquet-writer-properties.ts';
import { deleteAll, type RandomAccessBlob } from '../io/file-io.ts';
import { namingParquetFile } from '../reader/parquet-read-errors.ts';
import type { DataFile } from '../spec/data-file.ts';
import { partitionType } from '../spec/partition-spec.ts';
import { intProperty, PARQUET_COMPRESSION, PARQUET_ROW_GROUP_SIZE_BYTES, stringProperty } from '../spec/table-properties.ts';
import {
  applyDeletes, DEFAULT_REWRITE_ROW_GROUP_BYTES, deletedPositionsOf, describeOutput, rewriteRun,
  type DeleteCursor, type RewriteInput, type RewriteResult, type RewriteTarget,
} from './data-file-rewriter.ts';
import { noStatisticsColumnsFor, partitionPath } from './data-file-writer.ts';

/**
 * A row group is copied when its compressed bytes reach this fraction of the table's
 * `write.parquet.row-group-size-bytes` (Iceberg default 128 MiB, so 64 MiB). A writer that
 * targets N bytes closes a row group once its buffered estimate passes N, checking only every so
 * many rows, and the estimate runs ahead of the compressed result, so the full row groups of
 * Iceberg Java, Spark and pyarrow writers land between about ½N and N: at ½ every full row
 * group of a writer with the table's setting is copied, while one that is smaller (a file's last
 * row group, a micro-batch) is merged by decoding, where merging still buys readers something.
 */
export const COPY_ROW_GROUP_FRACTION = 0.5;

/** Below this a file with nothing to copy is read in one request and decoded whole. */
const READ_WHOLE_BELOW_BYTES = 16 * 1024 * 1024;

export interface CopyingRewriteTarget extends RewriteTarget {
  /** Smallest compressed row group copied as is (default: {@link COPY_ROW_GROUP_FRACTION} of
   * `write.parquet.row-group-size-bytes`); 0 or less turns copying off. */
  readonly copyMinRowGroupBytes?: number;
}

/** What a rewrite with copies did, besides the files: row groups copied and re-encoded. */
export interface CopyingRewriteResult extends RewriteResult {
  readonly copiedRowGroups: number;
  readonly copiedBytes: number;
}

/** {@link rewriteDataFiles} that copies large row groups instead of decoding and encoding them. */
export async function rewriteDataFilesWithCopies(inputs: readonly RewriteInput[], t: CopyingRewriteTarget): Promise<CopyingRewriteResult> {
  if (inputs.length === 0) return { files: [], rowsRead: 0, rowsDeleted: 0, copiedRowGroups: 0, copiedBytes: 0 };
  const first = inputs[0]!.file;
  for (const i of inputs) {
    if (i.file.fileFormat !== 'parquet') throw new UnsupportedError(`cannot rewrite ${i.file.filePath}: only Parquet data files are rewritten (format ${i.file.fileFormat})`);
    if (i.file.specId !== first.specId) throw new UnsupportedError('a rewrite group must hold files of one partition spec');
  }
  const minBytes = t.copyMinRowGroupBytes ?? COPY_ROW_GROUP_FRACTION * intProperty(t.properties, PARQUET_ROW_GROUP_SIZE_BYTES);
  const written: DataFile[] = [];
  const totals = { rowsRead: 0, rowsDeleted: 0, copiedRowGroups: 0, copiedBytes: 0 };
  const opId = randomUUID();
  try {
    let pending: readonly RewriteInput[] = inputs;
    while (pending.length > 0) {
      const copied = minBytes > 0 ? await copyRun(pending, t, minBytes, opId, written.length) : undefined;
      const r = copied ?? { ...await rewriteRun(pending, t, opId, written.length), copiedRowGroups: 0, copiedBytes: 0 };
      written.push(...r.files);
      totals.rowsRead += r.rowsRead;
      totals.rowsDeleted += r.rowsDeleted;
      totals.copiedRowGroups += r.copiedRowGroups;
      totals.copiedBytes += r.copiedBytes;
      pending = r.deferred;
    }
  } catch (err) {
    await deleteAll(t.io, written.map((f) => f.filePath));
    throw err;
  }
  return { files: written, ...totals };
}

/** Byte ranges of the encoder's output chunks, read as one file without joining them. */
function concatenated(parts: readonly Uint8Array[]): { size: number; footerLength: number; range: (from: number, to: number) => Uint8Array } {
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) { starts.push(size); size += p.length; }
  const range = (from: number, to: number): Uint8Array => {
    let i = starts.length - 1;
    while (i > 0 && starts[i]! > from) i--;
    const p = parts[i]!;
    if (to - starts[i]! <= p.length) return p.subarray(from - starts[i]!, to - starts[i]!);
    const out = new Uint8Array(to - from);
    let at = 0;
    for (let k = i; at < out.length; k++) {
      const piece = parts[k]!.subarray(k === i ? from - starts[i]! : 0, Math.min(parts[k]!.length, (k === i ? from - starts[i]! : 0) + out.length - at));
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  };
  const trailer = range(size - 8, size);
  return { size, footerLength: new DataView(trailer.buffer, trailer.byteOffset, 8).getUint32(0, true), range };
}

interface InputFooter {
  readonly input: RewriteInput;
  readonly blob: RandomAccessBlob;
  readonly schemaKey: string;
  readonly layout: ParquetFooterLayout;
}

/** Thrown (a signal, not an error) when re-encoded rows' footer does not match the copied row
 * groups' schema: the run is rewritten by decoding instead. */
const SCHEMA_MISMATCH = Object.freeze({ schemaMismatch: true });

async function copyRun(run: readonly RewriteInput[], t: CopyingRewriteTarget, minBytes: number, opId: string, firstIndex: number):
Promise<(CopyingRewriteResult & { deferred: RewriteInput[] }) | undefined> {
  const hasDeletes = (i: RewriteInput): boolean => (i.deletedPositions?.length ?? 0) > 0 || (i.equalityDeletes ?? []).some((e) => e.keys.size > 0);
  // Only a file at least as large as one copyable row group can hold one: small files are
  // never opened twice.
  if (!run.some((i) => !hasDeletes(i) && Number(i.file.fileSizeInBytes) >= minBytes)) return undefined;
  const codecName = parseCodec(stringProperty(t.properties, PARQUET_COMPRESSION));
  const codec = PARQUET_CODEC_IDS[codecName];
  const footers: InputFooter[] = [];
  for (const input of run) {
    const blob = await t.io.openBlob(input.file.filePath);
    const bytes = await readFooterBytes(blob, input.file.filePath);
    const layout = parquetFooterLayout(bytes, input.file.filePath);
    checkChunksInData(layout, blob.size, bytes, input.file.filePath);
    footers.push({ input, blob, schemaKey: parseParquetFooter(bytes, input.file.filePath).schemaKey, layout });
  }
  const runKey = footers[0]!.schemaKey;
  const same = footers.filter((f) => f.schemaKey === runKey);
  const copies = (f: InputFooter, j: number): boolean => {
    const rg = f.layout.rowGroups[j]!;
    // One writer's row groups per output: the footer keeps the first file's created_by.
    return !hasDeletes(f.input) && Number(rg.compressedBytes) >= minBytes && rowGroupCopyable(f.layout, rg, codec)
      && f.layout.createdBy === same[0]!.layout.createdBy;
  };
  if (!same.some((f) => f.layout.rowGroups.some((_, j) => copies(f, j)))) return undefined;
  // Row groups floe encodes go under the run's footer only if floe wrote the run's files too
  // (same created_by); otherwise a run that needs any encoding is decoded whole.
  if (same[0]!.layout.createdBy !== FLOE_CREATED_BY && same.some((f) => f.layout.rowGroups.some((_, j) => !copies(f, j)))) return undefined;

  const fields = partitionType(t.spec, t.schema);
  const partition = run[0]!.file.partition;
  const dir = fields.length > 0 ? `${t.location}/data/${partitionPath(fields, partition)}` : `${t.location}/data`;
  const rowGroupBytes = t.rowGroupSizeBytes ?? Math.min(intProperty(t.properties, PARQUET_ROW_GROUP_SIZE_BYTES), DEFAULT_REWRITE_ROW_GROUP_BYTES);
  const noStatisticsColumns = noStatisticsColumnsFor(t.schema);
  const runBytes = same.reduce((s, f) => s + Number(f.input.file.fileSizeInBytes), 0);
  const fileTarget = t.splitSize ? t.splitSize(runBytes) : t.targetFileSizeBytes;

  const files: DataFile[] = [];
  let out: { path: string; writer: ParquetRowGroupCopyWriter } | undefined;
  let pending: parquet.RecordBatch[] = [];
  let pendingBytes = 0;
  let noDictionaryColumns: string[] | undefined;
  const result = { rowsRead: 0, rowsDeleted: 0, copiedRowGroups: 0, copiedBytes: 0 };

  const output = async (): Promise<ParquetRowGroupCopyWriter> => {
    if (!out) {
      const path = `${dir}/00000-${firstIndex + files.length}-${opId}.parquet`;
      out = { path, writer: new ParquetRowGroupCopyWriter(await t.io.createNew(path), same[0]!.layout, path) };
    }
    return out.writer;
  };
  const closeOutput = async (): Promise<void> => {
    if (!out) return;
    const { path, writer } = out;
    out = undefined;
    const size = await writer.close();
    try {
      files.push(await describeOutput(t, path, size, run[0]!.file));
    } catch (err) {
      await t.io.delete(path);
      throw err;
    }
  };
  /** Ends the output before `nextBytes` more when it lands closer to its target that way: a
   * copied row group is not split, so a file may end up to half a row group off target. */
  const rollIfFull = async (nextBytes = 0): Promise<void> => {
    if (out && out.writer.bytesWritten > 0 && out.writer.bytesWritten + nextBytes / 2 >= fileTarget) await closeOutput();
  };
  /** Encodes the decoded rows waiting (one row group) and splices them into the output. */
  const flushPending = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batches = pending;
    const rows = batches.reduce((s, b) => s + b.numRows, 0);
    pending = [];
    pendingBytes = 0;
    if (rows === 0) { for (const b of batches) b.free(); return; }
    if (!noDictionaryColumns) {
      const sample = batches[0]!.intoIPCStream();
      noDictionaryColumns = highCardinalityColumns(arrow.tableFromIPC(sample));
      batches[0] = parquet.Table.fromIPCStream(sample).recordBatch(0)!;
    }
    const props = parquetWriterProperties({ codec: codecName, rowsPerGroup: rows, noStatisticsColumns, noDictionaryColumns });
    const source = new ReadableStream<parquet.RecordBatch>({
      pull: (ctrl) => { const b = batches.shift(); if (b) ctrl.enqueue(b); else ctrl.close(); },
    }, { highWaterMark: 0 });
    const reader = (await parquet.transformParquetStream(source, props)).getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const parts: Uint8Array[] = [];
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
    }
    const encoded = concatenated(parts);
    const footer = footerBytesOf(encoded.range(encoded.size - 8 - encoded.footerLength, encoded.size));
    // Spliced under the run's footer: only when the encoder wrote the same schema, as the same writer.
    const encodedLayout = parquetFooterLayout(footer, 'encoded row group');
    if (parseParquetFooter(footer, 'encoded row group').schemaKey !== runKey || encodedLayout.createdBy !== same[0]!.layout.createdBy) throw SCHEMA_MISMATCH;
    const writer = await output();
    for (const rg of encodedLayout.rowGroups) await writer.appendFrom(rg, async (from, to) => encoded.range(Number(from), Number(to)));
    await rollIfFull();
  };

  try {
    for (const f of same) {
      const file = f.input.file;
      const cursor: DeleteCursor = { deleted: await deletedPositionsOf(t.io, f.input, t.schema), position: 0, deleteIdx: 0 };
      const wholeFile = Number(file.fileSizeInBytes) < READ_WHOLE_BELOW_BYTES && !f.layout.rowGroups.some((_, j) => copies(f, j));
      const io = t.io;
      const readChunks = async (from: bigint, to: bigint): Promise<Uint8Array> => (io.readRange
        ? io.readRange(file.filePath, Number(from), Number(to))
        : new Uint8Array(await f.blob.slice(Number(from), Number(to)).arrayBuffer()));
      for (let j = 0; j < f.layout.rowGroups.length; j++) {
        const rg = f.layout.rowGroups[j]!;
        if (copies(f, j)) {
          await flushPending();
          await rollIfFull(Number(rg.compressedBytes));
          await (await output()).appendFrom(rg, readChunks);
          faultPoint('compaction.mid-row-group-copy');
          result.copiedRowGroups++;
          result.copiedBytes += Number(rg.compressedBytes);
          result.rowsRead += Number(rg.numRows);
          cursor.position += Number(rg.numRows);
          await rollIfFull();
          continue;
        }
        let batches: parquet.RecordBatch[];
        if (wholeFile) {
          // A small file with nothing to copy is read and decoded whole, as the decoding
          // rewriter does (several times faster than the async reader per file).
          if (j > 0) break;
          const bytes = await t.io.read(file.filePath);
          const table = await namingParquetFile(file.filePath, async () => parquet.readParquet(bytes, { batchSize: 8192 }));
          batches = table.recordBatches();
          table.free();
        } else {
          const bytes = await rowGroupAlone(f.layout, rg, readChunks, f.input.file.filePath);
          const table = await namingParquetFile(file.filePath, async () => parquet.readParquet(bytes, { batchSize: 8192 }));
          batches = table.recordBatches();
          table.free();
        }
        for (const batch of batches) {
          const n = batch.numRows;
          result.rowsRead += n;
          const kept = applyDeletes(batch, cursor);
          cursor.position += n;
          for (const k of kept) { pending.push(k); pendingBytes += k.getArrayMemorySize(); }
          result.rowsDeleted += n - kept.reduce((s, b) => s + b.numRows, 0);
          if (pendingBytes >= rowGroupBytes) await flushPending();
        }
      }
      if (BigInt(cursor.position) !== file.recordCount) {
        throw new UnsupportedError(`${file.filePath} has ${cursor.position} rows but its manifest says ${file.recordCount}`);
      }
      t.onInputFileDone?.(Number(file.fileSizeInBytes));
    }
    await flushPending();
    await closeOutput();
  } catch (err) {
    for (const b of pending.splice(0)) b.free();
    if (out) await out.writer.abort();
    await deleteAll(t.io, files.map((x) => x.filePath));
    if (err === SCHEMA_MISMATCH) return undefined;
    throw err;
  }
  return { files, ...result, deferred: footers.filter((f) => f.schemaKey !== runKey).map((f) => f.input) };
}
