// One slice of a compaction group: a few small data files, decoded (deletes applied) and encoded
// as one in-memory Parquet file of evenly sized row groups. Compaction's parallel rewrite runs
// slices on several worker threads at once and splices their row groups, in input order, into
// one output file under a single footer (compaction/spliced-rewrite.ts).
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { UnsupportedError } from '../errors.ts';
import { highCardinalityColumns } from '../format/dictionary-choice.ts';
import { parquetFooterOf } from '../format/parquet-footer.ts';
import { parseCodec, parquetWriterProperties } from '../format/parquet-writer.ts';
import type { FileIO } from '../io/file-io.ts';
import { namingParquetFile } from '../reader/parquet-read-errors.ts';
import type { Schema } from '../spec/schema.ts';
import { intProperty, PARQUET_COMPRESSION, PARQUET_ROW_GROUP_SIZE_BYTES, stringProperty } from '../spec/table-properties.ts';
import { applyDeletes, DEFAULT_REWRITE_ROW_GROUP_BYTES, deletedPositionsOf, type DeleteCursor, type RewriteInput } from './data-file-rewriter.ts';
import { noStatisticsColumnsFor } from './data-file-writer.ts';

export interface SliceTarget {
  readonly io: FileIO;
  readonly schema: Schema;
  readonly properties: Readonly<Record<string, string>>;
  /** Row-group bound in Arrow bytes (default: `write.parquet.row-group-size-bytes` capped at 32 MiB). */
  readonly rowGroupSizeBytes?: number;
  /** Called after each input file is decoded, with its size. */
  readonly onInputFileDone?: (bytes: number) => void;
}

/** An encoded slice: a whole Parquet file in memory (undefined when deletes removed every row). */
export interface EncodedSlice {
  readonly bytes: Uint8Array | undefined;
  /** The inputs do not share one physical schema: nothing was encoded (the caller rewrites the
   * group by the sequential path, which defers the other schemas to their own run). */
  readonly mixedSchemas: boolean;
  readonly rowsRead: number;
  readonly rowsDeleted: number;
  /** Arrow bytes of the rows kept, and the inputs' file bytes (the caller sizes later slices by their ratio). */
  readonly arrowBytes: number;
  readonly inputBytes: number;
}

const BATCH_ROWS = 8192;

/** The inputs' rows, decoded with deletes applied, encoded into ⌈arrow bytes / bound⌉ row groups
 * of equal row counts (so no row group exceeds the bound and none is a crumb). The inputs must
 * be small (each is read whole); memory holds the slice's decoded rows once. */
export async function encodeRowGroupSlice(inputs: readonly RewriteInput[], t: SliceTarget): Promise<EncodedSlice> {
  const codec = parseCodec(stringProperty(t.properties, PARQUET_COMPRESSION));
  const rowGroupBytes = t.rowGroupSizeBytes
    ?? Math.min(intProperty(t.properties, PARQUET_ROW_GROUP_SIZE_BYTES), DEFAULT_REWRITE_ROW_GROUP_BYTES);
  const kept: parquet.RecordBatch[] = [];
  const totals = { rowsRead: 0, rowsDeleted: 0, arrowBytes: 0, inputBytes: 0 };
  let key: string | undefined;
  // The next file's read overlaps this one's decoding.
  const read = (i: number): Promise<Uint8Array> | undefined => {
    const p = inputs[i] ? t.io.read(inputs[i].file.filePath) : undefined;
    p?.catch(() => undefined);
    return p;
  };
  let next = read(0);
  try {
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const file = input.file;
      const bytes = await next!;
      next = read(i + 1);
      const fileKey = parquetFooterOf(bytes, file.filePath).schemaKey;
      key ??= fileKey;
      if (fileKey !== key) {
        for (const b of kept.splice(0)) b.free();
        return { bytes: undefined, mixedSchemas: true, ...totals };
      }
      const cursor: DeleteCursor = { deleted: await deletedPositionsOf(t.io, input, t.schema), position: 0, deleteIdx: 0 };
      const batches = await namingParquetFile(file.filePath, async () => {
        const table = parquet.readParquet(bytes, { batchSize: BATCH_ROWS });
        const all = table.recordBatches();
        table.free();
        return all;
      });
      for (const batch of batches) {
        const n = batch.numRows;
        totals.rowsRead += n;
        const left = applyDeletes(batch, cursor);
        cursor.position += n;
        for (const k of left) {
          totals.arrowBytes += k.getArrayMemorySize();
          totals.rowsDeleted -= k.numRows;
          kept.push(k);
        }
        totals.rowsDeleted += n;
      }
      if (BigInt(cursor.position) !== file.recordCount) {
        throw new UnsupportedError(`${file.filePath} has ${cursor.position} rows but its manifest says ${file.recordCount}`);
      }
      totals.inputBytes += Number(file.fileSizeInBytes);
      t.onInputFileDone?.(Number(file.fileSizeInBytes));
    }
    const rows = kept.reduce((s, b) => s + b.numRows, 0);
    if (rows === 0) {
      for (const b of kept.splice(0)) b.free();
      return { bytes: undefined, mixedSchemas: false, ...totals };
    }
    return { bytes: await encode(kept, rows, Math.ceil(totals.arrowBytes / Math.max(1, rowGroupBytes)), codec, t.schema), mixedSchemas: false, ...totals };
  } catch (err) {
    for (const b of kept.splice(0)) b.free();
    throw err;
  }
}

async function encode(batches: parquet.RecordBatch[], rows: number, groups: number, codec: ReturnType<typeof parseCodec>, schema: Schema): Promise<Uint8Array> {
  // The first batch (copied out of WebAssembly once) decides which columns skip dictionary encoding.
  const sample = batches[0]!.intoIPCStream();
  const noDictionaryColumns = highCardinalityColumns(arrow.tableFromIPC(sample));
  batches[0] = parquet.Table.fromIPCStream(sample).recordBatch(0)!;
  const props = parquetWriterProperties({
    codec, rowsPerGroup: Math.ceil(rows / Math.max(1, groups)), noStatisticsColumns: noStatisticsColumnsFor(schema), noDictionaryColumns,
  });
  const source = new ReadableStream<parquet.RecordBatch>({
    pull: (ctrl) => { const b = batches.shift(); if (b) ctrl.enqueue(b); else ctrl.close(); },
  }, { highWaterMark: 0 });
  const reader = (await parquet.transformParquetStream(source, props)).getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    parts.push(r.value);
    size += r.value.length;
  }
  // One buffer, so it moves to the splicing thread without a copy.
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
