// Iceberg v2 equality-delete files (spec "Equality Delete Files"): rows holding the values of
// the equality columns (`equality_ids`), with the table's field ids in the Parquet schema, so a
// reader matches them against data files by id. A data row is deleted when its values of those
// columns equal one delete row's, in data files of the same partition (or of every partition for
// an unpartitioned spec) whose data sequence number is smaller than the delete file's. Flink's
// upsert mode writes these; floe writes them for tests and a Flink-compatible upsert mode.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { buildFileMetrics } from '../format/file-metrics.ts';
import { parseCodec, writeParquetFile } from '../format/parquet-writer.ts';
import type { FileIO } from '../io/file-io.ts';
import { FileContent, type DataFile, type PartitionTuple } from '../spec/data-file.ts';
import { partitionType, type PartitionSpec } from '../spec/partition-spec.ts';
import { Schema } from '../spec/schema.ts';
import { isPrimitive, type NestedField } from '../spec/types.ts';
import { DEFAULT_ROW_GROUP_SIZE_BYTES, partitionPath } from './data-file-writer.ts';
import { recordsToArrow } from './record-converter.ts';

export interface EqualityDeleteTarget {
  readonly io: FileIO;
  /** Table location; the file goes under `<location>/data/<partition path>/`. */
  readonly location: string;
  /** The table schema the equality ids and the partition spec refer to. */
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly properties: Readonly<Record<string, string>>;
}

/** The table schema cut down to the fields of `ids` (and the structs holding them), in table order. */
export function equalityDeleteSchema(schema: Schema, ids: readonly number[]): Schema {
  if (ids.length === 0) throw new ValidationError('an equality-delete file needs at least one equality field id');
  const wanted = new Set<number>();
  for (const id of ids) {
    const f = schema.findField(id);
    if (!f) throw new ValidationError(`equality field id ${id} is not in schema ${schema.schemaId}`);
    if (!isPrimitive(f.type)) throw new ValidationError(`equality field '${schema.findColumnName(id)}' is not a primitive column`);
    const ancestors = schema.ancestorIds(id);
    for (const a of ancestors) {
      const t = schema.findField(a)!.type;
      if (t.kind !== 'struct') throw new ValidationError(`equality field '${schema.findColumnName(id)}' is inside a list or map`);
    }
    wanted.add(id);
    for (const a of ancestors) wanted.add(a);
  }
  const prune = (fields: readonly NestedField[]): NestedField[] => fields.filter((f) => wanted.has(f.id)).map((f) =>
    f.type.kind === 'struct' ? { ...f, type: { kind: 'struct', fields: prune(f.type.fields) } } : f);
  return new Schema(schema.schemaId, prune(schema.fields));
}

/** The part of `record` (in the table's shape) the delete schema holds. */
function projectRecord(fields: readonly NestedField[], record: unknown, index: number): Record<string, unknown> {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new ValidationError(`equality delete ${index}: not an object (one row of key values)`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = (record as Record<string, unknown>)[f.name];
    out[f.name] = f.type.kind === 'struct' && v !== null && v !== undefined ? projectRecord(f.type.fields, v, index) : v;
  }
  return out;
}

/**
 * Writes one equality-delete file for data files of one partition (`partition`, of `spec`):
 * each of `rows` (in the form records are appended in, the table's shape; other columns are
 * ignored) deletes the data rows whose `equalityIds` columns hold the same values. Returns its
 * manifest description (content 2, `equality_ids`).
 */
export async function writeEqualityDeletes(
  target: EqualityDeleteTarget, partition: PartitionTuple, equalityIds: readonly number[], rows: readonly unknown[],
): Promise<DataFile> {
  const fields = partitionType(target.spec, target.schema);
  if (partition.length !== fields.length) {
    throw new ValidationError(`equality deletes for spec ${target.spec.specId}: partition tuple has ${partition.length} values, the spec ${fields.length} fields`);
  }
  if (rows.length === 0) throw new ValidationError('an equality-delete file needs at least one row');
  const deleteSchema = equalityDeleteSchema(target.schema, equalityIds);
  const projected = rows.map((r, i) => projectRecord(deleteSchema.fields, r, i));
  const props = target.properties;
  const codec = parseCodec(props['write.delete.parquet.compression-codec'] ?? props['write.parquet.compression-codec'] ?? 'zstd');
  const batch = recordsToArrow(deleteSchema, projected);
  const pq = await writeParquetFile(batch.table, {
    codec,
    rowGroupSizeBytes: Number(props['write.delete.parquet.row-group-size-bytes'] ?? props['write.parquet.row-group-size-bytes'] ?? DEFAULT_ROW_GROUP_SIZE_BYTES),
    arrowBytesPerRow: batch.arrowBytes / batch.numRows,
  });
  const dir = fields.length > 0 ? `${target.location}/data/${partitionPath(fields, partition)}` : `${target.location}/data`;
  const path = `${dir}/00000-0-${randomUUID()}-eq-deletes.parquet`;
  await target.io.writeNew(path, pq.bytes);
  const metrics = buildFileMetrics(deleteSchema, batch.metrics, pq.columnSizes, props);
  return {
    content: FileContent.EqualityDeletes,
    filePath: path,
    fileFormat: 'parquet',
    specId: target.spec.specId,
    partition,
    recordCount: BigInt(rows.length),
    fileSizeInBytes: BigInt(pq.bytes.length),
    columnSizes: metrics.columnSizes,
    valueCounts: metrics.valueCounts,
    nullValueCounts: metrics.nullValueCounts,
    nanValueCounts: metrics.nanValueCounts,
    lowerBounds: metrics.lowerBounds,
    upperBounds: metrics.upperBounds,
    splitOffsets: pq.splitOffsets,
    equalityIds: [...equalityIds],
    sortOrderId: null,
  };
}
