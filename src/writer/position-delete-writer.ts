// Iceberg v2 position-delete files (spec "Position Delete Files"): rows of (file_path, pos)
// sorted by path then position, with the reserved field ids in the Parquet schema. Metrics keep
// FULL file_path bounds, as Java's MetricsConfig.forPositionDelete does: readers compare a data
// file's path against them to skip delete files that cannot touch it, and a truncated bound
// would make them read every delete file of the partition.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { buildFileMetrics } from '../format/file-metrics.ts';
import { parseCodec, writeParquetFile } from '../format/parquet-writer.ts';
import type { FileIO } from '../io/file-io.ts';
import { FileContent, type DataFile, type PartitionTuple } from '../spec/data-file.ts';
import { partitionType, type PartitionSpec } from '../spec/partition-spec.ts';
import { POSITION_DELETE_SCHEMA } from '../spec/position-delete-schema.ts';
import type { Schema } from '../spec/schema.ts';
import { compareCodePoints } from '../spec/single-value.ts';
import { DEFAULT_ROW_GROUP_SIZE_BYTES, partitionPath } from './data-file-writer.ts';
import { recordsToArrow } from './record-converter.ts';

export interface PositionDeleteTarget {
  readonly io: FileIO;
  /** Table location; the file goes under `<location>/data/<partition path>/`. */
  readonly location: string;
  /** The table schema the partition spec refers to (for the partition path). */
  readonly schema: Schema;
  /** The spec of the data files the deletes refer to. */
  readonly spec: PartitionSpec;
  readonly properties: Readonly<Record<string, string>>;
}

/**
 * Writes one position-delete file for data files of one partition (`partition`, of `spec`):
 * `deletes` maps a data file path to the row positions deleted in it (any order; duplicates
 * are written once). Returns its manifest description (content 1).
 */
export async function writePositionDeletes(
  target: PositionDeleteTarget, partition: PartitionTuple, deletes: ReadonlyMap<string, readonly number[]>,
): Promise<DataFile> {
  const fields = partitionType(target.spec, target.schema);
  if (partition.length !== fields.length) {
    throw new ValidationError(`position deletes for spec ${target.spec.specId}: partition tuple has ${partition.length} values, the spec ${fields.length} fields`);
  }
  const paths = [...deletes.keys()].sort(compareCodePoints);
  const rows: { file_path: string; pos: bigint }[] = [];
  for (const path of paths) {
    const positions = [...new Set(deletes.get(path)!)].sort((a, b) => a - b);
    for (const pos of positions) {
      if (!Number.isSafeInteger(pos) || pos < 0) throw new ValidationError(`position delete for ${path}: position ${pos} is not a row position (an integer >= 0)`);
      rows.push({ file_path: path, pos: BigInt(pos) });
    }
  }
  if (rows.length === 0) throw new ValidationError('a position-delete file needs at least one deleted position');

  const props = target.properties;
  const codec = parseCodec(props['write.delete.parquet.compression-codec'] ?? props['write.parquet.compression-codec'] ?? 'zstd');
  const batch = recordsToArrow(POSITION_DELETE_SCHEMA, rows);
  const pq = await writeParquetFile(batch.table, {
    codec,
    rowGroupSizeBytes: Number(props['write.delete.parquet.row-group-size-bytes'] ?? props['write.parquet.row-group-size-bytes'] ?? DEFAULT_ROW_GROUP_SIZE_BYTES),
    arrowBytesPerRow: batch.arrowBytes / batch.numRows,
  });
  const dir = fields.length > 0 ? `${target.location}/data/${partitionPath(fields, partition)}` : `${target.location}/data`;
  const path = `${dir}/00000-0-${randomUUID()}-deletes.parquet`;
  await target.io.writeNew(path, pq.bytes);
  const metrics = buildFileMetrics(POSITION_DELETE_SCHEMA, batch.metrics, pq.columnSizes, { 'write.metadata.metrics.default': 'full' });
  return {
    content: FileContent.PositionDeletes,
    filePath: path,
    fileFormat: 'parquet',
    specId: target.spec.specId,
    partition,
    recordCount: BigInt(rows.length),
    fileSizeInBytes: BigInt(pq.bytes.length),
    columnSizes: metrics.columnSizes,
    valueCounts: metrics.valueCounts,
    nullValueCounts: metrics.nullValueCounts,
    lowerBounds: metrics.lowerBounds,
    upperBounds: metrics.upperBounds,
    splitOffsets: pq.splitOffsets,
    sortOrderId: null,
    referencedDataFile: paths.length === 1 ? paths[0]! : null,
  };
}
