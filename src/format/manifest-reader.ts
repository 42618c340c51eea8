// Reads manifest lists and manifests — floe's own and those of Java, pyiceberg, iceberg-rust
// or DuckDB — into the plain model of spec/data-file.ts, applying the spec's inheritance rules.
// Columns are found by field id in the file's own writer schema (as Java and pyiceberg do), so
// extra fields (v1 `block_size_in_bytes`, v3 row-lineage fields, sanitized names) are ignored.
import { DecodingError } from '../errors.ts';
import {
  EntryStatus,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../spec/data-file.ts';
import type {
  DataFile,
  FieldSummary,
  FileContent,
  FileFormat,
  ManifestContent,
  ManifestEntry,
  ManifestFile,
} from '../spec/data-file.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import { collectNamedTypes, recordFields, resolveSchemaNode } from './avro/avro-binary.ts';
import type { AvroSchemaJson, AvroSchemaObject } from './avro/avro-binary.ts';
import { readAvroContainer } from './avro/avro-container.ts';
import { partitionFieldFromAvro } from './manifest-schemas.ts';
import type { AvroPartitionFieldReader } from './manifest-schemas.ts';

type AvroRecord = Record<string, unknown>;
type NamedTypes = ReadonlyMap<string, AvroSchemaObject>;

/** Field-id → Avro field name for one record of a writer schema. */
class FieldsById {
  private readonly names = new Map<number, string>();
  private readonly types = new Map<number, AvroSchemaJson>();

  constructor(
    readonly record: AvroSchemaObject,
    private readonly what: string,
  ) {
    for (const field of recordFields(record)) {
      const id = field['field-id'];
      if (typeof id === 'number') {
        this.names.set(id, field.name);
        this.types.set(id, field.type);
      }
    }
  }

  /** Name of an optional column, or undefined when the writer did not include it. */
  optional(id: number): string | undefined {
    return this.names.get(id);
  }

  required(id: number, spec: string): string {
    const name = this.names.get(id);
    if (name === undefined) throw new DecodingError(`${this.what} has no field ${spec} (field-id ${id})`);
    return name;
  }

  type(id: number): AvroSchemaJson | undefined {
    return this.types.get(id);
  }
}

/** The record inside a field type: unwraps `["null", T]`, arrays and name references. */
function innerRecord(node: AvroSchemaJson, named: NamedTypes, what: string): AvroSchemaObject {
  let current = resolveSchemaNode(node, named);
  for (let depth = 0; depth < 8; depth++) {
    if (Array.isArray(current)) {
      const branch = (current as readonly AvroSchemaJson[]).find((b) => b !== 'null');
      if (branch === undefined) break;
      current = resolveSchemaNode(branch, named);
      continue;
    }
    if (typeof current === 'string') break;
    const object = current as AvroSchemaObject;
    if (object.type === 'record') return object;
    if (object.type === 'array') {
      current = resolveSchemaNode(object.items as AvroSchemaJson, named);
      continue;
    }
    break;
  }
  throw new DecodingError(`${what} is not a record type`);
}

function topRecord(schema: AvroSchemaJson, named: NamedTypes, what: string): AvroSchemaObject {
  const resolved = resolveSchemaNode(schema, named);
  if (typeof resolved === 'string' || Array.isArray(resolved) || (resolved as AvroSchemaObject).type !== 'record') {
    throw new DecodingError(`${what} schema is not a record`);
  }
  return resolved as AvroSchemaObject;
}

/** int columns some writers declare as long (pyiceberg's equality_ids). */
function toInt(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new DecodingError(`${what}: expected an integer, got ${value === null ? 'null' : typeof value}`);
}

function toLong(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  throw new DecodingError(`${what}: expected a long, got ${value === null ? 'null' : typeof value}`);
}

function get(record: AvroRecord, name: string | undefined): unknown {
  return name === undefined ? null : (record[name] ?? null);
}

export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  const container = readAvroContainer(bytes);
  const named = collectNamedTypes(container.schema);
  const top = new FieldsById(topRecord(container.schema, named, 'manifest list'), 'manifest list');
  const path = top.required(500, 'manifest_path');
  const length = top.required(501, 'manifest_length');
  const specId = top.required(502, 'partition_spec_id');
  const addedSnapshotId = top.required(503, 'added_snapshot_id');
  // v1 lists lack these; the spec's v1 defaults are content 0 and sequence numbers 0.
  const content = top.optional(517);
  const sequenceNumber = top.optional(515);
  const minSequenceNumber = top.optional(516);
  const addedFiles = top.optional(504);
  const existingFiles = top.optional(505);
  const deletedFiles = top.optional(506);
  const addedRows = top.optional(512);
  const existingRows = top.optional(513);
  const deletedRows = top.optional(514);
  const partitions = top.optional(507);
  const keyMetadata = top.optional(519);
  const partitionsType = top.type(507);
  const summaryFields = partitionsType === undefined
    ? undefined
    : new FieldsById(innerRecord(partitionsType, named, 'manifest list partitions'), 'field_summary');
  const containsNull = summaryFields?.required(509, 'contains_null');
  const containsNan = summaryFields?.optional(518);
  const lowerBound = summaryFields?.optional(510);
  const upperBound = summaryFields?.optional(511);

  return container.records.map((value, index) => {
    const record = value as AvroRecord;
    const what = `manifest list record ${index}`;
    const summaries = get(record, partitions) as AvroRecord[] | null;
    return {
      manifestPath: get(record, path) as string,
      manifestLength: toLong(get(record, length), `${what} manifest_length`),
      partitionSpecId: toInt(get(record, specId), `${what} partition_spec_id`),
      content: (content === undefined ? 0 : toInt(get(record, content), `${what} content`)) as ManifestContent,
      sequenceNumber: sequenceNumber === undefined ? 0n : toLong(get(record, sequenceNumber), `${what} sequence_number`),
      minSequenceNumber:
        minSequenceNumber === undefined ? 0n : toLong(get(record, minSequenceNumber), `${what} min_sequence_number`),
      addedSnapshotId: toLong(get(record, addedSnapshotId), `${what} added_snapshot_id`),
      addedFilesCount: toInt(get(record, addedFiles) ?? 0, `${what} added_files_count`),
      existingFilesCount: toInt(get(record, existingFiles) ?? 0, `${what} existing_files_count`),
      deletedFilesCount: toInt(get(record, deletedFiles) ?? 0, `${what} deleted_files_count`),
      addedRowsCount: toLong(get(record, addedRows) ?? 0n, `${what} added_rows_count`),
      existingRowsCount: toLong(get(record, existingRows) ?? 0n, `${what} existing_rows_count`),
      deletedRowsCount: toLong(get(record, deletedRows) ?? 0n, `${what} deleted_rows_count`),
      partitions:
        summaries === null
          ? null
          : summaries.map((summary): FieldSummary => ({
              containsNull: get(summary, containsNull) === true,
              containsNan: get(summary, containsNan) as boolean | null,
              lowerBound: get(summary, lowerBound) as Uint8Array | null,
              upperBound: get(summary, upperBound) as Uint8Array | null,
            })),
      keyMetadata: get(record, keyMetadata) as Uint8Array | null,
    };
  });
}

