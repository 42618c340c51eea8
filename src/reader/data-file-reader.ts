// Reads chosen columns of one Parquet data file, batch by batch, as floe's in-memory Iceberg
// values: what MERGE/UPDATE/DELETE need to find the row positions of keys in live files.
// Columns are found by Iceberg field id (renamed columns keep their id), never by name; a field
// added after the file was written reads as null. Memory stays bounded by one batch: small
// files are fetched in one request, big ones are read row group by row group from a lazy Blob.
import * as arrow from 'apache-arrow';
import type * as parquet from 'parquet-wasm';
import { InvalidMetadataError, UnsupportedError } from '../errors.ts';
import { parquetFooterOf, readParquetFooter, type ParquetFooter } from '../format/parquet-footer.ts';
import type { FileIO, RandomAccessBlob } from '../io/file-io.ts';
import type { DataFile } from '../spec/data-file.ts';
import type { Schema } from '../spec/schema.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import { openParquetFile } from './open-parquet-file.ts';
import { namingParquetFile } from './parquet-read-errors.ts';

/** The value of row `i` (relative to the batch) of one column. */
export type ColumnValues = (i: number) => PrimitiveValue | null;
/** The columns of one batch, by field id (any id asked for; unknown ids read as null). */
export type BatchColumns = (fieldId: number) => ColumnValues;
export type OnBatch = (firstRowPosition: number, numRows: number, column: BatchColumns) => void | Promise<void>;

export interface ScanOptions {
  /** Rows per batch (default 8192). */
  readonly batchSize?: number;
  /** Files smaller than this are fetched in one request (default 16 MiB). */
  readonly readWholeBelowBytes?: number;
  /** The table schema the values are wanted in: an `int` column of an older file read as a
   * `long` field (type promotion) then comes back as bigint, as the field's type says. */
  readonly schema?: Schema;
}

const DEFAULT_BATCH_ROWS = 8192;
const READ_WHOLE_BELOW_BYTES = 16 * 1024 * 1024;
const ALL_NULL: ColumnValues = () => null;

/**
 * Streams the rows of `file` to `onBatch`, projecting the columns of `fieldIds` (primitive
 * fields, at the top level or inside structs). Returns the number of rows read, which is
 * checked against the file's record count (positions are only meaningful if they agree).
 */
export async function scanColumns(io: FileIO, file: DataFile, fieldIds: readonly number[], onBatch: OnBatch, opts: ScanOptions = {}): Promise<number> {
  const path = file.filePath;
  if (file.fileFormat !== 'parquet') throw new UnsupportedError(`cannot read ${path}: only Parquet files are read (format ${file.fileFormat})`);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_ROWS;
  let blob: RandomAccessBlob;
  let footer: ParquetFooter;
  if (file.fileSizeInBytes < BigInt(opts.readWholeBelowBytes ?? READ_WHOLE_BELOW_BYTES)) {
    const bytes = await io.read(path);
    footer = await namingParquetFile(path, () => parquetFooterOf(bytes, path));
    blob = new Blob([bytes]);
  } else {
    blob = await io.openBlob(path);
    footer = await readParquetFooter(blob, path);
  }
  // Checked before the first batch, so a caller never acts on positions of a mismatched file.
  if (footer.numRows !== file.recordCount) {
    throw new InvalidMetadataError(path, `has ${footer.numRows} rows but its manifest says ${file.recordCount}`);
  }
  const columns = projectedColumns(footer, fieldIds, path);
  const promote = promotions(opts.schema, columns);
  let position = 0;
  if (columns.size === 0) {
    // Nothing to decode: every asked-for column is absent, only the row count matters.
    const total = Number(footer.numRows);
    for (; position < total; position += Math.min(batchSize, total - position)) {
      await onBatch(position, Math.min(batchSize, total - position), () => ALL_NULL);
    }
  } else {
    const pf = await namingParquetFile(path, () => openParquetFile(blob));
    try {
      const stream = await namingParquetFile(path, () => pf.stream({ batchSize, columns: [...new Set([...columns.values()].map((c) => c.join('.')))] }));
      const reader = stream.getReader() as ReadableStreamDefaultReader<parquet.RecordBatch>;
      for (;;) {
        const next = await namingParquetFile(path, () => reader.read());
        if (next.done) break;
        const table = await namingParquetFile(path, () => arrow.tableFromIPC(next.value.intoIPCStream()));
        for (const batch of table.batches) {
          const accessors = new Map<number, ColumnValues>();
          for (const [id, leafPath] of columns) {
            const values = columnValues(batch, leafPath, path);
            const widen = promote.get(id);
            accessors.set(id, widen ? (i) => widen(values(i)) : values);
          }
          await onBatch(position, batch.numRows, (id) => accessors.get(id) ?? ALL_NULL);
          position += batch.numRows;
        }
      }
    } finally {
      pf.free();
    }
  }
  if (BigInt(position) !== file.recordCount) {
    throw new InvalidMetadataError(path, `has ${position} rows but its manifest says ${file.recordCount}`);
  }
  return position;
}

/** Field id → leaf path of the asked-for ids present in the file (absent ones read as null). */
function projectedColumns(footer: ParquetFooter, fieldIds: readonly number[], path: string): Map<number, readonly string[]> {
  const out = new Map<number, readonly string[]>();
  // Without any field id (a file imported from Hive, say) every column would read as null and
  // no key would ever match: refuse rather than guess by name (name mapping is not supported).
  if (fieldIds.length > 0 && footer.leaves.length > 0 && footer.leaves.every((l) => l.fieldId === undefined)) {
    throw new UnsupportedError(`cannot read ${path} by field id: its Parquet schema has no field ids (name mapping is not supported)`);
  }
  for (const id of fieldIds) {
    const leaf = footer.leaves.find((l) => l.fieldId === id);
    if (!leaf) continue; // added to the table after this file was written
    if (leaf.repeated) throw new UnsupportedError(`cannot read field ${id} of ${path} by row: it is inside a list or map`);
    out.set(id, leaf.path);
  }
  return out;
}

