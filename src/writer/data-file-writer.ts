// Records → Parquet data files of one table: partition fan-out (one partition per file),
// files rolled at `write.target-file-size-bytes`, metrics per file. Every record is
// validated before the first byte is written, so a bad record leaves no file behind.
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { RecordValidationError, ValidationError } from '../errors.ts';
import { deleteAll, type FileIO } from '../io/file-io.ts';
import { buildFileMetrics, type FileMetrics } from '../format/file-metrics.ts';
import { parquetColumnPaths } from '../format/arrow-schema.ts';
import { highCardinalityColumns } from '../format/dictionary-choice.ts';
import { parseCodec, rowsPerRowGroup, writeParquetFile, type ParquetCodec } from '../format/parquet-writer.ts';
import { FileContent, type DataFile, type PartitionTuple } from '../spec/data-file.ts';
import { partitionKey, partitionType, type PartitionFieldType, type PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import {
  intProperty, PARQUET_COMPRESSION, PARQUET_ROW_GROUP_SIZE_BYTES, stringProperty, WRITE_TARGET_FILE_SIZE_BYTES,
} from '../spec/table-properties.ts';
import { applyTransform, partitionPathSegment } from '../spec/transforms.ts';
import { partitionValueProblem } from './partition-value-check.ts';
import { ValueError, parsePrimitiveValue } from './value-parsers.ts';
import {
  DEFAULT_ENCODE_MIN_BYTES, DEFAULT_ENCODE_MIN_ROWS, encodeMinRowsFromEnv, sharedEncoderPool, type ParquetEncoderPool, type WorkerFileEncoder,
} from '../workers/parquet-encoder-pool.ts';
import { mergeMetrics } from './merge-metrics.ts';
import { recordsToArrow, type ConvertedBatch, type LeafMetrics } from './record-converter.ts';

export interface WriteTarget {
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly properties: Readonly<Record<string, string>>;
  /** Table location; files go under `<location>/data/`. */
  readonly location: string;
  readonly io: FileIO;
}

/** Parquet bytes per byte of record JSON assumed before any file was written (zstd on
 * typical event data lands well below this, so the first files stay under the target);
 * afterwards the ratio measured on the last file is used. */
const INITIAL_COMPRESSION_RATIO = 0.5;

/**
 * Record input bytes that write() and writeConverted() expect to fill one file at the table's
 * `write.target-file-size-bytes` (before a file is written they assume INITIAL_COMPRESSION_RATIO).
 * writeConverted() splits only between converted batches: a caller converting ahead keeps its
 * batches well under this, or a small target gives files many times its size.
 */
export function inputBytesPerTargetFile(properties: Readonly<Record<string, string>>): number {
  return intProperty(properties, WRITE_TARGET_FILE_SIZE_BYTES) / INITIAL_COMPRESSION_RATIO;
}

interface PartitionGroup { tuple: PartitionTuple; rows: number[] }

/** Where a write spent its time, in milliseconds: converting records to Arrow, encoding Parquet, storage I/O. */
export interface WriteStats {
  /** Validating and converting records to Arrow. */
  toArrowMs: number;
  /** Encoding Parquet. */
  parquetMs: number;
  /** Writing to storage. */
  ioMs: number;
}

/** Where one partition field's source value sits in a record. */
interface PartitionSource { readonly f: PartitionFieldType; readonly path: readonly string[]; readonly field: string }

/** A record whose partition value cannot be computed or written: the source field and why. */
export class PartitionValueError extends ValidationError {
  constructor(readonly field: string, readonly reason: string) { super(reason); this.name = 'PartitionValueError'; }
}

const sourcesCache = new WeakMap<readonly PartitionFieldType[], { schema: Schema; sources: PartitionSource[] }>();

/** The source paths of `fields`, computed once per fields array and schema (the hot path asks per record). */
function partitionSources(fields: readonly PartitionFieldType[], schema: Schema): PartitionSource[] {
  const hit = sourcesCache.get(fields);
  if (hit?.schema === schema) return hit.sources;
  const sources = fields.map((f) => {
    const field = schema.findColumnName(f.sourceId)!;
    return { f, path: field.split('.'), field };
  });
  sourcesCache.set(fields, { schema, sources });
  return sources;
}

/**
 * The partition tuple of one record, the single place partition values are computed for
 * writing and for validation; throws PartitionValueError naming the source field when a source
 * value does not parse or the transformed value leaves the partition field's type.
 */
export function partitionTupleOf(record: unknown, fields: readonly PartitionFieldType[], schema: Schema): PartitionTuple {
  return partitionSources(fields, schema).map(({ f, path, field }) => {
    let v: unknown = record;
    for (const p of path) v = v === null || v === undefined || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[p];
    if (v === null || v === undefined) return applyTransform(f.transform, f.sourceType, null);
    let value;
    try {
      value = applyTransform(f.transform, f.sourceType, parsePrimitiveValue(f.sourceType, v));
    } catch (err) {
      if (err instanceof ValueError) throw new PartitionValueError(field, err.message);
      throw err;
    }
    const problem = partitionValueProblem(f, value);
    if (problem) throw new PartitionValueError(field, problem);
    return value;
  });
}

/** Groups row indices by partition tuple, validating the partition source values. */
export function groupByPartition(records: readonly unknown[], fields: readonly PartitionFieldType[], schema: Schema): PartitionGroup[] {
  if (fields.length === 0) return [{ tuple: [], rows: records.map((_, i) => i) }];
  const groups = new Map<string, PartitionGroup>();
  for (let i = 0; i < records.length; i++) {
    let tuple: PartitionTuple;
    try {
      tuple = partitionTupleOf(records[i], fields, schema);
    } catch (err) {
      if (err instanceof PartitionValueError) throw new RecordValidationError(i, err.field, err.reason);
      throw err;
    }
    const key = partitionKey(tuple);
    let g = groups.get(key);
    if (!g) { g = { tuple, rows: [] }; groups.set(key, g); }
    g.rows.push(i);
  }
  return [...groups.values()];
}

/** The manifest description of a Parquet data file floe wrote. */
export function parquetDataFile(o: {
  path: string; specId: number; partition: PartitionTuple; recordCount: bigint; sizeBytes: bigint;
  metrics: FileMetrics; splitOffsets: readonly bigint[];
}): DataFile {
  return {
    content: FileContent.Data,
    filePath: o.path,
    fileFormat: 'parquet',
    specId: o.specId,
    partition: o.partition,
    recordCount: o.recordCount,
    fileSizeInBytes: o.sizeBytes,
    columnSizes: o.metrics.columnSizes,
    valueCounts: o.metrics.valueCounts,
    nullValueCounts: o.metrics.nullValueCounts,
    nanValueCounts: o.metrics.nanValueCounts,
    lowerBounds: o.metrics.lowerBounds,
    upperBounds: o.metrics.upperBounds,
    splitOffsets: o.splitOffsets,
    sortOrderId: null,
  };
}

/**
 * Columns written without Parquet statistics: uuid min/max are unsigned-byte ordered, while
 * Iceberg Java's row-group filter compares them as java.util.UUID (signed) and skips row
 * groups that match.
 */
export function noStatisticsColumnsFor(schema: Schema): string[] {
  const paths = parquetColumnPaths(schema);
  return schema.leafIds().filter((id) => schema.findField(id)?.type.kind === 'uuid').map((id) => paths.get(id)!);
}

export function partitionPath(fields: readonly PartitionFieldType[], tuple: PartitionTuple): string {
  return fields.map((f, i) => `${encodeURIComponent(f.name)}=${encodeURIComponent(partitionPathSegment(f.transform, f.type, tuple[i] ?? null))}`).join('/');
}

/** Rows converted and handed to an encoder worker at a time, at most: the main thread converts
 * the next batch while a worker encodes this one. */
export const WORKER_BATCH_ROWS = 65_536;
/** At least the dictionary choice's sample, so the first batch decides it as the whole file would. */
const MIN_WORKER_BATCH_ROWS = 4_096;
/** A file goes over in at least this many batches (when that leaves them MIN_WORKER_BATCH_ROWS
 * or more), so smaller files overlap conversion and encoding too; more, smaller batches cost
 * more per row in the encoder than they gain in overlap. */
const MIN_WORKER_BATCHES = 4;

/**
 * Rows of the next batch handed to a worker with `left` rows of the file still to convert:
 * `full`, except that the last two full batches' worth are halved batch by batch (down to
 * MIN_WORKER_BATCH_ROWS), so that once the last batch is converted the worker has little left
 * to encode (it had a full batch, 40–60 ms, to go after a 1M-row file's last conversion).
 */
export function tailBatchRows(left: number, full: number): number {
  if (left > 2 * full) return full;
  return Math.min(left, Math.max(MIN_WORKER_BATCH_ROWS, Math.ceil(left / 2)));
}

export interface DataFileWriterOptions {
  /** Encoder worker pool for large files; null encodes on this thread. Default: the process's
   * shared pool (FLOE_ENCODE_WORKERS, 0 = none). */
  readonly encoderPool?: ParquetEncoderPool | null;
  /** Smallest file, in rows, encoded on a worker. Default: FLOE_ENCODE_MIN_ROWS or 131,072. */
  readonly encodeMinRows?: number;
  /** Estimated record bytes from which a file with fewer rows than encodeMinRows is encoded on
   * a worker too (see DEFAULT_ENCODE_MIN_BYTES). Default 16 MiB. */
  readonly encodeMinBytes?: number;
  /** Most rows per batch handed to a worker (default WORKER_BATCH_ROWS; at least 4,096). */
  readonly workerBatchRows?: number;
}

/** Records of one partition already converted to Arrow, in order, with their input size. */
export interface ConvertedGroup {
  readonly tuple: PartitionTuple;
  readonly batches: readonly ConvertedBatch[];
  /** The records' size as received (paces file splitting, as the JSON size does in write()). */
  readonly inputBytes: number;
}

/** Several converted batches of one schema as one: their record batches, metrics folded. */
export function concatConverted(batches: readonly ConvertedBatch[]): ConvertedBatch {
  if (batches.length === 1) return batches[0]!;
  const metrics = new Map<number, LeafMetrics>();
  for (const b of batches) mergeMetrics(metrics, b.metrics);
  return {
    table: new arrow.Table(batches.flatMap((b) => b.table.batches)),
    numRows: batches.reduce((n, b) => n + b.numRows, 0),
    metrics,
    arrowBytes: batches.reduce((n, b) => n + b.arrowBytes, 0),
  };
}

/** A file planned by write(): converted here and encoded later, or encoding on a worker. */
interface PlannedFile {
  readonly tuple: PartitionTuple;
  readonly inputBytes: number;
  readonly path: string;
  readonly local?: ConvertedBatch;
  readonly pooled?: { readonly encoder: WorkerFileEncoder; readonly numRows: number; readonly metrics: ReadonlyMap<number, LeafMetrics> };
}

/**
 * Writes records as data files. `filePrefix` keeps names unique per writer and attempt
 * (Java: `<partition>-<task>-<operation uuid>-<n>`).
 */
export class DataFileWriter {
  private compressionRatio = INITIAL_COMPRESSION_RATIO;
  private fileCount = 0;
  private readonly operationId = randomUUID();
  private readonly pool: ParquetEncoderPool | null;
  private readonly encodeMinRows: number;
  private readonly encodeMinBytes: number;
  private readonly workerBatchRows: number;
  readonly stats: WriteStats = { toArrowMs: 0, parquetMs: 0, ioMs: 0 };

  constructor(private readonly target: WriteTarget, options: DataFileWriterOptions = {}) {
    this.pool = options.encoderPool === undefined ? sharedEncoderPool() : options.encoderPool;
    this.encodeMinRows = options.encodeMinRows ?? encodeMinRowsFromEnv();
    this.encodeMinBytes = options.encodeMinBytes ?? DEFAULT_ENCODE_MIN_BYTES;
    this.workerBatchRows = Math.max(MIN_WORKER_BATCH_ROWS, options.workerBatchRows ?? WORKER_BATCH_ROWS);
  }

  async write(records: readonly unknown[]): Promise<DataFile[]> {
    const { schema, spec } = this.target;
    const fields = partitionType(spec, schema);
    const targetSize = intProperty(this.target.properties, WRITE_TARGET_FILE_SIZE_BYTES);
    const encodeOptions = this.encodeOptions();

    // Phase 1: validate and convert everything; nothing is written if any record is bad. Large
    // files are encoded on worker threads meanwhile, into memory only.
    const planned: PlannedFile[] = [];
    try {
      for (const group of groupByPartition(records, fields, schema)) {
        const { parts, bytesPerRow } = this.splitForTarget(group.rows, records, targetSize);
        for (const rows of parts) {
          const path = this.nextPath(fields, group.tuple);
          const inputBytes = bytesPerRow * rows.length;
          if (this.pool !== null && this.paysOnWorker(rows.length, inputBytes)) {
            planned.push({ tuple: group.tuple, inputBytes, path, pooled: await this.startOnWorker(this.pool, path, records, rows, encodeOptions) });
          } else {
            const t0 = performance.now();
            const subset = rows.length === records.length ? records : rows.map((r) => records[r]);
            planned.push({ tuple: group.tuple, inputBytes, path, local: recordsToArrow(schema, subset, rows) });
            this.stats.toArrowMs += performance.now() - t0;
          }
        }
      }
    } catch (err) {
      for (const f of planned) f.pooled?.encoder.abort();
      throw err;
    }
    return this.finish(planned);
  }

  /**
   * Writes records already converted to Arrow (with the target's schema), one group per
   * partition: the same files, metrics and encoder choice as {@link DataFileWriter.write}, for
   * a caller that converted its records as they arrived (the ingestor: a batch's records are
   * not kept on the JS heap until its flush). A group is split at `write.target-file-size-bytes`
   * by its input bytes, between batches.
   */
  async writeConverted(groups: readonly ConvertedGroup[]): Promise<DataFile[]> {
    const fields = partitionType(this.target.spec, this.target.schema);
    const targetSize = intProperty(this.target.properties, WRITE_TARGET_FILE_SIZE_BYTES);
    const encodeOptions = this.encodeOptions();
    const planned: PlannedFile[] = [];
    try {
      for (const group of groups) {
        for (const { batches, inputBytes } of this.splitConverted(group, targetSize)) {
          const path = this.nextPath(fields, group.tuple);
          const numRows = batches.reduce((n, b) => n + b.numRows, 0);
          if (numRows === 0) continue;
          if (this.pool !== null && this.paysOnWorker(numRows, inputBytes)) {
            planned.push({ tuple: group.tuple, inputBytes, path, pooled: await this.sendToWorker(this.pool, path, batches, encodeOptions) });
          } else {
            planned.push({ tuple: group.tuple, inputBytes, path, local: concatConverted(batches) });
          }
        }
      }
    } catch (err) {
      for (const f of planned) f.pooled?.encoder.abort();
      throw err;
    }
    return this.finish(planned);
  }

  private encodeOptions(): { codec: ParquetCodec; rowGroupSize: number; noStatisticsColumns: string[] } {
    const { schema, properties } = this.target;
    return {
      codec: parseCodec(stringProperty(properties, PARQUET_COMPRESSION)),
      rowGroupSize: intProperty(properties, PARQUET_ROW_GROUP_SIZE_BYTES),
      noStatisticsColumns: noStatisticsColumnsFor(schema),
    };
  }

  private nextPath(fields: readonly PartitionFieldType[], tuple: PartitionTuple): string {
    const dir = fields.length > 0 ? `${this.target.location}/data/${partitionPath(fields, tuple)}` : `${this.target.location}/data`;
    return `${dir}/00000-${this.fileCount++}-${this.operationId}.parquet`;
  }

  /** Phase 2: encode (or collect the workers' files) and write, in plan order; on failure the
   * files written are removed and the workers' files dropped. */
  private async finish(planned: readonly PlannedFile[]): Promise<DataFile[]> {
    const { schema, spec, properties } = this.target;
    const { codec, rowGroupSize, noStatisticsColumns } = this.encodeOptions();
    const written: DataFile[] = [];
    try {
      for (const f of planned) {
        let t0 = performance.now();
        let pq: { bytes: Uint8Array; columnSizes: readonly bigint[]; splitOffsets: readonly bigint[] };
        let numRows: number;
        let leafMetrics: ReadonlyMap<number, LeafMetrics>;
        if (f.pooled) {
          pq = await f.pooled.encoder.close();
          numRows = f.pooled.numRows;
          leafMetrics = f.pooled.metrics;
        } else {
          const batch = f.local!;
          pq = await writeParquetFile(batch.table, {
            codec, rowGroupSizeBytes: rowGroupSize, arrowBytesPerRow: batch.arrowBytes / Math.max(1, batch.numRows), noStatisticsColumns,
          });
          numRows = batch.numRows;
          leafMetrics = batch.metrics;
        }
        this.stats.parquetMs += performance.now() - t0;
        if (f.inputBytes > 0) this.compressionRatio = Math.max(0.01, pq.bytes.length / f.inputBytes);
        t0 = performance.now();
        await this.target.io.writeNew(f.path, pq.bytes);
        this.stats.ioMs += performance.now() - t0;
        const metrics = buildFileMetrics(schema, leafMetrics, pq.columnSizes, properties);
        written.push(parquetDataFile({
          path: f.path, specId: spec.specId, partition: f.tuple, recordCount: BigInt(numRows),
          sizeBytes: BigInt(pq.bytes.length), metrics, splitOffsets: pq.splitOffsets,
        }));
      }
    } catch (err) {
      for (const f of planned) f.pooled?.encoder.abort();
      await deleteAll(this.target.io, written.map((f) => f.filePath));
      throw err;
    }
    return written;
  }

  /** Sends converted batches to a worker (joined up to workerBatchRows rows per message); the
   * row-group bound and dictionary choice come from the file's first MIN_WORKER_BATCH_ROWS rows,
   * as in startOnWorker. (A partition's first batch may hold a handful of its rows: a choice made
   * on those dictionary-encoded its ids, files 2–3× larger than the records' path wrote.) */
  private async sendToWorker(
    pool: ParquetEncoderPool, path: string, batches: readonly ConvertedBatch[],
    o: { codec: ParquetCodec; rowGroupSize: number; noStatisticsColumns: string[] },
  ): Promise<NonNullable<PlannedFile['pooled']>> {
    pool.prestart();
    const metrics = new Map<number, LeafMetrics>();
    let headCount = 0;
    for (let rows = 0; headCount < batches.length && rows < MIN_WORKER_BATCH_ROWS; headCount++) rows += batches[headCount]!.numRows;
    const first = concatConverted(batches.slice(0, headCount));
    const t0 = performance.now();
    const encoder = await pool.open(path, {
      codec: o.codec, rowsPerGroup: rowsPerRowGroup(o.rowGroupSize, first.arrowBytes / Math.max(1, first.numRows)),
      noStatisticsColumns: o.noStatisticsColumns, noDictionaryColumns: highCardinalityColumns(first.table),
    });
    let numRows = 0;
    try {
      let pending: ConvertedBatch[] = [];
      let pendingRows = 0;
      const send = async (): Promise<void> => {
        if (pending.length === 0) return;
        await encoder.write(concatConverted(pending).table);
        pending = [];
        pendingRows = 0;
      };
      for (const b of batches) {
        mergeMetrics(metrics, b.metrics);
        numRows += b.numRows;
        pending.push(b);
        pendingRows += b.numRows;
        if (pendingRows >= this.workerBatchRows) await send();
      }
      await send();
      void encoder.close();
    } catch (err) {
      encoder.abort();
      throw err;
    }
    this.stats.parquetMs += performance.now() - t0;
    return { encoder, numRows, metrics };
  }

  /** A converted group's batches split into files under the target size (between batches). */
  private splitConverted(group: ConvertedGroup, targetSize: number): { batches: ConvertedBatch[]; inputBytes: number }[] {
    const rows = group.batches.reduce((n, b) => n + b.numRows, 0);
    const count = Math.max(1, Math.ceil((group.inputBytes * this.compressionRatio) / targetSize));
    if (count === 1 || group.batches.length <= 1) return [{ batches: [...group.batches], inputBytes: group.inputBytes }];
    const perRow = group.inputBytes / Math.max(1, rows);
    const rowsPerFile = Math.ceil(rows / count);
    const out: { batches: ConvertedBatch[]; inputBytes: number }[] = [];
    let cur: ConvertedBatch[] = [];
    let curRows = 0;
    for (const b of group.batches) {
      if (curRows > 0 && curRows + b.numRows > rowsPerFile) { out.push({ batches: cur, inputBytes: curRows * perRow }); cur = []; curRows = 0; }
      cur.push(b);
      curRows += b.numRows;
    }
    if (cur.length > 0) out.push({ batches: cur, inputBytes: curRows * perRow });
    return out;
  }

  /** Whether encoding a file on a worker pays: many rows, or wide rows (see DEFAULT_ENCODE_MIN_BYTES). */
  private paysOnWorker(rows: number, inputBytes: number): boolean {
    if (rows >= this.encodeMinRows) return true;
    return inputBytes >= this.encodeMinBytes && rows >= Math.min(this.encodeMinRows, DEFAULT_ENCODE_MIN_ROWS / 8);
  }

  /**
   * Converts a file's rows batch by batch, each batch handed to a worker that encodes while the
   * next is converted (at most MAX_BATCHES_IN_FLIGHT waiting). Metrics are the batches' metrics
   * folded (mergeMetrics, as the rolling writer does). The row-group bound and dictionary choice
   * come from the first batch. On a conversion error the file is aborted and the error rethrown.
   */
  private async startOnWorker(
    pool: ParquetEncoderPool, path: string, records: readonly unknown[], rows: readonly number[],
    o: { codec: ParquetCodec; rowGroupSize: number; noStatisticsColumns: string[] },
  ): Promise<NonNullable<PlannedFile['pooled']>> {
    pool.prestart();
    const metrics = new Map<number, LeafMetrics>();
    const whole = rows.length === records.length;
    let encoder: WorkerFileEncoder | undefined;
    try {
      const full = Math.min(this.workerBatchRows, Math.max(MIN_WORKER_BATCH_ROWS, Math.ceil(rows.length / MIN_WORKER_BATCHES)));
      for (let at = 0, step = full; at < rows.length; at += step) {
        step = tailBatchRows(rows.length - at, full);
        let t0 = performance.now();
        const slice = rows.slice(at, at + step);
        const subset = whole ? records.slice(at, at + step) : slice.map((r) => records[r]);
        const batch = recordsToArrow(this.target.schema, subset, slice);
        mergeMetrics(metrics, batch.metrics);
        this.stats.toArrowMs += performance.now() - t0;
        t0 = performance.now();
        encoder ??= await pool.open(path, {
          codec: o.codec, rowsPerGroup: rowsPerRowGroup(o.rowGroupSize, batch.arrowBytes / Math.max(1, batch.numRows)),
          noStatisticsColumns: o.noStatisticsColumns, noDictionaryColumns: highCardinalityColumns(batch.table),
        });
        await encoder.write(batch.table);
        this.stats.parquetMs += performance.now() - t0;
      }
      // Ends the file now: its worker finishes it (and becomes free) while the next is converted.
      void encoder!.close();
    } catch (err) {
      encoder?.abort();
      throw err;
    }
    return { encoder: encoder!, numRows: rows.length, metrics };
  }

  /** Splits a partition's rows into chunks whose Parquet files should stay under the target. */
  private splitForTarget(rows: number[], records: readonly unknown[], targetSize: number): { parts: number[][]; bytesPerRow: number } {
    // The serialized JSON length of a few sampled records is a cheap, stable proxy for row
    // width; converting a sample to Arrow first would cost a second pass.
    const sample = Math.min(rows.length, 32);
    let sampleBytes = 0;
    for (let i = 0; i < sample; i++) sampleBytes += approxRecordBytes(records[rows[Math.floor((i * rows.length) / sample)]!]);
    const bytesPerRow = sample > 0 ? sampleBytes / sample : 0;
    const estimated = bytesPerRow * rows.length * this.compressionRatio;
    const count = Math.max(1, Math.ceil(estimated / targetSize));
    if (count === 1 || rows.length <= 1) return { parts: [rows], bytesPerRow };
    const size = Math.ceil(rows.length / count);
    const parts: number[][] = [];
    for (let i = 0; i < rows.length; i += size) parts.push(rows.slice(i, i + size));
    return { parts, bytesPerRow };
  }
}

function approxRecordBytes(r: unknown): number {
  try {
    return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? 'x'.repeat(v.length) : v))?.length ?? 16;
  } catch {
    return 64;
  }
}