export interface ReadManifestResult {
  readonly entries: ManifestEntry[];
  /** The manifest's key-value metadata (`schema`, `partition-spec`, `content`, …). */
  readonly metadata: Record<string, string>;
}

const FILE_FORMATS: ReadonlySet<string> = new Set<FileFormat>(['parquet', 'avro', 'orc', 'puffin']);

/**
 * Reads the entries of one manifest (deleted entries included: callers decide). Inheritance
 * (spec "Sequence Number Inheritance"): a null snapshot_id takes the list's
 * `added_snapshot_id`; null sequence numbers take the manifest's `sequence_number` for ADDED
 * entries only (and for every entry of a v1 manifest, whose sequence number is 0). While the
 * manifest's own sequence number is still unassigned they stay null.
 */
export function readManifest(bytes: Uint8Array, manifestFile: ManifestFile): ReadManifestResult {
  const container = readAvroContainer(bytes);
  const named = collectNamedTypes(container.schema);
  const entryFields = new FieldsById(topRecord(container.schema, named, 'manifest'), 'manifest_entry');
  const status = entryFields.required(0, 'status');
  const snapshotId = entryFields.optional(1);
  const sequenceNumber = entryFields.optional(3);
  const fileSequenceNumber = entryFields.optional(4);
  const dataFile = entryFields.required(2, 'data_file');
  const fileFields = new FieldsById(
    innerRecord(entryFields.type(2) as AvroSchemaJson, named, 'data_file'),
    'data_file',
  );
  const columns = {
    content: fileFields.optional(134),
    filePath: fileFields.required(100, 'file_path'),
    fileFormat: fileFields.required(101, 'file_format'),
    partition: fileFields.required(102, 'partition'),
    recordCount: fileFields.required(103, 'record_count'),
    fileSizeInBytes: fileFields.required(104, 'file_size_in_bytes'),
    columnSizes: fileFields.optional(108),
    valueCounts: fileFields.optional(109),
    nullValueCounts: fileFields.optional(110),
    nanValueCounts: fileFields.optional(137),
    lowerBounds: fileFields.optional(125),
    upperBounds: fileFields.optional(128),
    keyMetadata: fileFields.optional(131),
    splitOffsets: fileFields.optional(132),
    equalityIds: fileFields.optional(135),
    sortOrderId: fileFields.optional(140),
    referencedDataFile: fileFields.optional(143),
  };
  const partitionRecord = innerRecord(fileFields.type(102) as AvroSchemaJson, named, 'partition');
  const partitionReaders: AvroPartitionFieldReader[] = recordFields(partitionRecord).map((field) =>
    partitionFieldFromAvro(field, named),
  );
  const partitionNames = recordFields(partitionRecord).map((field) => field.name);

  const inheritedSequenceNumber =
    manifestFile.sequenceNumber === UNASSIGNED_SEQUENCE_NUMBER ? null : manifestFile.sequenceNumber;
  const isV1Manifest = manifestFile.sequenceNumber === 0n;

  const entries = container.records.map((value, index): ManifestEntry => {
    const record = value as AvroRecord;
    const file = record[dataFile] as AvroRecord;
    const what = `manifest ${manifestFile.manifestPath} entry ${index}`;
    const entryStatus = toInt(record[status], `${what} status`) as EntryStatus;
    const inherits = entryStatus === EntryStatus.Added || isV1Manifest;
    const explicitSequence = get(record, sequenceNumber) as bigint | null;
    const explicitFileSequence = get(record, fileSequenceNumber) as bigint | null;

    const partitionValues = get(file, columns.partition) as AvroRecord;
    const partition: (PrimitiveValue | null)[] = partitionReaders.map((reader, i) =>
      reader.convert(partitionValues[partitionNames[i] as string] ?? null),
    );

    const format = (get(file, columns.fileFormat) as string).toLowerCase();
    if (!FILE_FORMATS.has(format)) throw new DecodingError(`${what} has unknown file_format ${format}`);

    const data: { -readonly [K in keyof DataFile]: DataFile[K] } = {
      content: (columns.content === undefined ? 0 : toInt(get(file, columns.content), `${what} content`)) as FileContent,
      filePath: get(file, columns.filePath) as string,
      fileFormat: format as FileFormat,
      specId: manifestFile.partitionSpecId,
      partition,
      recordCount: toLong(get(file, columns.recordCount), `${what} record_count`),
      fileSizeInBytes: toLong(get(file, columns.fileSizeInBytes), `${what} file_size_in_bytes`),
    };
    const columnSizes = readIntKeyedMap(get(file, columns.columnSizes), isBigint, (v) => toLong(v, `${what} column_sizes`));
    if (columnSizes) data.columnSizes = columnSizes;
    const valueCounts = readIntKeyedMap(get(file, columns.valueCounts), isBigint, (v) => toLong(v, `${what} value_counts`));
    if (valueCounts) data.valueCounts = valueCounts;
    const nullValueCounts = readIntKeyedMap(get(file, columns.nullValueCounts), isBigint, (v) => toLong(v, `${what} null_value_counts`));
    if (nullValueCounts) data.nullValueCounts = nullValueCounts;
    const nanValueCounts = readIntKeyedMap(get(file, columns.nanValueCounts), isBigint, (v) => toLong(v, `${what} nan_value_counts`));
    if (nanValueCounts) data.nanValueCounts = nanValueCounts;
    const lowerBounds = readIntKeyedMap(get(file, columns.lowerBounds), isBytes, (v) => v as Uint8Array);
    if (lowerBounds) data.lowerBounds = lowerBounds;
    const upperBounds = readIntKeyedMap(get(file, columns.upperBounds), isBytes, (v) => v as Uint8Array);
    if (upperBounds) data.upperBounds = upperBounds;
    const keyMetadata = get(file, columns.keyMetadata);
    if (keyMetadata !== null) data.keyMetadata = keyMetadata as Uint8Array;
    const splitOffsets = get(file, columns.splitOffsets) as unknown[] | null;
    if (splitOffsets !== null) data.splitOffsets = splitOffsets.map((v) => toLong(v, `${what} split_offsets`));
    const equalityIds = get(file, columns.equalityIds) as unknown[] | null;
    if (equalityIds !== null) data.equalityIds = equalityIds.map((v) => toInt(v, `${what} equality_ids`));
    const sortOrderId = get(file, columns.sortOrderId);
    if (sortOrderId !== null) data.sortOrderId = toInt(sortOrderId, `${what} sort_order_id`);
    const referencedDataFile = get(file, columns.referencedDataFile);
    if (referencedDataFile !== null) data.referencedDataFile = referencedDataFile as string;

    return {
      status: entryStatus,
      snapshotId: (get(record, snapshotId) as bigint | null) ?? manifestFile.addedSnapshotId,
      sequenceNumber: explicitSequence ?? (inherits ? inheritedSequenceNumber : null),
      fileSequenceNumber: explicitFileSequence ?? (inherits ? inheritedSequenceNumber : null),
      dataFile: data,
    };
  });
  return { entries, metadata: container.metadata };
}

/** Iceberg map<int, V>: avro-binary decodes the `logicalType: map` k/v arrays into a Map;
 * a native Avro map (string keys, from lenient writers) is converted. The Map is reused when
 * keys and values already have the in-memory types. */
function readIntKeyedMap<V>(
  value: unknown,
  isExpected: (v: unknown) => v is V,
  convert: (v: unknown) => V,
): Map<number, V> | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Map)) throw new DecodingError(`expected a map of field id to metric, got ${typeof value}`);
  const map = value as Map<unknown, unknown>;
  let alreadyTyped = true;
  for (const [key, item] of map) {
    if (typeof key !== 'number' || !isExpected(item)) {
      alreadyTyped = false;
      break;
    }
  }
  if (alreadyTyped) return map as Map<number, V>;
  const out = new Map<number, V>();
  for (const [key, item] of map) out.set(toInt(typeof key === 'string' ? Number(key) : key, 'map key'), convert(item));
  return out;
}

const isBigint = (v: unknown): v is bigint => typeof v === 'bigint';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
