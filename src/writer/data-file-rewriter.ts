// The data-file rewriter (compaction's groups, MERGE's copy-on-write): streams the rows of a group of data files (one spec + partition) into new
// files rolled at the target size, dropping rows that position deletes remove. Memory is
// bounded by one row group, whatever the file sizes: input files are read lazily row group by
// row group (parquet-wasm over a file-backed Blob) and the encoded output goes to storage as
// each row group is flushed (transformParquetStream → FileIO.createNew). Record batches stay in
// WebAssembly memory unless deletes must be applied. Equality deletes are turned into row
// positions first, by a scan of only the equality columns of the file (memory: the delete keys
// and the deleted positions, never rows). Metrics of each output come from its
// Parquet footer, so they are exact for the rows actually written.
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { UnsupportedError } from '../errors.ts';
import { highCardinalityColumns } from '../format/dictionary-choice.ts';
import { footerMetrics } from '../format/footer-metrics.ts';
import { footerSplitOffsets, parquetFooterOf, parseParquetFooter, readParquetFooter } from '../format/parquet-footer.ts';
import { checkChunksInData, parquetFooterLayout, readFooterBytes, rowGroupAlone } from '../format/parquet-row-group-copy.ts';
import { parseCodec, parquetWriterProperties, rowsPerRowGroup } from '../format/parquet-writer.ts';
import { deleteAll, type FileIO, type OutputFile } from '../io/file-io.ts';
import { openParquetFile } from '../reader/open-parquet-file.ts';
import { namingParquetFile } from '../reader/parquet-read-errors.ts';
import { scanColumns } from '../reader/data-file-reader.ts';
import { equalityKey } from '../reader/delete-index.ts';
import type { DataFile } from '../spec/data-file.ts';
import { partitionType, type PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { intProperty, PARQUET_COMPRESSION, PARQUET_ROW_GROUP_SIZE_BYTES, stringProperty } from '../spec/table-properties.ts';
import { noStatisticsColumnsFor, parquetDataFile, partitionPath } from './data-file-writer.ts';

export const DEFAULT_REWRITE_ROW_GROUP_BYTES = 32 * 1024 * 1024;

export interface RewriteInput {
  readonly file: DataFile;
  /** Row positions deleted by position-delete files, ascending. */
  readonly deletedPositions?: readonly number[];
  /** Equality deletes that apply to the file (delete sequence number > the file's): a row is
   * dropped when its `fieldIds` values, as `equalityKey` encodes them, are in `keys`. Plain
   * data, so a job carrying it can go to a worker thread. */
  readonly equalityDeletes?: readonly RewriteEqualityDeletes[];
}

export interface RewriteEqualityDeletes {
  readonly fieldIds: readonly number[];
  readonly keys: ReadonlySet<string>;
}

export interface RewriteTarget {
  readonly io: FileIO;
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly location: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly targetFileSizeBytes: number;
  /** Size of each output file for a run whose output is estimated at `bytes` (spreads a
   * remainder evenly, like Spark's split size); default: the target. */
  readonly splitSize?: (estimatedOutputBytes: number) => number;
  /** Row-group bound in Arrow bytes (default: `write.parquet.row-group-size-bytes` capped at
   * 32 MiB — the WebAssembly heap grows to ~3.5× one row group and never shrinks). */
  readonly rowGroupSizeBytes?: number;
  /** Called after each input file is fully read, with its size. */
  readonly onInputFileDone?: (bytes: number) => void;
}

export interface RewriteResult {
  readonly files: readonly DataFile[];
  readonly rowsRead: number;
  readonly rowsDeleted: number;
}

interface OpenInput {
  readonly input: RewriteInput;
  /** Next record batch of the file, undefined at its end. */
  readonly read: () => Promise<parquet.RecordBatch | undefined>;
  readonly close: () => void;
  /** Positions to drop, ascending: position deletes and rows matched by equality deletes. */
  readonly deleted: readonly number[];
  position: number;
  deleteIdx: number;
}

/** Small inputs are read whole in one request and decoded synchronously (4× faster than the
 * async reader per file); larger ones are read and decoded row group by row group. */
const READ_WHOLE_BELOW_BYTES = 16 * 1024 * 1024;
const BATCH_ROWS = 8192;

/** The positions `input` drops: its position deletes plus the rows its equality deletes match. */
export async function deletedPositionsOf(io: FileIO, input: RewriteInput, schema: Schema): Promise<readonly number[]> {
  const positional = input.deletedPositions ?? [];
  const equality = (input.equalityDeletes ?? []).filter((e) => e.keys.size > 0 && e.fieldIds.length > 0);
  if (equality.length === 0) return positional;
  const matched: number[] = [];
  const ids = [...new Set(equality.flatMap((e) => e.fieldIds))];
  await scanColumns(io, input.file, ids, (first, n, column) => {
    const groups = equality.map((e) => ({ keys: e.keys, readers: e.fieldIds.map((id) => column(id)) }));
    for (let i = 0; i < n; i++) {
      if (groups.some((g) => g.keys.has(equalityKey(g.readers.map((r) => r(i)))))) matched.push(first + i);
    }
  }, { schema });
  if (matched.length === 0) return positional;
  return [...new Set([...positional, ...matched])].sort((a, b) => a - b);
}

/** Small files read ahead of the one being decoded (their bytes in flight or waiting): the next
 * file's I/O — a local read, or an S3 GET's latency — overlaps decoding and encoding. */
const READ_AHEAD_FILES = 4;
/** …and at most this many bytes of them waiting. */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;

const readsWhole = (i: RewriteInput): boolean => i.file.fileSizeInBytes < BigInt(READ_WHOLE_BELOW_BYTES);

/** Reads of the small files of a run, started up to {@link READ_AHEAD_FILES} ahead. */
class ReadAhead {
  private readonly reads = new Map<number, Promise<Uint8Array>>();
  private next = 0;

  constructor(private readonly io: FileIO, private readonly run: readonly RewriteInput[]) {}

  /** The bytes of small input `index`, and reads of the next ones started. */
  take(index: number): Promise<Uint8Array> {
    this.next = Math.max(this.next, index);
    let waiting = 0;
    for (const i of this.reads.keys()) waiting += Number(this.run[i]!.file.fileSizeInBytes);
    while (this.next < this.run.length && this.next <= index + READ_AHEAD_FILES) {
      const i = this.next;
      const input = this.run[i]!;
      if (i !== index && waiting + Number(input.file.fileSizeInBytes) > READ_AHEAD_BYTES) break;
      this.next++;
      if (!readsWhole(input) || this.reads.has(i)) continue;
      waiting += Number(input.file.fileSizeInBytes);
      const read = this.io.read(input.file.filePath);
      // A failed read-ahead is reported when its file's turn comes.
      read.catch(() => undefined);
      this.reads.set(i, read);
    }
    const read = this.reads.get(index) ?? this.io.read(this.run[index]!.file.filePath);
    this.reads.delete(index);
    return read;
  }

  /** Drops reads no file will take (the run ended early): their bytes are released. */
  clear(): void { this.reads.clear(); }
}

async function openInput(io: FileIO, input: RewriteInput, schema: Schema, bytesOf?: () => Promise<Uint8Array>): Promise<OpenInput & { readonly schemaKey: string }> {
  const file = input.file;
  const deleted = await deletedPositionsOf(io, input, schema);
  if (readsWhole(input)) {
    const bytes = await (bytesOf ? bytesOf() : io.read(file.filePath));
    const schemaKey = parquetFooterOf(bytes, file.filePath).schemaKey;
    const batches = await namingParquetFile(file.filePath, async () => {
      const table = parquet.readParquet(bytes, { batchSize: BATCH_ROWS });
      const all = table.recordBatches();
      table.free();
      return all;
    });
    return { input, schemaKey, deleted, position: 0, deleteIdx: 0, read: async () => batches.shift(), close: () => { for (const b of batches.splice(0)) b.free(); } };
  }
  const blob = await io.openBlob(file.filePath);
  const footer = await readFooterBytes(blob, file.filePath);
  const schemaKey = parseParquetFooter(footer, file.filePath).schemaKey;
  const layout = parquetFooterLayout(footer, file.filePath);
  if (!layout.encrypted && !layout.rowGroups.some((rg) => rg.chunks.some((c) => c.external))) {
    // Row group by row group, each copied under the file's footer into a file of its own and
    // decoded by the synchronous reader: parquet-wasm's async reader panics on damaged pages
    // outside any promise (an uncaught "RuntimeError: unreachable" that ends the process); the
    // synchronous one throws an error that names the file. Memory: one row group.
    checkChunksInData(layout, blob.size, footer, file.filePath);
    const readChunks = async (from: bigint, to: bigint): Promise<Uint8Array> => (io.readRange
      ? io.readRange(file.filePath, Number(from), Number(to))
      : new Uint8Array(await blob.slice(Number(from), Number(to)).arrayBuffer()));
    let next = 0;
    const batches: parquet.RecordBatch[] = [];
    return {
      input, schemaKey, deleted, position: 0, deleteIdx: 0,
      read: async () => {
        while (batches.length === 0 && next < layout.rowGroups.length) {
          const bytes = await rowGroupAlone(layout, layout.rowGroups[next++]!, readChunks, file.filePath);
          batches.push(...await namingParquetFile(file.filePath, async () => {
            const table = parquet.readParquet(bytes, { batchSize: BATCH_ROWS });
            const all = table.recordBatches();
            table.free();
            return all;
          }));
        }
        return batches.shift();
      },
      close: () => { for (const b of batches.splice(0)) b.free(); },
    };
  }
  const pf = await namingParquetFile(file.filePath, () => openParquetFile(blob));
  const reader = (await namingParquetFile(file.filePath, () => pf.stream({ batchSize: BATCH_ROWS }))).getReader() as ReadableStreamDefaultReader<parquet.RecordBatch>;
  return {
    input, schemaKey, deleted, position: 0, deleteIdx: 0,
    read: async () => (await namingParquetFile(file.filePath, () => reader.read())).value,
    close: () => pf.free(),
  };
}

const liveRows = (i: RewriteInput): number => Number(i.file.recordCount) - new Set(i.deletedPositions ?? []).size;

/** Where a file's reading stands against its deleted positions. */
export interface DeleteCursor { readonly deleted: readonly number[]; position: number; deleteIdx: number }

/** Keeps the rows of `batch` (rows [start, start+n) of its file) that no position delete names. */
export function applyDeletes(batch: parquet.RecordBatch, o: DeleteCursor): parquet.RecordBatch[] {
  const deleted = o.deleted;
  const start = o.position;
  const n = batch.numRows;
  while (o.deleteIdx < deleted.length && deleted[o.deleteIdx]! < start) o.deleteIdx++;
  if (o.deleteIdx >= deleted.length || deleted[o.deleteIdx]! >= start + n) return [batch];
  const table = arrow.tableFromIPC(batch.intoIPCStream());
  const slices: arrow.RecordBatch[] = [];
  let keepFrom = 0;
  const flush = (to: number): void => {
    if (to > keepFrom) for (const b of table.slice(keepFrom, to).batches) slices.push(b);
  };
  while (o.deleteIdx < deleted.length && deleted[o.deleteIdx]! < start + n) {
    const rel = deleted[o.deleteIdx]! - start;
    flush(rel);
    keepFrom = rel + 1;
    o.deleteIdx++;
  }
  flush(n);
  if (slices.length === 0) return [];
  const kept = parquet.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(table.schema, slices), 'stream'));
  return kept.recordBatches();
}

