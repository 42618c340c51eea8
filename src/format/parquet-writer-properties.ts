// parquet-wasm writer properties from floe's choices: codec, row-group bound, statistics and
// dictionary per column. No Arrow JS here: encoder worker threads load this module.
import * as parquet from 'parquet-wasm';
import { ValidationError } from '../errors.ts';
import { PARQUET_COMPRESSION } from '../spec/table-properties.ts';

/** The `created_by` of every Parquet file floe encodes. */
export const FLOE_CREATED_BY = 'floe (parquet-wasm)';

export type ParquetCodec = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'brotli' | 'uncompressed';

/** Encoding choices: columns without statistics, columns without dictionary encoding. */
export interface ColumnChoices {
  readonly noStatisticsColumns?: readonly string[] | undefined;
  readonly noDictionaryColumns?: readonly string[] | undefined;
}

const CODECS: Record<ParquetCodec, parquet.Compression> = {
  zstd: parquet.Compression.ZSTD,
  snappy: parquet.Compression.SNAPPY,
  gzip: parquet.Compression.GZIP,
  lz4: parquet.Compression.LZ4_RAW,
  brotli: parquet.Compression.BROTLI,
  uncompressed: parquet.Compression.UNCOMPRESSED,
};

export function parseCodec(name: string): ParquetCodec {
  const n = name.toLowerCase();
  if (n === 'none') return 'uncompressed';
  if (n in CODECS) return n as ParquetCodec;
  throw new ValidationError(`${PARQUET_COMPRESSION.name} '${name}' is not one of ${Object.keys(CODECS).join(', ')}`);
}

/** Rows per row group for a byte bound (arrow-rs bounds row groups by rows). */
export function rowsPerRowGroup(rowGroupSizeBytes: number, arrowBytesPerRow: number): number {
  return Math.max(1024, Math.floor(rowGroupSizeBytes / Math.max(1, arrowBytesPerRow)));
}

/** parquet-wasm writer properties: codec, row-group bound, chunk statistics except where disabled. */
export function parquetWriterProperties(opts: { codec: ParquetCodec; rowsPerGroup: number } & ColumnChoices): parquet.WriterProperties {
  let builder = new parquet.WriterPropertiesBuilder()
    .setCompression(CODECS[opts.codec])
    .setMaxRowGroupSize(opts.rowsPerGroup)
    .setStatisticsEnabled(parquet.EnabledStatistics.Chunk)
    .setCreatedBy(FLOE_CREATED_BY);
  for (const col of opts.noStatisticsColumns ?? []) builder = builder.setColumnStatisticsEnabled(col, parquet.EnabledStatistics.None);
  for (const col of opts.noDictionaryColumns ?? []) builder = builder.setColumnDictionaryEnabled(col, false);
  return builder.build();
}

/** This thread's parquet-wasm linear memory in bytes (each worker thread has its own instance).
 * It grows to the largest file or batch handled and is never returned to the system. */
export function parquetWasmHeapBytes(): number { return parquet.wasmMemory().buffer.byteLength; }
