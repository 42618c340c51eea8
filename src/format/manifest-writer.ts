// Writes one v2 manifest (data or deletes, one partition spec) and returns the manifest-list
// entry describing it: counts, min sequence number, partition summaries and exact length.
import { ValidationError } from '../errors.ts';
import {
  EntryStatus,
  FileContent,
  ManifestContent,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../spec/data-file.ts';
import type {
  DataFile,
  FieldSummary,
  ManifestEntry,
  ManifestFile,
  PartitionTuple,
} from '../spec/data-file.ts';
import { compareValues, encodeSingleValue } from '../spec/single-value.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import { writeAvroContainer } from './avro/avro-container.ts';
import type { AvroContainerCodec } from './avro/avro-container.ts';
import { avroCompatibleName, manifestEntrySchemaV2, toAvroPartitionValue } from './manifest-schemas.ts';
import type { ManifestPartitionField } from './manifest-schemas.ts';

export interface WriteManifestOptions {
  /** Absolute URI the manifest will be stored at; recorded as `manifest_path`. */
  readonly path: string;
  readonly entries: readonly ManifestEntry[];
  readonly content: ManifestContent;
  readonly specId: number;
  readonly partitionFields: readonly ManifestPartitionField[];
  /** Table schema JSON (with `schema-id`), stored verbatim as the `schema` metadata. */
  readonly schemaJson: string;
  readonly schemaId: number;
  /** JSON array of the spec's partition fields, stored verbatim as `partition-spec`. */
  readonly partitionSpecJson: string;
  readonly addedSnapshotId: bigint;
  /** undefined → UNASSIGNED_SEQUENCE_NUMBER; the manifest list writer assigns it per
   * commit attempt, so one manifest serves every retry. */
  readonly sequenceNumber?: bigint;
  /** Defaults to deflate, Java's default (`write.avro.compression-codec` = gzip). */
  readonly codec?: AvroContainerCodec;
}

export interface WrittenManifest {
  readonly bytes: Uint8Array;
  readonly manifest: ManifestFile;
}

export function writeManifest(options: WriteManifestOptions): WrittenManifest {
  const { entries, partitionFields } = options;
  // pyiceberg refuses to write empty manifests and Java never does; an empty one only
  // adds a file every planner must open for nothing.
  if (entries.length === 0) throw new ValidationError(`manifest ${options.path} would be empty`);
  entries.forEach((entry, index) => { validateEntry(options, entry, index); });

  const avroFieldNames = partitionFields.map((field) => avroCompatibleName(field.name));
  const records = entries.map((entry) => entryRecord(entry, partitionFields, avroFieldNames));
  const bytes = writeAvroContainer({
    schema: manifestEntrySchemaV2(partitionFields),
    metadata: {
      schema: options.schemaJson,
      'schema-id': String(options.schemaId),
      'partition-spec': options.partitionSpecJson,
      'partition-spec-id': String(options.specId),
      'format-version': '2',
      content: options.content === ManifestContent.Deletes ? 'deletes' : 'data',
    },
    records,
    codec: options.codec ?? 'deflate',
  });

  const sequenceNumber = options.sequenceNumber ?? UNASSIGNED_SEQUENCE_NUMBER;
  let addedFilesCount = 0;
  let existingFilesCount = 0;
  let deletedFilesCount = 0;
  let addedRowsCount = 0n;
  let existingRowsCount = 0n;
  let deletedRowsCount = 0n;
  let minExplicitSequenceNumber: bigint | null = null;
  let hasInheritingLiveEntry = false;
  for (const entry of entries) {
    const rows = entry.dataFile.recordCount;
    if (entry.status === EntryStatus.Added) {
      addedFilesCount++;
      addedRowsCount += rows;
    } else if (entry.status === EntryStatus.Existing) {
      existingFilesCount++;
      existingRowsCount += rows;
    } else {
      deletedFilesCount++;
      deletedRowsCount += rows;
      continue;
    }
    if (entry.sequenceNumber === null) hasInheritingLiveEntry = true;
    else if (minExplicitSequenceNumber === null || entry.sequenceNumber < minExplicitSequenceNumber) {
      minExplicitSequenceNumber = entry.sequenceNumber;
    }
  }
  // Inheriting entries take the manifest's own sequence number. While that is unassigned,
  // the explicit ones (from earlier, hence smaller, commits) decide, or the manifest list
  // writer fills it in (as Java's ManifestListWriter does).
  let minLiveSequenceNumber = minExplicitSequenceNumber;
  if (
    hasInheritingLiveEntry && sequenceNumber !== UNASSIGNED_SEQUENCE_NUMBER &&
    (minLiveSequenceNumber === null || sequenceNumber < minLiveSequenceNumber)
  ) {
    minLiveSequenceNumber = sequenceNumber;
  }
  const minSequenceNumber = minLiveSequenceNumber ?? sequenceNumber;

  const manifest: ManifestFile = {
    manifestPath: options.path,
    manifestLength: BigInt(bytes.length),
    partitionSpecId: options.specId,
    content: options.content,
    sequenceNumber,
    minSequenceNumber,
    addedSnapshotId: options.addedSnapshotId,
    addedFilesCount,
    existingFilesCount,
    deletedFilesCount,
    addedRowsCount,
    existingRowsCount,
    deletedRowsCount,
    partitions: summarizePartitions(partitionFields, entries.map((entry) => entry.dataFile.partition)),
    keyMetadata: null,
  };
  return { bytes, manifest };
}

function validateEntry(options: WriteManifestOptions, entry: ManifestEntry, index: number): void {
  const file = entry.dataFile;
  const where = `manifest entry ${index} (${file.filePath})`;
  if (file.specId !== options.specId) {
    throw new ValidationError(`${where} was written with spec ${file.specId}, manifest is for spec ${options.specId}`);
  }
  if (file.partition.length !== options.partitionFields.length) {
    throw new ValidationError(`${where} has ${file.partition.length} partition values, spec has ${options.partitionFields.length} fields`);
  }
  // One manifest holds only data or only delete files (spec "Manifests").
  const isDataFile = file.content === FileContent.Data;
  if (isDataFile !== (options.content === ManifestContent.Data)) {
    throw new ValidationError(`${where} has file content ${file.content}, not allowed in a ${options.content === ManifestContent.Data ? 'data' : 'delete'} manifest`);
  }
  // Only ADDED entries may inherit sequence numbers; DuckDB throws on a null one elsewhere
  // and Java would assign the wrong (newer) sequence number, resurrecting deleted rows.
  if (entry.status !== EntryStatus.Added && (entry.sequenceNumber === null || entry.fileSequenceNumber === null)) {
    throw new ValidationError(`${where} has status ${entry.status} and must carry explicit sequence numbers`);
  }
}

/** Metrics maps go to the codec as Maps (it writes them as k/v record arrays); absent → null. */
function metricsMap<V>(map: ReadonlyMap<number, V> | undefined): ReadonlyMap<number, V> | null {
  return map ?? null;
}

/** Java and pyiceberg write the FileFormat enum name; readers compare case-insensitively. */
function fileFormatName(file: DataFile): string {
  return file.fileFormat.toUpperCase();
}

function entryRecord(
  entry: ManifestEntry,
  partitionFields: readonly ManifestPartitionField[],
  avroFieldNames: readonly string[],
): Record<string, unknown> {
  const file = entry.dataFile;
  return {
    status: entry.status,
    snapshot_id: entry.snapshotId,
    sequence_number: entry.sequenceNumber,
    file_sequence_number: entry.fileSequenceNumber,
    data_file: {
      content: file.content,
      file_path: file.filePath,
      file_format: fileFormatName(file),
      partition: partitionRecord(file.partition, partitionFields, avroFieldNames),
      record_count: file.recordCount,
      file_size_in_bytes: file.fileSizeInBytes,
      column_sizes: metricsMap(file.columnSizes),
      value_counts: metricsMap(file.valueCounts),
      null_value_counts: metricsMap(file.nullValueCounts),
      nan_value_counts: metricsMap(file.nanValueCounts),
      lower_bounds: metricsMap(file.lowerBounds),
      upper_bounds: metricsMap(file.upperBounds),
      key_metadata: file.keyMetadata ?? null,
      split_offsets: file.splitOffsets ?? null,
      equality_ids: file.equalityIds ?? null,
      sort_order_id: file.sortOrderId ?? null,
      referenced_data_file: file.referencedDataFile ?? null,
    },
  };
}

function partitionRecord(
  tuple: PartitionTuple,
  partitionFields: readonly ManifestPartitionField[],
  avroFieldNames: readonly string[],
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i < partitionFields.length; i++) {
    const field = partitionFields[i] as ManifestPartitionField;
    record[avroFieldNames[i] as string] = toAvroPartitionValue(field.type, tuple[i] ?? null);
  }
  return record;
}

