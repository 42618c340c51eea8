// Iceberg's type system (spec "Schemas and Data Types") and the in-memory value form floe
// uses for every Iceberg value. Pure: no I/O.

/** Names of Iceberg's primitive types without parameters (decimal and fixed have their own {@link PrimitiveType} forms). */
export type PrimitiveTypeName =
  | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'date' | 'time'
  | 'timestamp' | 'timestamptz' | 'string' | 'uuid' | 'binary';

/** An Iceberg primitive type: `{ kind: 'long' }`, `{ kind: 'decimal', precision, scale }`, `{ kind: 'fixed', length }`. */
export type PrimitiveType =
  | { readonly kind: PrimitiveTypeName }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'fixed'; readonly length: number };

/** A column (or a struct's field): id, name, required flag and type. */
export interface NestedField {
  /** The field id, unique in the schema; data files refer to columns by it. */
  readonly id: number;
  /** The column name. */
  readonly name: string;
  /** Whether a value is required (a null is refused on write). */
  readonly required: boolean;
  /** The column's type. */
  readonly type: IcebergType;
  /** The column's description. */
  readonly doc?: string;
}

/** A struct: named fields, like a row. */
export interface StructType {
  /** `struct`. */
  readonly kind: 'struct';
  /** The fields, in order. */
  readonly fields: readonly NestedField[];
}
/** A list of elements of one type; the element has its own field id. */
export interface ListType {
  /** `list`. */
  readonly kind: 'list';
  /** `element-id`. */
  readonly elementId: number;
  /** `element-required`: whether elements may be null. */
  readonly elementRequired: boolean;
  /** The element type. */
  readonly element: IcebergType;
}
/** A map from keys to values; key and value have their own field ids. */
export interface MapType {
  /** `map`. */
  readonly kind: 'map';
  /** `key-id`. */
  readonly keyId: number;
  /** The key type (keys are never null). */
  readonly key: IcebergType;
  /** `value-id`. */
  readonly valueId: number;
  /** `value-required`: whether values may be null. */
  readonly valueRequired: boolean;
  /** The value type. */
  readonly value: IcebergType;
}

/** The types with children: struct, list, map. */
export type NestedType = StructType | ListType | MapType;
/** Any Iceberg type: a primitive or a nested type (discriminated by `kind`). */
export type IcebergType = PrimitiveType | NestedType;

/**
 * The in-memory form of one Iceberg value (what transforms, bounds and partition tuples use):
 * boolean → boolean; int, date (days) → number; long, time/timestamp/timestamptz (µs) → bigint;
 * float/double → number; decimal → bigint (the unscaled value); string → string;
 * uuid (16 bytes, big-endian), fixed, binary → Uint8Array.
 */
export type PrimitiveValue = boolean | number | bigint | string | Uint8Array;

export function isPrimitive(t: IcebergType): t is PrimitiveType {
  return t.kind !== 'struct' && t.kind !== 'list' && t.kind !== 'map';
}

export const primitive = (kind: PrimitiveTypeName): PrimitiveType => ({ kind });
export const decimal = (precision: number, scale: number): PrimitiveType => ({ kind: 'decimal', precision, scale });
export const fixed = (length: number): PrimitiveType => ({ kind: 'fixed', length });

/** The spec's JSON string for a primitive type: `long`, `decimal(10,2)`, `fixed[16]`. */
export function primitiveToString(t: PrimitiveType): string {
  switch (t.kind) {
    case 'decimal': return `decimal(${t.precision},${t.scale})`;
    case 'fixed': return `fixed[${t.length}]`;
    default: return t.kind;
  }
}

const PRIMITIVE_NAMES: ReadonlySet<string> = new Set<PrimitiveTypeName>([
  'boolean', 'int', 'long', 'float', 'double', 'date', 'time',
  'timestamp', 'timestamptz', 'string', 'uuid', 'binary',
]);

/** Parses `long`, `decimal(10, 2)`, `fixed[16]`; returns undefined for anything else. */
export function parsePrimitive(text: string): PrimitiveType | undefined {
  const s = text.trim();
  if (PRIMITIVE_NAMES.has(s)) return { kind: s as PrimitiveTypeName };
  const dec = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(s);
  if (dec) {
    const precision = Number(dec[1]);
    const scale = Number(dec[2]);
    if (precision < 1 || precision > 38 || scale > precision) return undefined;
    return { kind: 'decimal', precision, scale };
  }
  const fx = /^fixed\[\s*(\d+)\s*\]$/.exec(s);
  if (fx) {
    const length = Number(fx[1]);
    return length > 0 ? { kind: 'fixed', length } : undefined;
  }
  return undefined;
}

export function typeToString(t: IcebergType): string {
  if (isPrimitive(t)) return primitiveToString(t);
  switch (t.kind) {
    case 'struct': return `struct<${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(', ')}>`;
    case 'list': return `list<${typeToString(t.element)}>`;
    case 'map': return `map<${typeToString(t.key)}, ${typeToString(t.value)}>`;
  }
}


/** Number of bytes of a decimal of precision P stored as a fixed (spec: minimum bytes). */
export function decimalRequiredBytes(precision: number): number {
  for (let bytes = 1; bytes <= 16; bytes++) {
    if (Math.log10(2) * (8 * bytes - 1) >= precision) return bytes;
  }
  return 16;
}
