// Records fed chunk by chunk → Parquet data files rolled at `write.target-file-size-bytes`,
// one open file per partition, each streamed to storage row group by row group: memory holds
// one chunk and one row group per open file, whatever the input's size (the one-shot
// DataFileWriter holds every record and every file's bytes until it is done). Nothing is
// committed here; `close()` returns the files, `abort()` removes every file written.
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import type * as parquet from 'parquet-wasm';
import { highCardinalityColumns } from '../format/dictionary-choice.ts';
import { buildFileMetrics } from '../format/file-metrics.ts';
import { footerColumnSizes, footerSplitOffsets, readParquetFooter } from '../format/parquet-footer.ts';
import { ParquetStreamWriter } from '../format/parquet-stream-writer.ts';
import { parseCodec, parquetWriterProperties, rowsPerRowGroup, type ParquetCodec } from '../format/parquet-writer.ts';
import { deleteAll } from '../io/file-io.ts';
import type { DataFile, PartitionTuple } from '../spec/data-file.ts';
import { partitionKey, partitionType, type PartitionFieldType } from '../spec/partition-spec.ts';
import {
  intProperty, PARQUET_COMPRESSION, PARQUET_ROW_GROUP_SIZE_BYTES, stringProperty, WRITE_TARGET_FILE_SIZE_BYTES,
} from '../spec/table-properties.ts';
import { mergeMetrics } from './merge-metrics.ts';
import { recordsToArrow, type ConvertedBatch, type LeafMetrics } from './record-converter.ts';
import {
  groupByPartition, noStatisticsColumnsFor,
  parquetDataFile, partitionPath, type WriteTarget,
} from './data-file-writer.ts';

/** Row groups are capped at 32 MiB of Arrow data while streaming: arrow-rs keeps the open row
 * group encoded in WebAssembly memory, whose heap grows to a few times one row group and never
 * shrinks (the same cap the compaction rewriter uses). */
export const STREAM_ROW_GROUP_CAP_BYTES = 32 * 1024 * 1024;
/** Partitions written at once; beyond this the least recently fed file is closed (a partition
 * that comes back starts a new file), so a wide fan-out cannot hold unbounded row groups. */
export const MAX_OPEN_FILES = 16;
/** Output bytes per input byte assumed until a file was measured (as in DataFileWriter). */
const INITIAL_COMPRESSION_RATIO = 0.5;

interface OpenFile {
  readonly key: string;
  readonly path: string;
  readonly tuple: PartitionTuple;
  readonly writer: ParquetStreamWriter;
  readonly metrics: Map<number, LeafMetrics>;
  inputBytes: number;
  /** Fixed by the file's first batch (row width, high-cardinality columns): see feed. */
  rowsPerGroup: number;
  props: parquet.WriterProperties | undefined;
}

export class RollingDataFileWriter {
  private readonly open = new Map<string, OpenFile>();
  private readonly done: DataFile[] = [];
  private readonly operationId = randomUUID();
  private readonly fields: PartitionFieldType[];
  private readonly targetSize: number;
  private readonly rowGroupBytes: number;
  private readonly codec: ParquetCodec;
  private readonly noStatisticsColumns: string[];
  private fileCount = 0;
  /** Output bytes per input byte, measured on the files closed so far. */
  private compressionRatio = INITIAL_COMPRESSION_RATIO;
  private closedInputBytes = 0;
  private closedOutputBytes = 0;
  records = 0;

  constructor(private readonly target: WriteTarget, opts: { targetFileSizeBytes?: number } = {}) {
    const p = target.properties;
    this.fields = partitionType(target.spec, target.schema);
    this.targetSize = opts.targetFileSizeBytes ?? intProperty(p, WRITE_TARGET_FILE_SIZE_BYTES);
    this.rowGroupBytes = Math.min(intProperty(p, PARQUET_ROW_GROUP_SIZE_BYTES), STREAM_ROW_GROUP_CAP_BYTES);
    this.codec = parseCodec(stringProperty(p, PARQUET_COMPRESSION));
    this.noStatisticsColumns = noStatisticsColumnsFor(target.schema);
  }

