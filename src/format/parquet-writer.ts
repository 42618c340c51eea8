// Arrow table → Parquet bytes through parquet-wasm (arrow-rs), plus what manifests need from
// the written footer: compressed bytes per column and the row groups' start offsets.
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { ValidationError } from '../errors.ts';
import { PARQUET_COMPRESSION } from '../spec/table-properties.ts';
import { highCardinalityColumns } from './dictionary-choice.ts';
import { footerColumnSizes, footerSplitOffsets, parquetFooterOf } from './parquet-footer.ts';

export type ParquetCodec = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'brotli' | 'uncompressed';

export interface ParquetWriteOptions {
  readonly codec: ParquetCodec;
  readonly rowGroupSizeBytes: number;
  /** Arrow bytes per row, to turn the byte bound into arrow-rs's row bound. */
  readonly arrowBytesPerRow: number;
  /** Dotted column paths written without statistics. */
  readonly noStatisticsColumns?: readonly string[];
}

/** Encoding choices: columns without statistics, columns without dictionary encoding. */
export interface ColumnChoices {
  readonly noStatisticsColumns?: readonly string[] | undefined;
  readonly noDictionaryColumns?: readonly string[] | undefined;
}

export interface ParquetFileResult {
  readonly bytes: Uint8Array;
  /** Σ compressed chunk bytes per leaf column, in Parquet (depth-first leaf) order. */
  readonly columnSizes: readonly bigint[];
  /** Start offset of each row group, ascending; the first is 4 (after the `PAR1` magic). */
  readonly splitOffsets: readonly bigint[];
  readonly rowGroups: number;
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
    .setCreatedBy('floe (parquet-wasm)');
  for (const col of opts.noStatisticsColumns ?? []) builder = builder.setColumnStatisticsEnabled(col, parquet.EnabledStatistics.None);
  for (const col of opts.noDictionaryColumns ?? []) builder = builder.setColumnDictionaryEnabled(col, false);
  return builder.build();
}

export async function writeParquetFile(table: arrow.Table, opts: ParquetWriteOptions): Promise<ParquetFileResult> {
  const props = parquetWriterProperties({
    codec: opts.codec, rowsPerGroup: rowsPerRowGroup(opts.rowGroupSizeBytes, opts.arrowBytesPerRow), noStatisticsColumns: opts.noStatisticsColumns,
    noDictionaryColumns: highCardinalityColumns(table),
  });
  const wasmTable = parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  const bytes = parquet.writeParquet(wasmTable, props);
  const footer = parquetFooterOf(bytes, 'written Parquet file');
  return { bytes, columnSizes: footerColumnSizes(footer), splitOffsets: footerSplitOffsets(footer), rowGroups: footer.rowGroups.length };
}