export async function rewriteDataFiles(inputs: readonly RewriteInput[], t: RewriteTarget): Promise<RewriteResult> {
  if (inputs.length === 0) return { files: [], rowsRead: 0, rowsDeleted: 0 };
  const first = inputs[0]!.file;
  for (const i of inputs) {
    if (i.file.fileFormat !== 'parquet') throw new UnsupportedError(`cannot rewrite ${i.file.filePath}: only Parquet data files are rewritten (format ${i.file.fileFormat})`);
    if (i.file.specId !== first.specId) throw new UnsupportedError('a rewrite group must hold files of one partition spec');
  }
  const written: DataFile[] = [];
  let rowsRead = 0;
  let rowsDeleted = 0;
  const opId = randomUUID();
  try {
    // Files written under different schemas (evolution, other writers) are merged only with
    // files of the same physical schema: a run takes the files of its first file's schema and
    // defers the others to the next run (each file is read once in the common case).
    let pending: readonly RewriteInput[] = inputs;
    while (pending.length > 0) {
      const r = await rewriteRun(pending, t, opId, written.length);
      written.push(...r.files);
      rowsRead += r.rowsRead;
      rowsDeleted += r.rowsDeleted;
      pending = r.deferred;
    }
  } catch (err) {
    await deleteAll(t.io, written.map((f) => f.filePath));
    throw err;
  }
  return { files: written, rowsRead, rowsDeleted };
}