  /**
   * Writes one chunk. `inputBytes` (the chunk's size as read, e.g. its NDJSON bytes) drives
   * the size estimate; a RecordValidationError names the record's index in this chunk.
   */
  async write(records: readonly unknown[], inputBytes: number): Promise<void> {
    if (records.length === 0) return;
    const bytesPerRecord = inputBytes / records.length;
    for (const group of groupByPartition(records, this.fields, this.target.schema)) {
      let pos = 0;
      while (pos < group.rows.length) {
        const file = await this.fileFor(group.tuple);
        // As many rows as should still fit in this file (at least one).
        const room = Math.max(1, Math.floor((this.targetSize - this.estimatedSize(file)) / Math.max(1e-9, bytesPerRecord * this.compressionRatio)));
        const rows = group.rows.slice(pos, pos + room);
        pos += rows.length;
        const batch = recordsToArrow(this.target.schema, rows.length === records.length ? records : rows.map((r) => records[r]), rows);
        await this.feed(file, batch, bytesPerRecord * rows.length);
        if (this.estimatedSize(file) >= this.targetSize) await this.closeFile(file);
      }
    }
    this.records += records.length;
  }

  /** Closes every open file; returns all files written. */
  async close(): Promise<DataFile[]> {
    for (const f of [...this.open.values()]) await this.closeFile(f);
    return [...this.done];
  }

  /** Drops the open files and deletes the closed ones. */
  async abort(): Promise<void> {
    const open = [...this.open.values()];
    this.open.clear();
    for (const f of open) await f.writer.abort();
    await deleteAll(this.target.io, this.done.map((f) => f.filePath));
    this.done.length = 0;
  }

  /** The files closed so far (for callers that must clean up after a failure elsewhere). */
  get closedFiles(): readonly DataFile[] { return this.done; }

  private estimatedSize(f: OpenFile): number {
    // Input bytes × the ratio measured on closed files: exact enough once one file closed, and
    // independent of when the encoder's output arrives (it lags the batches by a row group or
    // more). Flushed bytes bound it from below, in case this file compresses worse.
    return Math.max(f.writer.flushedBytes, f.inputBytes * this.compressionRatio);
  }

  private async fileFor(tuple: PartitionTuple): Promise<OpenFile> {
    const key = partitionKey(tuple);
    const f = this.open.get(key);
    if (f) {
      // Least recently used last out: re-insert at the end.
      this.open.delete(key);
      this.open.set(key, f);
      return f;
    }
    if (this.open.size >= MAX_OPEN_FILES) await this.closeFile(this.open.values().next().value!);
    const dir = this.fields.length > 0 ? `${this.target.location}/data/${partitionPath(this.fields, tuple)}` : `${this.target.location}/data`;
    const path = `${dir}/00000-${this.fileCount++}-${this.operationId}.parquet`;
    const sink = await this.target.io.createNew(path);
    const file: OpenFile = {
      key, path, tuple, metrics: new Map(), inputBytes: 0, rowsPerGroup: 1, props: undefined,
      writer: new ParquetStreamWriter(sink, () => file.props!),
    };
    this.open.set(key, file);
    return file;
  }

  private async feed(f: OpenFile, batch: ConvertedBatch, inputBytes: number): Promise<void> {
    if (f.writer.rows === 0) {
      const perRow = batch.arrowBytes / Math.max(1, batch.numRows);
      const expectedOutPerRow = (inputBytes / Math.max(1, batch.numRows)) * this.compressionRatio;
      const rowsPerGroup = Math.min(
        rowsPerRowGroup(this.rowGroupBytes, perRow),
        // Several row groups per file, so the size check sees real flushed bytes early.
        Math.max(1024, Math.floor(this.targetSize / 4 / Math.max(1, expectedOutPerRow))),
      );
      f.rowsPerGroup = rowsPerGroup;
      f.props = parquetWriterProperties({
        codec: this.codec, rowsPerGroup, noStatisticsColumns: this.noStatisticsColumns,
        noDictionaryColumns: highCardinalityColumns(batch.table),
      });
    }
    mergeMetrics(f.metrics, batch.metrics);
    f.inputBytes += inputBytes;
    await f.writer.writeIpc(arrow.tableToIPC(batch.table, 'stream'));
  }

  private async closeFile(f: OpenFile): Promise<void> {
    this.open.delete(f.key);
    const size = await f.writer.close();
    const footer = await readParquetFooter(await this.target.io.openBlob(f.path), f.path);
    const { schema, spec, properties } = this.target;
    this.done.push(parquetDataFile({
      path: f.path, specId: spec.specId, partition: f.tuple, recordCount: footer.numRows, sizeBytes: BigInt(size),
      metrics: buildFileMetrics(schema, f.metrics, footerColumnSizes(footer), properties), splitOffsets: footerSplitOffsets(footer),
    }));
    this.closedInputBytes += f.inputBytes;
    this.closedOutputBytes += size;
    if (this.closedInputBytes > 0) this.compressionRatio = Math.max(0.01, this.closedOutputBytes / this.closedInputBytes);
  }
}

export { mergeMetrics } from './merge-metrics.ts';
