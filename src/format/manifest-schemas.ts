// The exact Avro schemas of v2 manifest lists (`manifest_file`) and manifests
// (`manifest_entry`), and the Iceberg ↔ Avro mapping of partition values (spec Appendix A).
// Field ids, element ids, record names (`r2`, `r102`, `r508`, `k117_v118`) and the null-first
// optional unions follow Java's V2Metadata: pyiceberg and DuckDB ≥1.4 fail without field ids,
// DuckDB 1.2 resolves columns by these exact names.
import { DecodingError, ValidationError, ValueTypeError } from '../errors.ts';
import {
  bigintToFixedBytes,
  twosComplementBytesToBigint,
} from '../spec/single-value.ts';
import { decimalRequiredBytes } from '../spec/types.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';
import { resolveSchemaNode } from './avro/avro-binary.ts';
import type { AvroSchemaJson, AvroSchemaObject } from './avro/avro-binary.ts';

/** One field of the partition spec a manifest is written for, with its result type. */
export interface ManifestPartitionField {
  readonly name: string;
  /** Partition field id (≥ 1000); becomes the Avro `field-id`. */
  readonly fieldId: number;
  /** The transform's result type (e.g. `day` → date, `bucket[N]` → int). */
  readonly type: PrimitiveType;
}

const optional = (name: string, fieldId: number, type: AvroSchemaJson): AvroSchemaObject => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
});

const required = (name: string, fieldId: number, type: AvroSchemaJson): AvroSchemaObject => ({
  name,
  type,
  'field-id': fieldId,
});

/** Iceberg map<int, T> as Avro: an array of `k<K>_v<V>` key/value records tagged
 * `logicalType: map` (Avro maps only allow string keys). */
const intKeyedMap = (keyId: number, valueId: number, valueType: AvroSchemaJson): AvroSchemaObject => ({
  type: 'array',
  logicalType: 'map',
  items: {
    type: 'record',
    name: `k${keyId}_v${valueId}`,
    fields: [required('key', keyId, 'int'), required('value', valueId, valueType)],
  },
});

/** Schema of the manifest list (`manifest_file` records), Java V2 field order. */
export function manifestListSchemaV2(): AvroSchemaObject {
  return {
    type: 'record',
    name: 'manifest_file',
    fields: [
      required('manifest_path', 500, 'string'),
      required('manifest_length', 501, 'long'),
      required('partition_spec_id', 502, 'int'),
      required('content', 517, 'int'),
      required('sequence_number', 515, 'long'),
      required('min_sequence_number', 516, 'long'),
      required('added_snapshot_id', 503, 'long'),
      required('added_files_count', 504, 'int'),
      required('existing_files_count', 505, 'int'),
      required('deleted_files_count', 506, 'int'),
      required('added_rows_count', 512, 'long'),
      required('existing_rows_count', 513, 'long'),
      required('deleted_rows_count', 514, 'long'),
      optional('partitions', 507, {
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            required('contains_null', 509, 'boolean'),
            optional('contains_nan', 518, 'boolean'),
            optional('lower_bound', 510, 'bytes'),
            optional('upper_bound', 511, 'bytes'),
          ],
        },
      }),
      optional('key_metadata', 519, 'bytes'),
    ],
  };
}

/** Schema of a v2 manifest (`manifest_entry` records) for one partition spec. */
export function manifestEntrySchemaV2(partitionFields: readonly ManifestPartitionField[]): AvroSchemaObject {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      required('status', 0, 'int'),
      optional('snapshot_id', 1, 'long'),
      optional('sequence_number', 3, 'long'),
      optional('file_sequence_number', 4, 'long'),
      required('data_file', 2, {
        type: 'record',
        name: 'r2',
        fields: [
          required('content', 134, 'int'),
          required('file_path', 100, 'string'),
          required('file_format', 101, 'string'),
          required('partition', 102, partitionRecordSchema(partitionFields)),
          required('record_count', 103, 'long'),
          required('file_size_in_bytes', 104, 'long'),
          optional('column_sizes', 108, intKeyedMap(117, 118, 'long')),
          optional('value_counts', 109, intKeyedMap(119, 120, 'long')),
          optional('null_value_counts', 110, intKeyedMap(121, 122, 'long')),
          optional('nan_value_counts', 137, intKeyedMap(138, 139, 'long')),
          optional('lower_bounds', 125, intKeyedMap(126, 127, 'bytes')),
          optional('upper_bounds', 128, intKeyedMap(129, 130, 'bytes')),
          optional('key_metadata', 131, 'bytes'),
          optional('split_offsets', 132, { type: 'array', items: 'long', 'element-id': 133 }),
          optional('equality_ids', 135, { type: 'array', items: 'int', 'element-id': 136 }),
          optional('sort_order_id', 140, 'int'),
          optional('referenced_data_file', 143, 'string'),
        ],
      }),
    ],
  };
}