/**
 * One summary per partition field, used for manifest pruning by Java, pyiceberg and DuckDB:
 * a wrong bound silently drops files from scans. Bounds cover non-null, non-NaN values only
 * and use the single-value encoding of the field's result type. Summaries are always written:
 * Trino's `$manifests` table fails (NullPointerException) on a manifest without them.
 *
 * A uuid partition field's bounds must be the same under Java's java.util.UUID ordering (signed
 * 64-bit halves) and the spec's unsigned byte order: Java/Spark would prune a matching manifest
 * with spec-ordered bounds and pyiceberg/DuckDB with Java-ordered ones (apache/iceberg#14216).
 * A null bound is no way out either — Java and pyiceberg read it as "all values null" and prune
 * every equality or range predicate. So manifests are split first (splitForUuidBounds), and
 * entries whose orders disagree are refused here as a caller bug.
 */
export function summarizePartitions(
  partitionFields: readonly ManifestPartitionField[],
  tuples: readonly PartitionTuple[],
): FieldSummary[] {
  const summaries: FieldSummary[] = [];
  for (let index = 0; index < partitionFields.length; index++) {
    const field = partitionFields[index] as ManifestPartitionField;
    const isFloating = field.type.kind === 'float' || field.type.kind === 'double';
    const isUuid = field.type.kind === 'uuid';
    let containsNull = false;
    let containsNan = false;
    let lower: PrimitiveValue | null = null;
    let upper: PrimitiveValue | null = null;
    for (const tuple of tuples) {
      const value = tuple[index] ?? null;
      if (value === null) {
        containsNull = true;
        continue;
      }
      if (isFloating && typeof value === 'number' && Number.isNaN(value)) {
        containsNan = true;
        continue;
      }
      if (lower === null || compareValues(field.type, value, lower) < 0) lower = value;
      if (upper === null || compareValues(field.type, value, upper) > 0) upper = value;
    }
    if (isUuid && !uuidOrdersAgree(tuples.map((tuple) => tuple[index] ?? null))) {
      throw new ValidationError(`uuid partition field '${field.name}' has values whose Java and spec orders disagree; split the manifest with splitForUuidBounds`);
    }
    summaries.push({
      containsNull,
      // Java and pyiceberg always write a boolean here (false for non-floating types).
      containsNan,
      lowerBound: lower === null ? null : encodeSingleValue(field.type, lower),
      upperBound: upper === null ? null : encodeSingleValue(field.type, upper),
    });
  }
  return summaries;
}

