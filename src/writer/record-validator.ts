// One record checked against a schema, without building columns: what a stream uses to send a
// bad record to its dead-letter path before batching, so the batch itself always converts.
// It runs the converter's own checks — the same primitive parsers (`primitiveParser`) and the
// same shape rules (value-shapes.ts) — record by record; test/integration/ingest-fuzz.test.ts
// holds the two together on mutated records.
import { ValidationError } from '../errors.ts';
import type { PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { PartitionValueError, partitionTupleOf } from './data-file-writer.ts';
import { isPrimitive, type IcebergType, type NestedField } from '../spec/types.ts';
import { RECORD_SHAPE } from './record-converter.ts';
import { primitiveParser } from './value-parsers.ts';
import { asList, asStruct, fieldValue, isInheritedName, knownNames, mapEntries, MISSING_REQUIRED, unknownFieldReason, unknownKey } from './value-shapes.ts';

export interface RecordProblem { readonly field: string; readonly reason: string }

/** Thrown inside a check with the path where it failed; the reason is the parser's. */
class Problem extends ValidationError {
  constructor(readonly field: string, readonly reason: string) { super(reason); }
}

type Check = (v: unknown) => void;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A check of one non-null value of `type` at `path`, built once per schema. */
function compile(type: IcebergType, path: string): Check {
  if (isPrimitive(type)) {
    const parse = primitiveParser(type);
    return (v) => {
      try { parse(v); } catch (err) { throw new Problem(path, reasonOf(err)); }
    };
  }
  switch (type.kind) {
    case 'struct': {
      const fields = compileFields(type.fields, `${path}.`);
      const known = knownNames(type.fields);
      return (v) => {
        let s: Record<string, unknown>;
        try { s = asStruct(v); } catch (err) { throw new Problem(path, reasonOf(err)); }
        fields(s);
        const k = unknownKey(s, known);
        if (k !== undefined) throw new Problem(`${path}.${k}`, unknownFieldReason(`struct '${path}'`, type.fields));
      };
    }
    case 'list': {
      const elementPath = `${path}.element`;
      const element = compile(type.element, elementPath);
      const required = type.elementRequired;
      return (v) => {
        let list: readonly unknown[];
        try { list = asList(v); } catch (err) { throw new Problem(path, reasonOf(err)); }
        for (const e of list) {
          if (e === null || e === undefined) {
            if (required) throw new Problem(elementPath, MISSING_REQUIRED);
          } else element(e);
        }
      };
    }
    case 'map': {
      const keyPath = `${path}.key`;
      const valuePath = `${path}.value`;
      const key = compile(type.key, keyPath);
      const value = compile(type.value, valuePath);
      const required = type.valueRequired;
      return (v) => {
        let entries: readonly (readonly [unknown, unknown])[];
        try { entries = mapEntries(type, v); } catch (err) { throw new Problem(path, reasonOf(err)); }
        for (const [k, val] of entries) {
          if (k === null || k === undefined) throw new Problem(keyPath, MISSING_REQUIRED);
          key(k);
          if (val === null || val === undefined) {
            if (required) throw new Problem(valuePath, MISSING_REQUIRED);
          } else value(val);
        }
      };
    }
  }
}

function compileFields(fields: readonly NestedField[], prefix: string): (rec: Record<string, unknown>) => void {
  const checks = fields.map((f) => ({
    name: f.name, inherited: isInheritedName(f.name), path: `${prefix}${f.name}`, required: f.required, check: compile(f.type, `${prefix}${f.name}`),
  }));
  return (rec) => {
    for (const c of checks) {
      const v = fieldValue(rec, c.name, c.inherited);
      if (v === null || v === undefined) {
        if (c.required) throw new Problem(c.path, MISSING_REQUIRED);
      } else c.check(v);
    }
  };
}

interface RecordCheck { readonly fields: (rec: Record<string, unknown>) => void; readonly known: ReadonlySet<string> }
const compiled = new WeakMap<Schema, RecordCheck>();

/**
 * The first problem that keeps `record` out of the table, or undefined if it fits. With the
 * table's partition fields, the record's partition tuple is computed too, by the writer's own
 * function (an hour partition of a timestamp past year ~246,000 does not fit its int).
 */
export function findRecordProblem(schema: Schema, record: unknown, partitionFields: readonly PartitionFieldType[] = []): RecordProblem | undefined {
  let c = compiled.get(schema);
  if (!c) {
    c = { fields: compileFields(schema.fields, ''), known: knownNames(schema.fields) };
    compiled.set(schema, c);
  }
  let rec: Record<string, unknown>;
  try { rec = asStruct(record, RECORD_SHAPE); } catch (err) { return { field: '(record)', reason: reasonOf(err) }; }
  const k = unknownKey(rec, c.known);
  if (k !== undefined) return { field: k, reason: unknownFieldReason('the table', schema.fields) };
  try {
    c.fields(rec);
  } catch (err) {
    // Any error is the record's problem, never the pipeline's: a value that makes a parser
    // throw something unexpected (or a stack overflow on absurd nesting) is dead-lettered too.
    if (err instanceof Problem) return { field: err.field, reason: err.reason };
    return { field: '(record)', reason: reasonOf(err) };
  }
  if (partitionFields.length > 0) {
    try {
      partitionTupleOf(rec, partitionFields, schema);
    } catch (err) {
      if (err instanceof PartitionValueError) return { field: err.field, reason: err.reason };
      return { field: '(partition)', reason: reasonOf(err) };
    }
  }
  return undefined;
}