/** The `r102` partition record: one optional field per partition field, in spec order. */
export function partitionRecordSchema(partitionFields: readonly ManifestPartitionField[]): AvroSchemaObject {
  const usedTypeNames = new Set<string>();
  const usedFieldNames = new Set<string>();
  return {
    type: 'record',
    name: 'r102',
    fields: partitionFields.map((field) => {
      const avroName = avroCompatibleName(field.name);
      if (usedFieldNames.has(avroName)) {
        throw new ValidationError(`partition fields ${field.name} and another field map to the same Avro name ${avroName}`);
      }
      usedFieldNames.add(avroName);
      const avroField: Record<string, unknown> = optional(
        avroName,
        field.fieldId,
        avroTypeForPrimitive(field.type, usedTypeNames, field.fieldId),
      );
      // Java and pyiceberg keep the original name next to a sanitized one.
      if (avroName !== field.name) avroField['iceberg-field-name'] = field.name;
      return avroField as AvroSchemaObject;
    }),
  };
}

/**
 * The Avro type for an Iceberg primitive (spec Appendix A), with Java's and pyiceberg's names
 * for named types: `fixed_<L>`, `decimal_<P>_<S>`, `uuid_fixed`.
 *
 * Avro forbids defining one name twice in a schema. Java emits a by-name reference for a
 * repeated type, which pyiceberg's schema conversion cannot read ("Type not recognized");
 * pyiceberg repeats the definition, which DuckDB's Avro reader rejects ("Cannot parse file
 * header: Cannot save fixed schema", checked against duckdb 1.5.5) as would Java's
 * Schema.Parser. Readers resolve these types by field id and ignore the fixed's name, so a
 * repeat gets a unique name (`decimal_10_2_1001`) instead: readable by all of them.
 */
export function avroTypeForPrimitive(
  type: PrimitiveType,
  usedTypeNames: Set<string> = new Set(),
  fieldId?: number,
): AvroSchemaJson {
  const uniqueName = (base: string): string => {
    let name = base;
    if (usedTypeNames.has(name)) name = fieldId === undefined ? base : `${base}_${fieldId}`;
    for (let n = 2; usedTypeNames.has(name); n++) name = `${base}_${n}`;
    usedTypeNames.add(name);
    return name;
  };
  switch (type.kind) {
    case 'boolean': return 'boolean';
    case 'int': return 'int';
    case 'long': return 'long';
    case 'float': return 'float';
    case 'double': return 'double';
    case 'string': return 'string';
    case 'binary': return 'bytes';
    case 'date': return { type: 'int', logicalType: 'date' };
    case 'time': return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp': return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz': return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid': return { type: 'fixed', name: uniqueName('uuid_fixed'), size: 16, logicalType: 'uuid' };
    case 'fixed': return { type: 'fixed', name: uniqueName(`fixed_${type.length}`), size: type.length };
    case 'decimal':
      return {
        type: 'fixed',
        name: uniqueName(`decimal_${type.precision}_${type.scale}`),
        size: decimalRequiredBytes(type.precision),
        logicalType: 'decimal',
        precision: type.precision,
        scale: type.scale,
      };
  }
}

/** In-memory value → the Avro value written for a partition field of `type`. */
export function toAvroPartitionValue(type: PrimitiveType, value: PrimitiveValue | null): unknown {
  if (value === null) return null;
  if (type.kind === 'decimal') {
    if (typeof value !== 'bigint') {
      throw new ValueTypeError(`decimal partition value must be the unscaled bigint, got ${typeof value}`);
    }
    return bigintToFixedBytes(value, decimalRequiredBytes(type.precision));
  }
  return value;
}

/** A partition field read back from a manifest's writer schema. */
export interface AvroPartitionFieldReader {
  readonly name: string;
  readonly fieldId: number;
  readonly type: PrimitiveType;
  /** Avro value (as decoded by avro-binary) → in-memory Iceberg value. */
  readonly convert: (avroValue: unknown) => PrimitiveValue | null;
}

const identity = (value: unknown): PrimitiveValue | null => value as PrimitiveValue | null;

/**
 * Derives the Iceberg type of a partition field from its Avro type, plus the value
 * conversion. Accepts what other writers produce: plain `int` for day/month (older Java),
 * `bytes`+decimal, `string`+uuid, and the v3 nanosecond timestamps.
 */