/**
 * Splits manifest entries into groups whose uuid partition values all share the sign bits of
 * both 64-bit halves: within such a group java.util.UUID's signed order and the spec's unsigned
 * byte order agree, so every group gets exact bounds both kinds of reader prune correctly with.
 * Without uuid partition fields (or without disagreement) this is one group, in input order.
 */
export function splitForUuidBounds(
  partitionFields: readonly ManifestPartitionField[], entries: readonly ManifestEntry[],
): ManifestEntry[][] {
  const uuidIndexes = partitionFields.flatMap((f, i) => (f.type.kind === 'uuid' ? [i] : []));
  if (uuidIndexes.every((i) => uuidOrdersAgree(entries.map((e) => e.dataFile.partition[i] ?? null)))) return [[...entries]];
  const groups = new Map<string, ManifestEntry[]>();
  for (const entry of entries) {
    const key = uuidIndexes.map((i) => {
      const value = entry.dataFile.partition[i];
      return value instanceof Uint8Array ? `${value[0]! >> 7}${value[8]! >> 7}` : '-';
    }).join('|');
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}

/** Whether the smallest and largest uuid are the same under Java's order and the spec's. */
function uuidOrdersAgree(values: readonly (PrimitiveValue | null)[]): boolean {
  let lower: Uint8Array | null = null;
  let upper: Uint8Array | null = null;
  let javaLower: Uint8Array | null = null;
  let javaUpper: Uint8Array | null = null;
  for (const value of values) {
    if (!(value instanceof Uint8Array)) continue;
    if (lower === null || Buffer.compare(value, lower) < 0) lower = value;
    if (upper === null || Buffer.compare(value, upper) > 0) upper = value;
    if (javaLower === null || compareUuidsLikeJava(value, javaLower) < 0) javaLower = value;
    if (javaUpper === null || compareUuidsLikeJava(value, javaUpper) > 0) javaUpper = value;
  }
  return lower === javaLower && upper === javaUpper;
}

/** java.util.UUID.compareTo: most significant 8 bytes as a signed long, then the rest. */
function compareUuidsLikeJava(a: Uint8Array, b: Uint8Array): number {
  const viewA = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const viewB = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const offset of [0, 8]) {
    const x = viewA.getBigInt64(offset, false);
    const y = viewB.getBigInt64(offset, false);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
