// A table row's key (its Iceberg identifier fields) read from a raw input record, and the one
// canonical string MERGE groups rows by. Pure: no I/O. Which fields may be key fields is checked
// where schemas are built (src/spec/schema.ts); this module only reads and encodes them.
import { ValidationError } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import { primitiveParser, ValueError } from '../writer/value-parsers.ts';
import { fieldValue, isInheritedName } from '../writer/value-shapes.ts';

export type KeyValues = (PrimitiveValue | null)[];

export interface KeyEncoder {
  /** The schema's identifier field ids, in the schema's order: position i of a key tuple. */
  readonly fieldIds: readonly number[];
  readonly types: readonly PrimitiveType[];
  /** Dotted column names of the key fields (`id`, `customer.id`), for messages. */
  readonly names: readonly string[];
  /** The canonical string of a key tuple: equal strings ⇔ equal tuples. */
  encode(values: readonly (PrimitiveValue | null)[]): string;
}

// ---------- encoding ----------
//
// A tuple is its components joined by ','. Each component is a tag and a body:
//   n            null
//   t | f        boolean
//   i<digits>    an integral number or bigint (int, long, date, time, timestamps, decimal's
//                unscaled value): 7 and 7n both give `i7`, so number/bigint never matters
//   d<text>      a non-integral number (String(): the shortest round-trip text; NaN, ±Infinity)
//   s<len>:<s>   a string, with its length in UTF-16 units
//   b<len>:<b>   bytes (uuid, fixed, binary), one latin1 character per byte
// Bodies of n/t/f/i/d never contain ',', and s/b bodies are length-prefixed, so a key string
// splits back into exactly one tuple: the encoding is injective. The last component needs no
// length (it runs to the end of the string), which keeps the common one-column string key at
// one concatenation. Components are tagged by the value's runtime type rather than the column
// type, so even a value of the wrong kind cannot collide with a right one.

function integralText(v: number): string {
  // Beyond 2^53 String() switches to exponent form (1e+21); BigInt's text is exact.
  return Number.isSafeInteger(v) ? `i${v}` : `i${BigInt(v)}`;
}

function bytesText(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
}

/** One component followed by more: strings and bytes carry their length. */
function innerPart(v: PrimitiveValue | null | undefined): string {
  switch (typeof v) {
    case 'bigint': return `i${v}`;
    case 'number': return Number.isInteger(v) ? integralText(v) : `d${v}`;
    case 'string': return `s${v.length}:${v}`;
    case 'boolean': return v ? 't' : 'f';
    default:
      if (v === null || v === undefined) return 'n';
      return `b${v.length}:${bytesText(v)}`;
  }
}

/** The last component: runs to the end of the key, so no length. */
function lastPart(v: PrimitiveValue | null | undefined): string {
  switch (typeof v) {
    case 'string': return `s${v}`;
    case 'object': return v === null ? 'n' : `b${bytesText(v)}`;
    default: return innerPart(v);
  }
}

function encodeTuple(values: readonly (PrimitiveValue | null)[], arity: number): string {
  let out = '';
  for (let i = 0; i < arity - 1; i++) out += `${innerPart(values[i])},`;
  return out + lastPart(values[arity - 1]);
}

interface KeyField { readonly id: number; readonly name: string; readonly type: PrimitiveType; readonly path: readonly string[] }

/** The identifier fields with their paths from the top of a record. */
function keyFieldsOf(schema: Schema): KeyField[] {
  if (schema.identifierFieldIds.length === 0) {
    throw new ValidationError('the table has no identifier fields (identifier-field-ids), so rows have no key to merge on');
  }
  return schema.identifierFieldIds.map((id) => {
    const field = schema.findField(id);
    const name = schema.findColumnName(id) ?? String(id);
    if (!field || !isPrimitive(field.type)) throw new ValidationError(`identifier field ${field ? `'${name}'` : `id ${id}`} is not a primitive column of the schema`);
    const path = [...schema.ancestorIds(id)].reverse().map((a) => schema.findField(a)!.name);
    path.push(field.name);
    return { id, name, type: field.type, path };
  });
}

const encoders = new WeakMap<Schema, KeyEncoder>();

/** The key encoder of a schema's identifier fields (cached per schema). Throws a
 * ValidationError when the schema has no identifier fields. */
export function keyEncoder(schema: Schema): KeyEncoder {
  let e = encoders.get(schema);
  if (e) return e;
  const fields = keyFieldsOf(schema);
  const arity = fields.length;
  const encode = arity === 1
    ? (values: readonly (PrimitiveValue | null)[]): string => lastPart(values[0])
    : (values: readonly (PrimitiveValue | null)[]): string => encodeTuple(values, arity);
  e = { fieldIds: fields.map((f) => f.id), types: fields.map((f) => f.type), names: fields.map((f) => f.name), encode };
  encoders.set(schema, e);
  return e;
}

// ---------- reading a key from a record ----------

type KeyReader = (record: unknown) => KeyValues;

function compileKeyReader(schema: Schema): KeyReader {
  const columns = keyFieldsOf(schema).map((f) => {
    const parse = primitiveParser(f.type) as (v: unknown) => PrimitiveValue;
    const isFloat = f.type.kind === 'float';
    return {
      name: f.name,
      steps: f.path.map((name) => ({ name, inherited: isInheritedName(name) })),
      // float: rounded to 32 bits as stored (parsePrimitiveValue's rule).
      parse: isFloat ? (v: unknown): PrimitiveValue => Math.fround(parse(v) as number) : parse,
    };
  });
  return (record) => {
    const out: KeyValues = new Array<PrimitiveValue | null>(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      let v: unknown = record;
      for (const s of c.steps) {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) { v = undefined; break; }
        v = fieldValue(v as Record<string, unknown>, s.name, s.inherited);
      }
      if (v === null || v === undefined) { out[i] = null; continue; }
      try {
        out[i] = c.parse(v);
      } catch (err) {
        if (err instanceof ValueError) throw new ValidationError(`key field '${c.name}': ${err.message}`);
        throw err;
      }
    }
    return out;
  };
}

const readers = new WeakMap<Schema, KeyReader>();

/**
 * The key fields of a raw input record, parsed as the writer parses them (`primitiveParser`),
 * so "7", 7 and 7n give the same long. A missing field, or one under a missing struct, reads as
 * null (the caller decides what a null key means); a value its type refuses throws a
 * ValidationError naming the key field.
 */
export function keyValuesOfRecord(schema: Schema, record: unknown): KeyValues {
  let r = readers.get(schema);
  if (!r) { r = compileKeyReader(schema); readers.set(schema, r); }
  return r(record);
}