/** Rewrites the files of `run` that share its first file's physical schema (decode + encode);
 * the others come back as `deferred`. */
export async function rewriteRun(run: readonly RewriteInput[], t: RewriteTarget, opId: string, firstIndex: number): Promise<RewriteResult & { deferred: RewriteInput[] }> {
  const fields = partitionType(t.spec, t.schema);
  const partition = run[0]!.file.partition;
  const dir = fields.length > 0 ? `${t.location}/data/${partitionPath(fields, partition)}` : `${t.location}/data`;
  const codec = parseCodec(stringProperty(t.properties, PARQUET_COMPRESSION));
  const rowGroupBytes = t.rowGroupSizeBytes
    ?? Math.min(intProperty(t.properties, PARQUET_ROW_GROUP_SIZE_BYTES), DEFAULT_REWRITE_ROW_GROUP_BYTES);
  const noStatisticsColumns = noStatisticsColumnsFor(t.schema);

  let next = 0;
  const readAhead = new ReadAhead(t.io, run);
  let open: OpenInput | undefined;
  let pending: parquet.RecordBatch[] = [];
  let rowsRead = 0;
  let rowsDeleted = 0;
  let runKey: string | undefined;
  const deferred: RewriteInput[] = [];
  let deferredRows = 0;
  /** Next batch of the run (deletes applied), or undefined at its end. */
  const nextBatch = async (): Promise<parquet.RecordBatch | undefined> => {
    for (;;) {
      const queued = pending.shift();
      if (queued) return queued;
      if (!open) {
        const index = next++;
        const input = run[index];
        if (!input) return undefined;
        const opened = await openInput(t.io, input, t.schema, () => readAhead.take(index));
        runKey ??= opened.schemaKey;
        if (opened.schemaKey !== runKey) {
          opened.close();
          deferred.push(input);
          deferredRows += liveRows(input);
          continue;
        }
        open = opened;
      }
      const batch = await open.read();
      if (!batch) {
        if (BigInt(open.position) !== open.input.file.recordCount) {
          throw new UnsupportedError(`${open.input.file.filePath} has ${open.position} rows but its manifest says ${open.input.file.recordCount}`);
        }
        open.close();
        t.onInputFileDone?.(Number(open.input.file.fileSizeInBytes));
        open = undefined;
        continue;
      }
      const n = batch.numRows;
      rowsRead += n;
      const kept = applyDeletes(batch, open);
      open.position += n;
      rowsDeleted += n - kept.reduce((s, b) => s + b.numRows, 0);
      pending = kept;
    }
  };

  const files: DataFile[] = [];
  let lookahead = await nextBatch();
  const allRows = run.reduce((n, i) => n + liveRows(i), 0);
  const runRows = (): number => allRows - deferredRows;
  // Output bytes per row, measured on flushed row groups of this run (input bytes per row until then).
  let doneBytes = 0;
  let doneRows = 0;
  try {
    while (lookahead) {
      const path = `${dir}/00000-${firstIndex + files.length}-${opId}.parquet`;
      // The first batch (copied out of WebAssembly once) decides which columns skip dictionary encoding.
      const sample = lookahead.intoIPCStream();
      const noDictionaryColumns = highCardinalityColumns(arrow.tableFromIPC(sample));
      const startBatch = parquet.Table.fromIPCStream(sample).recordBatch(0)!;
      const rowsPerGroup = Math.min(
        rowsPerRowGroup(rowGroupBytes, startBatch.getArrayMemorySize() / Math.max(1, startBatch.numRows)),
        // Several row groups per output file, so the size check sees real flushed bytes.
        Math.max(1024, Math.floor(t.targetFileSizeBytes / 4 / Math.max(1, inputBytesPerRow(open, run)))),
      );
      const sink = await t.io.createNew(path);
      let fedRows = 0;
      let flushedBytes = 0;
      let readError: unknown;
      let first = true;
      // Rows of the row groups the writer has completed (it flushes at exactly rowsPerGroup);
      // their bytes may still be on their way to flushedBytes, which only makes the per-row
      // estimate lean low for a row group or two.
      const flushedRows = (): number => Math.floor(fedRows / rowsPerGroup) * rowsPerGroup;
      const outputBytesPerRow = (): number => {
        const rows = doneRows + flushedRows();
        const bytes = doneBytes + flushedBytes;
        return rows > 0 && bytes > 0 ? bytes / rows : inputBytesPerRow(open, run);
      };
      const full = (): boolean => {
        const perRow = outputBytesPerRow();
        const fileTarget = t.splitSize ? t.splitSize(runRows() * perRow) : t.targetFileSizeBytes;
        // Stop where the file lands closest to its target: before the next batch if adding it
        // would overshoot by more than stopping now undershoots.
        const estimate = flushedBytes + (fedRows - flushedRows()) * perRow;
        return estimate + ((lookahead?.numRows ?? 0) * perRow) / 2 >= fileTarget;
      };
      const source = new ReadableStream<parquet.RecordBatch>({
        pull: async (ctrl) => {
          if (!first && full()) { ctrl.close(); return; }
          const batch = first ? startBatch : lookahead;
          first = false;
          if (!batch) { ctrl.close(); return; }
          fedRows += batch.numRows;
          try {
            lookahead = await nextBatch();
          } catch (err) {
            // parquet-wasm cannot carry a JS error through its stream (it reports "Dyn casting
            // error"): end the stream, and pump() drops the file and rethrows this error.
            readError = err;
            ctrl.close();
            return;
          }
          ctrl.enqueue(batch);
        },
      }, { highWaterMark: 0 });
      const props = parquetWriterProperties({ codec, rowsPerGroup, noStatisticsColumns, noDictionaryColumns });
      let encoded: ReadableStream<Uint8Array>;
      try {
        encoded = await parquet.transformParquetStream(source, props);
      } catch (err) {
        // An input that fails on the very first pull ends the stream before any batch, and
        // parquet-wasm then rejects with its own "Dyn casting error".
        await sink.abort();
        throw readError ?? err;
      }
      const size = await pump(encoded, sink, (n) => { flushedBytes += n; }, () => readError);
      doneBytes += size;
      doneRows += fedRows;
      try {
        files.push(await describeOutput(t, path, size, run[0]!.file));
      } catch (err) {
        // Published but not yet ours in `files`: without this it would stay behind.
        await t.io.delete(path);
        throw err;
      }
    }
  } catch (err) {
    open?.close();
    readAhead.clear();
    await deleteAll(t.io, files.map((f) => f.filePath));
    throw err;
  }
  return { files, rowsRead, rowsDeleted, deferred };
}

