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

/** The inputs' rows, decoded with deletes applied and streamed into the encoder file by file
 * (memory: one input's rows plus the row group being encoded). Row groups get equal row counts,
 * ⌈slice rows × Arrow bytes per row of the first batch / bound⌉ of them, as the sequential
 * rewriter sizes its row groups from its first batch; the inputs must be small (each is read whole). */
export async function encodeRowGroupSlice(inputs: readonly RewriteInput[], t: SliceTarget): Promise<EncodedSlice> {
  const codec = parseCodec(stringProperty(t.properties, PARQUET_COMPRESSION));
  const rowGroupBytes = t.rowGroupSizeBytes
    ?? Math.min(intProperty(t.properties, PARQUET_ROW_GROUP_SIZE_BYTES), DEFAULT_REWRITE_ROW_GROUP_BYTES);
  const totals = { rowsRead: 0, rowsDeleted: 0, arrowBytes: 0, inputBytes: 0 };
  let key: string | undefined;
  let mixedSchemas = false;
  // The next file's read overlaps this one's decoding.
  const read = (i: number): Promise<Uint8Array> | undefined => {
    const p = inputs[i] ? t.io.read(inputs[i].file.filePath) : undefined;
    p?.catch(() => undefined);
    return p;
  };
  let next = read(0);
  let index = 0;
  const queued: parquet.RecordBatch[] = [];
  /** The next batch with rows left after deletes, or undefined at the slice's end. */
  const nextBatch = async (): Promise<parquet.RecordBatch | undefined> => {
    for (;;) {
      const b = queued.shift();
      if (b) return b;
      const input = inputs[index];
      if (!input || mixedSchemas) return undefined;
      const file = input.file;
      const bytes = await next!;
      next = read(++index);
      const fileKey = parquetFooterOf(bytes, file.filePath).schemaKey;
      key ??= fileKey;
      if (fileKey !== key) { mixedSchemas = true; return undefined; }
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
        totals.rowsDeleted += n;
        for (const k of left) {
          totals.rowsDeleted -= k.numRows;
          if (k.numRows > 0) queued.push(k);
        }
      }
      if (BigInt(cursor.position) !== file.recordCount) {
        throw new UnsupportedError(`${file.filePath} has ${cursor.position} rows but its manifest says ${file.recordCount}`);
      }
      totals.inputBytes += Number(file.fileSizeInBytes);
      t.onInputFileDone?.(Number(file.fileSizeInBytes));
    }
  };
  const free = (): void => { for (const b of queued.splice(0)) b.free(); };
  let first: parquet.RecordBatch | undefined;
  try {
    first = await nextBatch();
  } catch (err) {
    free();
    throw err;
  }
  if (!first || mixedSchemas) {
    first?.free();
    free();
    return { bytes: undefined, mixedSchemas, ...totals };
  }
  // The first batch (copied out of WebAssembly once) decides which columns skip dictionary
  // encoding, and its Arrow bytes per row the row-group size.
  const sample = first.intoIPCStream();
  const noDictionaryColumns = highCardinalityColumns(arrow.tableFromIPC(sample));
  first = parquet.Table.fromIPCStream(sample).recordBatch(0)!;
  const bytesPerRow = first.getArrayMemorySize() / Math.max(1, first.numRows);
  const sliceRows = inputs.reduce((n, i) => n + Number(i.file.recordCount), 0);
  const groups = Math.max(1, Math.ceil((sliceRows * bytesPerRow) / Math.max(1, rowGroupBytes)));
  const props = parquetWriterProperties({
    codec, rowsPerGroup: Math.max(1, Math.ceil(sliceRows / groups)), noStatisticsColumns: noStatisticsColumnsFor(t.schema), noDictionaryColumns,
  });
  let readError: unknown;
  let pendingFirst: parquet.RecordBatch | undefined = first;
  const source = new ReadableStream<parquet.RecordBatch>({
    pull: async (ctrl) => {
      let b: parquet.RecordBatch | undefined;
      try {
        b = pendingFirst ?? await nextBatch();
        pendingFirst = undefined;
      } catch (err) {
        // parquet-wasm cannot carry a JS error through its stream: end it, and rethrow below.
        readError = err;
      }
      if (!b) { ctrl.close(); return; }
      totals.arrowBytes += b.getArrayMemorySize();
      ctrl.enqueue(b);
    },
  }, { highWaterMark: 0 });
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = (await parquet.transformParquetStream(source, props)).getReader() as ReadableStreamDefaultReader<Uint8Array>;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
  } catch (err) {
    free();
    throw readError ?? err;
  }
  free();
  if (readError !== undefined) throw readError;
  if (mixedSchemas) return { bytes: undefined, mixedSchemas, ...totals };
  // One buffer, so it moves to the splicing thread without a copy.
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return { bytes: out, mixedSchemas: false, ...totals };
}
