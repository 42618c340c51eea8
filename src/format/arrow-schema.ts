// Iceberg schema → Arrow schema with `PARQUET:field_id` on every field, nested ones too:
// without ids pyiceberg refuses the file and Trino/DuckDB read the columns as NULL.
import * as arrow from 'apache-arrow';
import type { Schema } from '../spec/schema.ts';
import { isPrimitive, type IcebergType, type NestedField, type PrimitiveType } from '../spec/types.ts';

export const FIELD_ID_KEY = 'PARQUET:field_id';

const idMeta = (id: number): Map<string, string> => new Map([[FIELD_ID_KEY, String(id)]]);

export function arrowPrimitiveType(t: PrimitiveType): arrow.DataType {
  switch (t.kind) {
    case 'boolean': return new arrow.Bool();
    case 'int': return new arrow.Int32();
    case 'long': return new arrow.Int64();
    case 'float': return new arrow.Float32();
    case 'double': return new arrow.Float64();
    case 'decimal': return new arrow.Decimal(t.scale, t.precision, 128);
    case 'date': return new arrow.DateDay();
    case 'time': return new arrow.TimeMicrosecond();
    // arrow-rs writes isAdjustedToUTC=true exactly when the Arrow timezone is set.
    case 'timestamp': return new arrow.TimestampMicrosecond();
    case 'timestamptz': return new arrow.TimestampMicrosecond('UTC');
    case 'string': return new arrow.Utf8();
    case 'uuid': return new arrow.FixedSizeBinary(16);
    case 'fixed': return new arrow.FixedSizeBinary(t.length);
    case 'binary': return new arrow.Binary();
  }
}

export function arrowType(t: IcebergType): arrow.DataType {
  if (isPrimitive(t)) return arrowPrimitiveType(t);
  switch (t.kind) {
    case 'struct': return new arrow.Struct(t.fields.map(arrowField));
    case 'list': return new arrow.List(new arrow.Field('element', arrowType(t.element), !t.elementRequired, idMeta(t.elementId)));
    // biome-ignore lint/suspicious/noExplicitAny: apache-arrow types Map_'s entries field as Field<Struct<any>>
    case 'map': return new arrow.Map_(new arrow.Field<arrow.Struct<any>>('key_value', new arrow.Struct([
      new arrow.Field('key', arrowType(t.key), false, idMeta(t.keyId)),
      new arrow.Field('value', arrowType(t.value), !t.valueRequired, idMeta(t.valueId)),
    // biome-ignore lint/suspicious/noExplicitAny: as above
    ]) as arrow.Struct<any>, false) as never);
  }
}

export function arrowField(f: NestedField): arrow.Field {
  return new arrow.Field(f.name, arrowType(f.type), !f.required, idMeta(f.id));
}

export function arrowSchema(schema: Schema): arrow.Schema {
  return new arrow.Schema(schema.fields.map(arrowField));
}

/** Dotted Parquet column path of every primitive leaf (`tags.list.element`,
 * `attrs.key_value.key`), keyed by field id, as arrow-rs names them. */
export function parquetColumnPaths(schema: Schema): Map<number, string> {
  const out = new Map<number, string>();
  const walk = (t: IcebergType, id: number, p: string): void => {
    if (isPrimitive(t)) { out.set(id, p); return; }
    if (t.kind === 'struct') for (const f of t.fields) walk(f.type, f.id, `${p}.${f.name}`);
    else if (t.kind === 'list') walk(t.element, t.elementId, `${p}.list.element`);
    else { walk(t.key, t.keyId, `${p}.key_value.key`); walk(t.value, t.valueId, `${p}.key_value.value`); }
  };
  for (const f of schema.fields) walk(f.type, f.id, f.name);
  return out;
}
