// What position- and equality-delete files share: the target they are written for, the
// partition check, and encoding rows of a delete schema into one Parquet file under the
// partition's data folder with Iceberg's `write.delete.parquet.*` properties (falling back to
// `write.parquet.*`), described as a DataFile of the given content with metrics.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { buildFileMetrics } from '../format/file-metrics.ts';
import { parseCodec, writeParquetFile } from '../format/parquet-writer.ts';
import type { FileIO } from '../io/file-io.ts';
import type { DataFile, FileContent, PartitionTuple } from '../spec/data-file.ts';
import { partitionType, type PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { DELETE_PARQUET_COMPRESSION, DELETE_PARQUET_ROW_GROUP_SIZE_BYTES, intProperty, stringProperty } from '../spec/table-properties.ts';
import { partitionPath } from './data-file-writer.ts';
import { recordsToArrow } from './record-converter.ts';

export interface DeleteFileTarget {
  readonly io: FileIO;
  /** Table location; the file goes under `<location>/data/<partition path>/`. */
  readonly location: string;
  /** The table schema the partition spec refers to (for the partition path). */
  readonly schema: Schema;
  /** The spec of the data files the deletes refer to. */
  readonly spec: PartitionSpec;
  readonly properties: Readonly<Record<string, string>>;
}

export function checkDeletePartition(what: string, target: DeleteFileTarget, partition: PartitionTuple): void {
  const fields = partitionType(target.spec, target.schema);
  if (partition.length !== fields.length) {
    throw new ValidationError(`${what} for spec ${target.spec.specId}: partition tuple has ${partition.length} values, the spec ${fields.length} fields`);
  }
}

/** Encodes `rows` (shaped by `deleteSchema`) and writes them; the DataFile lacks only what is
 * particular to its content (equality ids, referenced data file). */
export async function writeDeleteFile(
  target: DeleteFileTarget, partition: PartitionTuple, o: {
    content: FileContent; deleteSchema: Schema; rows: readonly unknown[]; nameSuffix: string;
    /** Metrics properties (default: the table's). */
    metricsProperties?: Readonly<Record<string, string>>;
  },
): Promise<DataFile> {
  const props = target.properties;
  const codec = parseCodec(stringProperty(props, DELETE_PARQUET_COMPRESSION));
  const batch = recordsToArrow(o.deleteSchema, o.rows);
  const pq = await writeParquetFile(batch.table, {
    codec,
    rowGroupSizeBytes: intProperty(props, DELETE_PARQUET_ROW_GROUP_SIZE_BYTES),
    arrowBytesPerRow: batch.arrowBytes / batch.numRows,
  });
  const fields = partitionType(target.spec, target.schema);
  const dir = fields.length > 0 ? `${target.location}/data/${partitionPath(fields, partition)}` : `${target.location}/data`;
  const path = `${dir}/00000-0-${randomUUID()}-${o.nameSuffix}.parquet`;
  await target.io.writeNew(path, pq.bytes);
  const metrics = buildFileMetrics(o.deleteSchema, batch.metrics, pq.columnSizes, o.metricsProperties ?? props);
  return {
    content: o.content,
    filePath: path,
    fileFormat: 'parquet',
    specId: target.spec.specId,
    partition,
    recordCount: BigInt(o.rows.length),
    fileSizeInBytes: BigInt(pq.bytes.length),
    columnSizes: metrics.columnSizes,
    valueCounts: metrics.valueCounts,
    nullValueCounts: metrics.nullValueCounts,
    nanValueCounts: metrics.nanValueCounts,
    lowerBounds: metrics.lowerBounds,
    upperBounds: metrics.upperBounds,
    splitOffsets: pq.splitOffsets,
    sortOrderId: null,
  };
}