export function inputBytesPerRow(open: OpenInput | undefined, run: readonly RewriteInput[]): number {
  const f = open?.input.file ?? run[run.length - 1]!.file;
  return Number(f.fileSizeInBytes) / Math.max(1, Number(f.recordCount));
}

/** Copies the encoded stream into the output file; publishes it at the end, drops it on error. */
async function pump(bytes: ReadableStream<Uint8Array>, sink: OutputFile, onChunk: (n: number) => void, inputError: () => unknown): Promise<number> {
  try {
    const reader = bytes.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      onChunk(r.value.length);
      await sink.write(r.value);
    }
    const err = inputError();
    if (err !== undefined) throw err;
    return await sink.close();
  } catch (err) {
    await sink.abort();
    // An input error ends the stream early, and parquet-wasm may then fail with its own
    // "Dyn casting error": the input's error is the one that says what went wrong.
    throw inputError() ?? err;
  }
}

export async function describeOutput(t: RewriteTarget, path: string, size: number, like: DataFile): Promise<DataFile> {
  const footer = await readParquetFooter(await t.io.openBlob(path), path);
  return parquetDataFile({
    path, specId: like.specId, partition: like.partition, recordCount: footer.numRows, sizeBytes: BigInt(size),
    metrics: footerMetrics(t.schema, footer, t.properties), splitOffsets: footerSplitOffsets(footer),
  });
}