export function partitionFieldFromAvro(
  field: { readonly name: string; readonly type: AvroSchemaJson; readonly [attribute: string]: unknown },
  named: ReadonlyMap<string, AvroSchemaObject>,
): AvroPartitionFieldReader {
  const fieldId = field['field-id'];
  if (typeof fieldId !== 'number') {
    throw new DecodingError(`manifest partition field ${field.name} has no field-id`);
  }
  const originalName = typeof field['iceberg-field-name'] === 'string' ? field['iceberg-field-name'] : field.name;
  let node = resolveSchemaNode(field.type, named);
  if (Array.isArray(node)) {
    const branches = (node as readonly AvroSchemaJson[]).filter((branch) => branch !== 'null');
    if (branches.length !== 1) throw new DecodingError(`partition field ${field.name} has a non-optional union type`);
    node = resolveSchemaNode(branches[0] as AvroSchemaJson, named);
  }
  const { type, convert } = icebergTypeOfAvro(node, field.name);
  return { name: originalName, fieldId, type, convert };
}

function icebergTypeOfAvro(
  node: AvroSchemaJson,
  fieldName: string,
): { type: PrimitiveType; convert: AvroPartitionFieldReader['convert'] } {
  const object = typeof node === 'string' ? undefined : (node as AvroSchemaObject);
  const base = typeof node === 'string' ? node : object?.type;
  const logical = object?.logicalType;
  switch (base) {
    case 'boolean': return { type: { kind: 'boolean' }, convert: identity };
    case 'float': return { type: { kind: 'float' }, convert: identity };
    case 'double': return { type: { kind: 'double' }, convert: identity };
    case 'int':
      return { type: { kind: logical === 'date' ? 'date' : 'int' }, convert: identity };
    case 'long': {
      if (logical === 'time-micros') return { type: { kind: 'time' }, convert: identity };
      if (logical === 'timestamp-micros' || logical === 'timestamp-nanos') {
        // Nanosecond timestamps (v3) keep their bigint value; the kind is only a label here.
        return { type: { kind: object?.['adjust-to-utc'] === true ? 'timestamptz' : 'timestamp' }, convert: identity };
      }
      return { type: { kind: 'long' }, convert: identity };
    }
    case 'string':
      if (logical === 'uuid') {
        return { type: { kind: 'uuid' }, convert: (value) => (value === null ? null : uuidStringToBytes(value as string)) };
      }
      return { type: { kind: 'string' }, convert: identity };
    case 'bytes':
      if (logical === 'decimal') return decimalOf(object as AvroSchemaObject, fieldName);
      return { type: { kind: 'binary' }, convert: identity };
    case 'fixed': {
      const fixedObject = object as AvroSchemaObject;
      if (logical === 'decimal') return decimalOf(fixedObject, fieldName);
      if (logical === 'uuid' && fixedObject.size === 16) return { type: { kind: 'uuid' }, convert: identity };
      return { type: { kind: 'fixed', length: fixedObject.size as number }, convert: identity };
    }
    default:
      throw new DecodingError(`manifest partition field ${fieldName} has unsupported Avro type ${JSON.stringify(node)}`);
  }
}

function decimalOf(
  object: AvroSchemaObject,
  fieldName: string,
): { type: PrimitiveType; convert: AvroPartitionFieldReader['convert'] } {
  const precision = object.precision;
  const scale = object.scale ?? 0;
  if (typeof precision !== 'number' || typeof scale !== 'number') {
    throw new DecodingError(`decimal partition field ${fieldName} lacks precision/scale`);
  }
  const type: PrimitiveType = { kind: 'decimal', precision, scale };
  return {
    type,
    convert: (value) => (value === null ? null : twosComplementBytesToBigint(value as Uint8Array)),
  };
}

function uuidStringToBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new ValidationError(`invalid uuid partition value ${text}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * Java's AvroSchemaUtil.makeCompatibleName (pyiceberg's make_compatible_name matches it):
 * a leading non-letter becomes `_<digit>` or `_x<HEX>`, other invalid characters `_x<HEX>`.
 */
export function avroCompatibleName(name: string): string {
  if (name.length === 0) throw new ValidationError('partition field name must not be empty');
  const isLetter = (c: string): boolean => /\p{L}/u.test(c);
  const isDigit = (c: string): boolean => /\p{Nd}/u.test(c);
  const escapeChar = (c: string): string => (isDigit(c) ? `_${c}` : `_x${c.charCodeAt(0).toString(16).toUpperCase()}`);
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    const valid = c === '_' || isLetter(c) || (i > 0 && isDigit(c));
    out += valid ? c : escapeChar(c);
  }
  return out;
}
