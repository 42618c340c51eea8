// The shapes nested values must have (struct: a plain object, list: an array, map: an object,
// a Map or [key, value] pairs) and the rules on their members (no unknown fields, no duplicate
// map keys, required means not null). The converter and the validator both call these, so a
// record the validator passes is one the converter takes.
import type { IcebergType, MapType, NestedField } from '../spec/types.ts';
import { isPrimitive } from '../spec/types.ts';
import { describe, fail, primitiveParser, ValueError } from './value-parsers.ts';

export const MISSING_REQUIRED = 'required value is missing (null)';

/** A struct value: a plain object (not an array, Map, Date or byte array). */
export function asStruct(v: unknown, expected = 'struct (object)'): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array || v instanceof Map || v instanceof Date) return fail(expected, v);
  return v as Record<string, unknown>;
}

/** True for field names an object inherits (`constructor`, `toString`…): those are read as own
 * properties only, so an absent one reads as null, not as Object.prototype's function. */
export function isInheritedName(name: string): boolean {
  return name in Object.prototype;
}

/** A struct member by name (`inherited` from isInheritedName, computed once per field). */
export function fieldValue(obj: Record<string, unknown>, name: string, inherited: boolean): unknown {
  if (!inherited) return obj[name];
  return  Object.hasOwn(obj, name) ? obj[name] : undefined;
}

/** The first key of `obj` that is not one of `fields`, if any. */
export function unknownKey(obj: Record<string, unknown>, known: ReadonlySet<string>): string | undefined {
  for (const k in obj) if (!known.has(k)) return k;
  return undefined;
}

export function asList(v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) return fail('list (array)', v);
  return v;
}

/** A key's identity for the duplicate check: its parsed value when the key type is primitive
 * (so 1 and "1" in an int-keyed map are the same key), else its JSON text. */
function keyIdentity(type: IcebergType, k: unknown): unknown {
  if (isPrimitive(type)) {
    let x: unknown;
    try { x = primitiveParser(type)(k); } catch { return undefined; } // the key column reports it
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
    return typeof x === 'number' && Object.is(x, -0) ? 0 : x;
  }
  try {
    return JSON.stringify(k, (_key, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return undefined;
  }
}

/**
 * A map value's entries: from a Map, a plain object, or an array of [key, value] pairs. Refuses
 * any other shape, and duplicate keys (Iceberg maps have unique keys; readers keep one or fail).
 */
export function mapEntries(type: MapType, v: unknown): readonly (readonly [unknown, unknown])[] {
  let entries: (readonly [unknown, unknown])[];
  if (v instanceof Map) entries = [...v.entries()];
  else if (Array.isArray(v)) {
    for (const e of v) {
      if (!Array.isArray(e) || e.length !== 2) {
        throw new ValueError(`expected map as an object, a Map or an array of [key, value] pairs, got array with element ${describe(e)}`);
      }
    }
    entries = v as [unknown, unknown][];
  } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    entries = Object.entries(v);
  } else {
    return fail('map (object)', v);
  }
  if (entries.length > 1) {
    const seen = new Set<unknown>();
    for (const [k] of entries) {
      if (k === null || k === undefined) continue; // the key column reports a null key
      const id = keyIdentity(type.key, k);
      if (id === undefined) continue;
      if (seen.has(id)) throw new ValueError(`map has duplicate key ${describe(k)}`);
      seen.add(id);
    }
  }
  return entries;
}

export function knownNames(fields: readonly NestedField[]): ReadonlySet<string> {
  return new Set(fields.map((f) => f.name));
}

/** The reason for an unknown key: `where` is "the table" or "struct 'path'". */
export function unknownFieldReason(where: string, fields: readonly NestedField[]): string {
  const names = fields.map((f) => f.name).join(', ');
  return `unknown ${where === 'the table' ? 'column' : 'field'} (${where} has ${names.length > 200 ? `${names.slice(0, 197)}...` : names})`;
}
