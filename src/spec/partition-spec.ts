// Partition specs: JSON form, the `day(ts),bucket(16,id)` expression the CLI takes, and the
// partition type (one result type per field) manifests are written with.
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import type { Schema } from './schema.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from './types.ts';
import {
  canTransform, parseTransform, transformResultType, transformToString, type Transform,
} from './transforms.ts';

/** One partition field: a transform of a source column. */
export interface PartitionField {
  /** `source-id`: the field id of the source column. */
  readonly sourceId: number;
  /** `field-id` of the partition field (1000 and up). */
  readonly fieldId: number;
  /** The partition field's name (`ts_day`), also used in data file paths. */
  readonly name: string;
  /** How the source value becomes the partition value. */
  readonly transform: Transform;
}

/** How a table's rows are split into partitions (spec "Partitioning"); no fields = unpartitioned.
 * Build one with {@link parsePartitionExpression}. */
export interface PartitionSpec {
  /** `spec-id`. */
  readonly specId: number;
  /** The partition fields, in order. */
  readonly fields: readonly PartitionField[];
}

/** Partition field ids start at 1000, so a table that never had one records 999 (Java/pyiceberg). */
export const UNPARTITIONED_LAST_ASSIGNED_ID = 999;

export const partitionSpecJson = z.object({
  'spec-id': z.number().int(),
  fields: z.array(z.object({
    'source-id': z.number().int(),
    'field-id': z.number().int(),
    name: z.string(),
    transform: z.string(),
  })),
});

export function partitionSpecFromJson(json: z.infer<typeof partitionSpecJson>): PartitionSpec {
  return {
    specId: json['spec-id'],
    fields: json.fields.map((f) => ({
      sourceId: f['source-id'], fieldId: f['field-id'], name: f.name, transform: parseTransform(f.transform),
    })),
  };
}

export function partitionFieldsToJson(spec: PartitionSpec): Record<string, unknown>[] {
  return spec.fields.map((f) => ({
    name: f.name, transform: transformToString(f.transform), 'source-id': f.sourceId, 'field-id': f.fieldId,
  }));
}

export function partitionSpecToJson(spec: PartitionSpec): Record<string, unknown> {
  return { 'spec-id': spec.specId, fields: partitionFieldsToJson(spec) };
}

export interface PartitionFieldType {
  readonly name: string;
  readonly fieldId: number;
  readonly type: PrimitiveType;
  readonly sourceType: PrimitiveType;
  readonly transform: Transform;
  readonly sourceId: number;
}

/** The spec's partition struct: each field's name, id and transform result type. */
export function partitionType(spec: PartitionSpec, schema: Schema): PartitionFieldType[] {
  return spec.fields.map((f) => {
    const source = schema.findField(f.sourceId);
    if (!source || !isPrimitive(source.type)) {
      throw new ValidationError(`partition field '${f.name}' refers to missing or non-primitive source column id ${f.sourceId}`);
    }
    return {
      name: f.name, fieldId: f.fieldId, sourceId: f.sourceId, transform: f.transform,
      sourceType: source.type, type: transformResultType(f.transform, source.type),
    };
  });
}

/** Java's default partition field names: `ts_day`, `id_bucket_16`, `name_trunc_4`, `x_null`. */
function defaultFieldName(column: string, t: Transform): string {
  switch (t.kind) {
    case 'identity': return column;
    case 'bucket': return `${column}_bucket_${t.n}`;
    case 'truncate': return `${column}_trunc_${t.width}`;
    case 'void': return `${column}_null`;
    default: return `${column}_${t.kind}`;
  }
}

/**
 * Parses `day(ts),bucket(16,id),truncate(4,name),region` into a spec for `schema` (transforms:
 * identity, year, month, day, hour, bucket(N,col), truncate(W,col), void).
 * Field ids are assigned from `lastPartitionId + 1`.
 *
 * @throws {@link ValidationError} for an unknown column or transform, or a transform the
 * column's type does not allow.
 * @example
 * ```ts
 * const spec = parsePartitionExpression('day(ts),bucket(16,customer_id)', schema);
 * await catalog.createTable(id, { schema, spec });
 * ```
 */
export function parsePartitionExpression(expr: string, schema: Schema, specId = 0, lastPartitionId = UNPARTITIONED_LAST_ASSIGNED_ID): PartitionSpec {
  const terms = splitTopLevel(expr);
  const fields: PartitionField[] = [];
  let nextId = lastPartitionId + 1;
  for (const term of terms) {
    const m = /^(\w+)\s*\(\s*(?:(\d+)\s*,\s*)?([\w.]+)\s*\)$/.exec(term);
    let column: string;
    let transform: Transform;
    if (m) {
      const fn = m[1]!.toLowerCase();
      const arg = m[2];
      column = m[3]!;
      if (fn === 'bucket' || fn === 'truncate') {
        if (arg === undefined) throw new ValidationError(`partition term '${term}': ${fn} needs a width, e.g. ${fn}(16, ${column})`);
        try {
          transform = parseTransform(`${fn}[${arg}]`);
        } catch (err) {
          throw new ValidationError(`partition term '${term}': ${err instanceof Error ? err.message : String(err)}`);
        }
      } else if (['identity', 'year', 'month', 'day', 'hour', 'void'].includes(fn) && arg === undefined) {
        transform = parseTransform(fn === 'years' ? 'year' : fn);
      } else {
        throw new ValidationError(`partition term '${term}': unknown transform '${fn}' (identity, bucket(N,col), truncate(W,col), year, month, day, hour, void)`);
      }
    } else if (/^[\w.]+$/.test(term)) {
      column = term;
      transform = { kind: 'identity' };
    } else {
      throw new ValidationError(`partition term '${term}' is not like day(ts), bucket(16,id), truncate(4,name) or a column name`);
    }
    const source = schema.findFieldByName(column);
    if (!source) throw new ValidationError(`partition term '${term}': no column '${column}' in the schema`);
    if (!isPrimitive(source.type) || !canTransform(transform, source.type)) {
      throw new ValidationError(`partition term '${term}': transform ${transformToString(transform)} cannot apply to column '${column}' of type ${isPrimitive(source.type) ? source.type.kind : source.type.kind}`);
    }
    const name = defaultFieldName(column.replaceAll('.', '_'), transform);
    if (fields.some((f) => f.name === name)) throw new ValidationError(`partition term '${term}' repeats partition field '${name}'`);
    fields.push({ sourceId: source.id, fieldId: nextId++, name, transform });
  }
  return { specId, fields };
}

function splitTopLevel(expr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of expr) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out.filter((t) => t !== '');
}

/** A stable text key of a partition tuple (for grouping files by partition). */
export function partitionKey(tuple: readonly (PrimitiveValue | null)[]): string {
  // -0.0 and 0.0 are two values of a float/double identity partition (Java's Double.equals and
  // comparator tell them apart, so does a manifest's partition tuple); String(-0) is '0'.
  return tuple.map((v) => (v === null ? 'N' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : Object.is(v, -0) ? 'number:-0' : `${typeof v}:${String(v)}`)).join('\u0000');
}
