// Arrow table → Parquet bytes through parquet-wasm (arrow-rs), plus what manifests need from
// the written footer: compressed bytes per column and the row groups' start offsets.
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { highCardinalityColumns } from './dictionary-choice.ts';
import { parquetWriterProperties, rowsPerRowGroup, type ParquetCodec } from './parquet-writer-properties.ts';
import { footerColumnSizes, footerSplitOffsets, parquetFooterOf } from './parquet-footer.ts';

export {
  parseCodec, parquetWriterProperties, rowsPerRowGroup, type ColumnChoices, type ParquetCodec,
} from './parquet-writer-properties.ts';

export interface ParquetWriteOptions {
  readonly codec: ParquetCodec;
  readonly rowGroupSizeBytes: number;
  /** Arrow bytes per row, to turn the byte bound into arrow-rs's row bound. */
  readonly arrowBytesPerRow: number;
  /** Dotted column paths written without statistics. */
  readonly noStatisticsColumns?: readonly string[];
}

export interface ParquetFileResult {
  readonly bytes: Uint8Array;
  /** Σ compressed chunk bytes per leaf column, in Parquet (depth-first leaf) order. */
  readonly columnSizes: readonly bigint[];
  /** Start offset of each row group, ascending; the first is 4 (after the `PAR1` magic). */
  readonly splitOffsets: readonly bigint[];
  readonly rowGroups: number;
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
