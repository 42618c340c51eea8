// One record checked against a schema, without building columns: what a stream uses to send a
// bad record to its dead-letter path before batching, so the batch itself always converts.
// The checks and messages are the converter's (same value parsers), record by record.
import type { Schema } from '../spec/schema.ts';
import { isPrimitive, type IcebergType, type NestedField } from '../spec/types.ts';
import { parsePrimitiveValue, ValueError } from './value-parsers.ts';

export interface RecordProblem { readonly field: string; readonly reason: string }

function checkValue(type: IcebergType, v: unknown, path: string): RecordProblem | undefined {
  try {
    if (isPrimitive(type)) { parsePrimitiveValue(type, v); return undefined; }
    if (type.kind === 'struct') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return { field: path, reason: `expected struct (object), got ${Array.isArray(v) ? 'array' : typeof v}` };
      return checkFields(type.fields, v as Record<string, unknown>, `${path}.`);
    }
    if (type.kind === 'list') {
      if (!Array.isArray(v)) return { field: path, reason: `expected list (array), got ${typeof v}` };
      for (const e of v) {
        if (e === null || e === undefined) {
          if (type.elementRequired) return { field: `${path}.element`, reason: 'required value is missing (null)' };
          continue;
        }
        const p = checkValue(type.element, e, `${path}.element`);
        if (p) return p;
      }
      return undefined;
    }
    const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()]
      : Array.isArray(v) ? (v as [unknown, unknown][])
        : typeof v === 'object' && v !== null ? Object.entries(v) : [];
    if (typeof v !== 'object' || v === null) return { field: path, reason: `expected map (object), got ${typeof v}` };
    for (const [k, val] of entries) {
      const pk = checkValue(type.key, k, `${path}.key`);
      if (pk) return pk;
      if (val === null || val === undefined) {
        if (type.valueRequired) return { field: `${path}.value`, reason: 'required value is missing (null)' };
        continue;
      }
      const pv = checkValue(type.value, val, `${path}.value`);
      if (pv) return pv;
    }
    return undefined;
  } catch (err) {
    if (err instanceof ValueError) return { field: path, reason: err.message };
    throw err;
  }
}

function checkFields(fields: readonly NestedField[], rec: Record<string, unknown>, prefix: string): RecordProblem | undefined {
  for (const k in rec) {
    if (!fields.some((f) => f.name === k)) return { field: `${prefix}${k}`, reason: 'unknown column' };
  }
  for (const f of fields) {
    const v = rec[f.name];
    if (v === null || v === undefined) {
      if (f.required) return { field: `${prefix}${f.name}`, reason: 'required value is missing (null)' };
      continue;
    }
    const p = checkValue(f.type, v, `${prefix}${f.name}`);
    if (p) return p;
  }
  return undefined;
}

/** The first problem that keeps `record` out of the table, or undefined if it fits. */
export function findRecordProblem(schema: Schema, record: unknown): RecordProblem | undefined {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { field: '(record)', reason: `expected an object, got ${Array.isArray(record) ? 'array' : record === null ? 'null' : typeof record}` };
  }
  return checkFields(schema.fields, record as Record<string, unknown>, '');
}