/** Value widening for promoted fields (int → long): the table's type decides the value form. */
function promotions(schema: Schema | undefined, columns: ReadonlyMap<number, readonly string[]>): Map<number, (v: PrimitiveValue | null) => PrimitiveValue | null> {
  const out = new Map<number, (v: PrimitiveValue | null) => PrimitiveValue | null>();
  if (!schema) return out;
  for (const id of columns.keys()) {
    const kind = schema.findField(id)?.type.kind;
    if (kind === 'long') out.set(id, (v) => (typeof v === 'number' ? BigInt(v) : v));
  }
  return out;
}

/** The values of the leaf at `leafPath` in one Arrow batch, null where it or a parent struct is null. */
function columnValues(batch: arrow.RecordBatch, leafPath: readonly string[], file: string): ColumnValues {
  let data: arrow.Data = batch.data;
  const ancestors: arrow.Data[] = [];
  for (const name of leafPath) {
    const type = data.type as arrow.DataType;
    const idx = arrow.DataType.isStruct(type) ? type.children.findIndex((f) => f.name === name) : -1;
    const child = idx >= 0 ? data.children[idx] : undefined;
    if (!child) throw new InvalidMetadataError(file, `Parquet column ${leafPath.join('.')} is missing from the decoded batch`);
    if (data !== batch.data) ancestors.push(data);
    data = child;
  }
  const values = primitiveValues(data, `${file} column ${leafPath.join('.')}`);
  if (ancestors.length === 0 && data.nullCount === 0) return values;
  const nullable = [...ancestors, data].filter((d) => d.nullCount > 0);
  return (i) => {
    for (const d of nullable) if (!d.getValid(i)) return null;
    return values(i);
  };
}

const MICROS_PER_UNIT: Record<number, bigint> = {
  [arrow.TimeUnit.SECOND]: 1_000_000n,
  [arrow.TimeUnit.MILLISECOND]: 1_000n,
  [arrow.TimeUnit.MICROSECOND]: 1n,
};

/** Floor division (timestamps before 1970 round down to the earlier microsecond). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b !== a && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** A count of `unit` as microseconds. */
function toMicros(v: bigint, unit: number): bigint {
  return unit === arrow.TimeUnit.NANOSECOND ? floorDiv(v, 1000n) : v * MICROS_PER_UNIT[unit]!;
}

/** Reads one non-null slot of a primitive Arrow array as floe's in-memory value (validity is the caller's). */
function primitiveValues(data: arrow.Data, what: string): ColumnValues {
  const type = data.type as arrow.DataType;
  const v = data.values as ArrayLike<number | bigint>;
  if (arrow.DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    const offset = data.offset;
    return (i) => ((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1;
  }
  if (arrow.DataType.isInt(type)) {
    if (type.bitWidth === 64) return (i) => BigInt(v[i]!);
    return (i) => Number(v[i]!);
  }
  if (arrow.DataType.isFloat(type)) {
    if (type.precision === arrow.Precision.HALF) throw new UnsupportedError(`${what}: half-precision floats are not an Iceberg type`);
    return (i) => v[i] as number;
  }
  if (arrow.DataType.isDecimal(type)) {
    const words = data.values as Uint32Array;
    const bitWidth = (type as arrow.Decimal & { bitWidth?: number }).bitWidth ?? 128;
    const stride = bitWidth / 32;
    return (i) => {
      let x = 0n;
      for (let w = stride - 1; w >= 0; w--) x = (x << 32n) | BigInt(words[i * stride + w]!);
      return BigInt.asIntN(bitWidth, x);
    };
  }
  if (arrow.DataType.isDate(type)) {
    if (type.unit === arrow.DateUnit.DAY) return (i) => Number(v[i]!);
    return (i) => Number(floorDiv(BigInt(v[i]!), 86_400_000n));
  }
  if (arrow.DataType.isTime(type)) return (i) => toMicros(BigInt(v[i]!), type.unit);
  if (arrow.DataType.isTimestamp(type)) return (i) => toMicros(BigInt(v[i]!), type.unit);
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    const bytes = data.values as Uint8Array;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return (i) => text.toString('utf8', Number(offsets[i]!), Number(offsets[i + 1]!));
  }
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    const bytes = data.values as Uint8Array;
    return (i) => bytes.slice(Number(offsets[i]!), Number(offsets[i + 1]!));
  }
  if (arrow.DataType.isFixedSizeBinary(type)) {
    const bytes = data.values as Uint8Array;
    const width = type.byteWidth;
    return (i) => bytes.slice(i * width, (i + 1) * width);
  }
  if (arrow.DataType.isDictionary(type)) {
    const dictionary = data.dictionary;
    const chunk = dictionary?.data.length === 1 ? dictionary.data[0] : undefined;
    if (!chunk) throw new UnsupportedError(`${what}: dictionary-encoded column without a single dictionary`);
    const decoded = primitiveValues(chunk, what);
    return (i) => decoded(Number(v[i]!));
  }
  throw new UnsupportedError(`${what}: Arrow type ${String(type)} is not an Iceberg primitive`);
}
